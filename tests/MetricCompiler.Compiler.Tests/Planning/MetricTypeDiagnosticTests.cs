using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Planning;

/// <summary>
/// Every diagnostic of the retention, sessions and percentile metric types, each at the key that is wrong: the line
/// and column of its value (or of the metric when a key is missing), with its stable code.
/// </summary>
public sealed class MetricTypeDiagnosticTests
{
    private const string Header = """
        version: 1
        name: shop
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: session_id, type: string}
              - {name: page_load_ms, type: number}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - {name: page_views, source: events, agg: count}

        """;

    /// <summary>The single error of a project with <paramref name="metrics"/> added, and where <paramref name="at"/> is in its text.</summary>
    private static (Diagnostic Error, int Line, int Column) Single(string metrics, string at, string? extra = null)
    {
        var text = Header + metrics + (extra ?? "");
        using var project = new TempProject(("metrics.yml", text));
        var load = project.Load();
        var error = Assert.Single(load.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains(at, StringComparison.Ordinal));
        Assert.True(line >= 0, $"`{at}` is not in the project");
        return (error, line + 1, lines[line].IndexOf(at, StringComparison.Ordinal) + 1);
    }

    private static void AssertAt(string metrics, string at, string code, string? message = null, string? extra = null)
    {
        var (error, line, column) = Single(metrics, at, extra);
        Assert.Equal(code, error.Code);
        Assert.Equal("metrics.yml", error.Location.File);
        Assert.Equal((line, column), (error.Location.Line, error.Location.Column));
        Assert.NotNull(error.Hint);
        if (message is not null)
            Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Retention_with_both_day_keys_is_mc3007_at_return_within() =>
        AssertAt("""
              - name: r
                type: retention
                source: events
                return_on: day 7
                return_within: [1, 7]
            """, "[1, 7]", "MC3007", "either `return_on` or `return_within`");

    [Fact]
    public void Retention_without_days_is_mc1004_at_the_metric() =>
        AssertAt("""
              - name: r_missing
                type: retention
                source: events
            """, "name: r_missing", "MC1004", "`return_on` or `return_within`");

    [Fact]
    public void Retention_day_that_is_no_number_is_mc1005_at_return_on() =>
        AssertAt("""
              - name: r
                type: retention
                source: events
                return_on: day seven
            """, "day seven", "MC1005", "not a day number");

    [Fact]
    public void Retention_days_in_the_wrong_order_are_mc1005_at_return_within() =>
        AssertAt("""
              - name: r
                type: retention
                source: events
                return_within: [7, 1]
            """, "[7, 1]", "MC1005", "the first no later than the second");

    [Fact]
    public void Sessions_gap_that_is_no_duration_is_mc1005_at_gap() =>
        AssertAt("""
              - name: s
                type: sessions
                source: events
                measure: count
                gap: 30 parsecs
            """, "30 parsecs", "MC1005", "not an inactivity gap");

    [Fact]
    public void Sessions_unknown_session_id_column_is_mc2004_with_a_suggestion() =>
        AssertAt("""
              - name: s
                type: sessions
                source: events
                measure: bounce_rate
                session_id: sesion_id
            """, "sesion_id", "MC2004", "not a column of source `events`");

    [Fact]
    public void Sessions_with_session_id_and_gap_is_mc3007_at_gap() =>
        AssertAt("""
              - name: s
                type: sessions
                source: events
                measure: count
                session_id: session_id
                gap: 10 minutes
            """, "10 minutes", "MC3007", "either `session_id` or `gap`");

    [Fact]
    public void Percentile_without_its_fraction_is_mc1004_at_agg() =>
        AssertAt("""
              - name: p
                source: events
                agg: percentile
                expr: page_load_ms
            """, "percentile", "MC1004", "needs `percentile`");

    [Fact]
    public void Percentile_outside_zero_to_one_is_mc1005_at_percentile() =>
        AssertAt("""
              - name: p
                source: events
                agg: percentile
                percentile: 95
                expr: page_load_ms
            """, "95", "MC1005", "between 0 and 1");

    [Fact]
    public void Percentile_on_another_aggregation_is_mc3007_at_percentile() =>
        AssertAt("""
              - name: p
                source: events
                agg: average
                percentile: 0.5
                expr: page_load_ms
            """, "0.5", "MC3007", "belongs to `agg: percentile`");

    [Fact]
    public void Cumulative_of_a_percentile_is_mc3007_at_its_metric() =>
        AssertAt("""
              - {name: p95, source: events, agg: percentile, percentile: 0.95, expr: page_load_ms}
              - {name: p95_week, type: cumulative, metric: p95, window: 7 days}
            """, "p95, window", "MC3007", "is a percentile");

    [Fact]
    public void A_percentile_in_an_experiment_needs_a_level_strictly_between_0_and_1_and_no_cap()
    {
        const string Experiment = """
            experiments:
              - id: x
                exposure: {source: exposures, variant_column: variant}
                variants:
                  - {name: control, weight: 0.5, control: true}
                  - {name: treatment, weight: 0.5}
                start: 2026-01-05
                end: 2026-01-18
                metrics:
                  primary: [page_views]
                  secondary: [max_load]

            """;
        AssertAt("""
              - {name: max_load, source: events, agg: percentile, percentile: 1, expr: page_load_ms}

            """, "max_load]", "MC3007", "the percentile 1, which an experiment cannot compare", Experiment);
        var (error, _, _) = Single("""
              - {name: max_load, source: events, agg: percentile, percentile: 1, expr: page_load_ms}

            """, "max_load]", Experiment);
        Assert.Contains("strictly between 0 and 1", error.Hint);
        AssertAt("""
              - {name: max_load, source: events, agg: percentile, percentile: 0.95, expr: page_load_ms, cap: {value: 9}}

            """, "{value: 9}", "MC3007", "a percentile cannot be capped");

        using var accepted = new TempProject(("metrics.yml", Header + """
              - {name: max_load, source: events, agg: percentile, percentile: 0.95, expr: page_load_ms}

            """ + Experiment));
        var load = accepted.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
    }

    [Fact]
    public void Retention_and_sessions_metrics_are_accepted_in_an_experiment()
    {
        using var project = new TempProject(("metrics.yml", Header + """
              - {name: d1, type: retention, source: events, return_on: day 1}
              - {name: bounce, type: sessions, source: events, measure: bounce_rate}
            experiments:
              - id: x
                exposure: {source: exposures, variant_column: variant}
                variants:
                  - {name: control, weight: 0.5, control: true}
                  - {name: treatment, weight: 0.5}
                start: 2026-01-05
                end: 2026-01-18
                metrics:
                  primary: [d1]
                  secondary: [bounce]
            """));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var unitMetrics = PlanCompiler.Compile(Planner.Plan(load.Bound!), SqlDialects.ForAdapter("postgres")).Single(c => c.Node.Name == "exp_x__unit_metrics").Sql!;
        Assert.Contains("e.occurred_at >= x.first_exposure_at + interval '1 days'", unitMetrics);   // day 1 after exposure
        Assert.Contains("e.session_start >= x.first_exposure_at", unitMetrics);                     // sessions from exposure on
        Assert.Contains("bounce__bounced", unitMetrics);
    }

    [Fact]
    public void A_percentile_for_sqlite_is_mc2009_at_the_percentile_metric_through_a_derived_metric()
    {
        var text = Header + """
              - name: p95_load
                source: events
                agg: percentile
                percentile: 0.95
                expr: page_load_ms
              - {name: p95_seconds, type: derived, expr: p95_load / 1000}
            """;
        using var project = new TempProject(("metrics.yml", text));
        var lines = text.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("agg: percentile", StringComparison.Ordinal));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var derived = load.Bound!.FindMetric("p95_seconds")!;
        var error = Assert.Single(EngineSupport.Check([derived], SqliteDialect.Instance, "query"));
        Assert.Equal("MC2009", error.Code);
        Assert.Equal(("metrics.yml", line + 1, lines[line].IndexOf("percentile", StringComparison.Ordinal) + 1), (error.Location.File, error.Location.Line, error.Location.Column));
        Assert.Contains("an input of `p95_seconds`", error.Message);
        Assert.NotNull(error.Hint);
        foreach (var dialect in SqlDialects.All.Where(d => d.Name != "sqlite"))
            Assert.Empty(EngineSupport.Check([derived], dialect, "query"));
    }

    [Fact]
    public void Derived_rows_read_the_staging_node_the_planner_names()
    {
        using var project = new TempProject(("metrics.yml", Header));
        var source = project.Load().Bound!.Sources.Single(s => s.Name == "events");
        Assert.Equal(NodeNames.Staging("events"), Core.Metrics.StagedRows.Of(source).Node);
    }
}
