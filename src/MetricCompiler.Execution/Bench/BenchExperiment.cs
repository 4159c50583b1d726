using System.Globalization;
using System.Text;

namespace MetricCompiler.Execution.Bench;

/// <summary>How a benchmark metric aggregates a user's events after first exposure.</summary>
public enum BenchAggregation
{
    Count,
    Proportion,
    Sum,
    Average,
}

/// <summary>One of the twenty metrics of the benchmark's experiment: a filter over the demo's raw events and an aggregation.</summary>
/// <param name="Filter">A predicate over <c>raw_events</c> columns, valid both in metric YAML and in plain SQL; null for every event.</param>
/// <param name="Expression">The summed or averaged column; null for counts and proportions.</param>
public sealed record BenchMetric(string Name, BenchAggregation Aggregation, string? Filter, string? Expression = null);

/// <summary>
/// The analysis that <c>metricc bench run</c> times: an experiment on the demo's <c>homepage_cta</c> exposures with
/// twenty metrics (written into the scratch copy of the demo as <c>models/bench/bench_twenty.yml</c>), and the same
/// twenty metrics computed the naive way: one plain SQL query per metric, each joining the raw events to the first
/// exposures, as a hand-written template project does.
/// </summary>
public static class BenchExperiment
{
    public const string Id = "bench_twenty";

    /// <summary>The exposures and window are <c>homepage_cta</c>'s (2026-01-05 .. 2026-01-18 inclusive).</summary>
    public const string ExposureExperiment = "homepage_cta";

    public const string WindowStart = "2026-01-05";

    /// <summary>The first day after the window: events before it count.</summary>
    public const string WindowEndExclusive = "2026-01-19";

    public const string WindowEnd = "2026-01-18";

    public static IReadOnlyList<BenchMetric> Metrics { get; } =
    [
        new("bench_purchased", BenchAggregation.Proportion, "event_type = 'purchase'"),
        new("bench_purchases", BenchAggregation.Count, "event_type = 'purchase'"),
        new("bench_revenue", BenchAggregation.Sum, "event_type = 'purchase'", "revenue"),
        new("bench_order_value", BenchAggregation.Average, "event_type = 'purchase'", "revenue"),
        new("bench_large_orders", BenchAggregation.Count, "event_type = 'purchase' and revenue >= 100"),
        new("bench_large_order_revenue", BenchAggregation.Sum, "event_type = 'purchase' and revenue >= 100", "revenue"),
        new("bench_page_views", BenchAggregation.Count, "event_type = 'page_view'"),
        new("bench_viewed", BenchAggregation.Proportion, "event_type = 'page_view'"),
        new("bench_page_load_time", BenchAggregation.Average, "event_type = 'page_view'", "page_load_ms"),
        new("bench_page_load_total", BenchAggregation.Sum, "event_type = 'page_view'", "page_load_ms"),
        new("bench_slow_page_views", BenchAggregation.Count, "event_type = 'page_view' and page_load_ms >= 2000"),
        new("bench_slow_page_viewed", BenchAggregation.Proportion, "event_type = 'page_view' and page_load_ms >= 2000"),
        new("bench_clicks", BenchAggregation.Count, "event_type = 'click'"),
        new("bench_clicked", BenchAggregation.Proportion, "event_type = 'click'"),
        new("bench_home_clicks", BenchAggregation.Count, "event_type = 'click' and page = '/home'"),
        new("bench_errors", BenchAggregation.Count, "event_type = 'error'"),
        new("bench_errored", BenchAggregation.Proportion, "event_type = 'error'"),
        new("bench_signed_up", BenchAggregation.Proportion, "event_type = 'sign_up'"),
        new("bench_events", BenchAggregation.Count, null),
        new("bench_active", BenchAggregation.Proportion, null),
    ];

    /// <summary>The node whose ancestors are the whole analysis: <c>--select +exp_bench_twenty__statistics</c>.</summary>
    public static string AnalysisSelector => $"+exp_{Id}__statistics";

    /// <summary>The metrics and the experiment, as project YAML (no CUPED and no segments: the naive way has neither).</summary>
    public static string Yaml()
    {
        var yaml = new StringBuilder();
        yaml.Append("# Written by `metricc bench run`: the twenty-metric experiment it times (Execution/Bench/BenchExperiment.cs).\n");
        yaml.Append("metrics:\n");
        foreach (var metric in Metrics)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: {metric.Name}\n");
            yaml.Append("    source: events\n");
            yaml.Append(CultureInfo.InvariantCulture, $"    agg: {metric.Aggregation.ToString().ToLowerInvariant()}\n");
            if (metric.Expression is not null)
                yaml.Append(CultureInfo.InvariantCulture, $"    expr: {metric.Expression}\n");
            if (metric.Filter is not null)
                yaml.Append(CultureInfo.InvariantCulture, $"    filter: \"{metric.Filter}\"\n");
        }

        yaml.Append("experiments:\n");
        yaml.Append(CultureInfo.InvariantCulture, $"  - id: {Id}\n");
        yaml.Append("    name: Benchmark, twenty metrics\n");
        yaml.Append("    exposure:\n      source: exposures\n      variant_column: variant\n");
        yaml.Append(CultureInfo.InvariantCulture, $"      filter: experiment_id = '{ExposureExperiment}'\n");
        yaml.Append("    variants:\n");
        yaml.Append("      - {name: control, weight: 0.5, control: true}\n");
        yaml.Append("      - {name: treatment, weight: 0.5}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"    start: {WindowStart}\n    end: {WindowEnd}\n");
        yaml.Append("    metrics:\n");
        yaml.Append(CultureInfo.InvariantCulture, $"      primary: [{Metrics[0].Name}]\n");
        yaml.Append(CultureInfo.InvariantCulture, $"      secondary: [{string.Join(", ", Metrics.Skip(1).Select(m => m.Name))}]\n");
        yaml.Append("    analysis: {alpha: 0.05, correction: holm, cuped: false}\n");
        yaml.Append("    tags: [bench]\n");
        return yaml.ToString();
    }

    /// <summary>
    /// The naive query for one metric: first exposures (each user's earliest exposure in the window, users logged in
    /// more than one variant left out as ours does), the raw events joined to them (no de-duplication, as a template
    /// project does), one value per exposed user, then the
    /// per-variant count, sum and sum of squares. Portable across DuckDB, SQLite and PostgreSQL: the timestamps are
    /// compared as the demo writes them.
    /// </summary>
    public static string NaiveSql(BenchMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var on = metric.Filter is null ? "" : $" AND ({Qualify(metric.Filter)})";
        var value = metric.Aggregation switch
        {
            BenchAggregation.Count => "COUNT(ev.event_id)",
            BenchAggregation.Proportion => "MAX(CASE WHEN ev.event_id IS NOT NULL THEN 1 ELSE 0 END)",
            BenchAggregation.Sum => $"COALESCE(SUM(ev.{metric.Expression}), 0)",
            BenchAggregation.Average => $"AVG(ev.{metric.Expression})",
            _ => throw new ArgumentOutOfRangeException(nameof(metric)),
        };
        return $"""
            -- {metric.Name}, the naive way: one query per metric, joined to first exposures
            WITH first_exposure AS (
              SELECT user_id, MIN(variant) AS variant, MIN(exposed_at) AS first_exposed_at
              FROM raw_exposures
              WHERE experiment_id = '{ExposureExperiment}' AND exposed_at >= '{WindowStart}' AND exposed_at < '{WindowEndExclusive}'
              GROUP BY user_id
              HAVING COUNT(DISTINCT variant) = 1
            ),
            per_user AS (
              SELECT fe.user_id, fe.variant, {value} AS value
              FROM first_exposure fe
              LEFT JOIN raw_events ev ON ev.user_id = fe.user_id AND ev.occurred_at >= fe.first_exposed_at AND ev.occurred_at < '{WindowEndExclusive}'{on}
              GROUP BY fe.user_id, fe.variant
            )
            SELECT variant, COUNT(value) AS units, SUM(value) AS total, SUM(value * value) AS total_squares
            FROM per_user
            GROUP BY variant
            ORDER BY variant
            """;
    }

    /// <summary>The floor: one full scan of the events table, a single aggregate query (it reads every row of two columns).</summary>
    public const string FloorSql = "SELECT COUNT(*) AS events, SUM(LENGTH(user_id)) AS id_chars, MAX(occurred_at) AS last_event FROM raw_events";

    private static string Qualify(string filter)
    {
        var text = filter;
        foreach (var column in new[] { "event_type", "revenue", "page_load_ms", "page" })
            text = System.Text.RegularExpressions.Regex.Replace(text, $@"(?<![\w.']){column}(?![\w'])", "ev." + column);
        return text;
    }
}
