using System.Globalization;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// <c>agg: percentile</c> per day on DuckDB and PostgreSQL against linear interpolation computed in C#: an even count,
/// ties, a single value, the 0th and 100th percentiles, a filter that excludes a large value, null values, and a day
/// without qualifying rows. SQLite has no percentile aggregate: a query or a materialization for it is MC2009 at the
/// metric's <c>agg</c>.
/// </summary>
public sealed class PercentileMetricTests : IClassFixture<PercentileMetricTests.Data>
{
    public sealed record Load(string Day, string Type, double? Ms);

    private static readonly Load[] Loads =
    [
        new("2026-03-02", "page_view", 400), new("2026-03-02", "page_view", 100), new("2026-03-02", "page_view", 300),
        new("2026-03-02", "page_view", 200), new("2026-03-02", "click", 9999), new("2026-03-02", "page_view", null),
        new("2026-03-03", "page_view", 5), new("2026-03-03", "page_view", 10), new("2026-03-03", "page_view", 5), new("2026-03-03", "page_view", 5),
        new("2026-03-04", "page_view", 7),
        new("2026-03-05", "click", 50),
    ];

    private static readonly (string Name, double Fraction)[] Metrics = [("p50_load", 0.5), ("p95_load", 0.95), ("p0_load", 0), ("p100_load", 1)];

    public static TheoryData<string> Engines => ["duckdb", "postgres"];

    public sealed class Data : IDisposable
    {
        public EngineProject Project { get; } = new("""
            sources:
              - name: events
                table: raw_events
                entity: user_id
                event_time: occurred_at
                unique_key: event_id
                columns:
                  - {name: event_id, type: string}
                  - {name: user_id, type: string}
                  - {name: event_type, type: string}
                  - {name: occurred_at, type: timestamp}
                  - {name: page_load_ms, type: number}
            metrics:
              - name: p50_load
                source: events
                agg: percentile
                percentile: 0.5
                expr: page_load_ms
                filter: event_type = 'page_view'
              - name: p95_load
                source: events
                agg: percentile
                percentile: 0.95
                expr: page_load_ms
                filter: event_type = 'page_view'
                materialize: {grain: day}
              - {name: p0_load, source: events, agg: percentile, percentile: 0, expr: page_load_ms, filter: "event_type = 'page_view'"}
              - {name: p100_load, source: events, agg: percentile, percentile: 1, expr: page_load_ms, filter: "event_type = 'page_view'"}
            """,
            new RawTable("raw_events",
                [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at"), EngineProject.Number("page_load_ms")],
                Loads.Select((l, i) => new object?[] { $"e{i:D2}", $"u{i % 3}", l.Type, $"{l.Day} {10 + i}:00:00", l.Ms }).ToList()));

        public Data()
        {
            foreach (var engine in new[] { "duckdb", "postgres" })
                Project.Build(engine);
        }

        public void Dispose() => Project.Dispose();
    }

    private readonly Data _data;

    public PercentileMetricTests(Data data) => _data = data;

    /// <summary>Linear interpolation between the closest ranks (what percentile_cont and quantile_cont compute).</summary>
    private static double? Interpolated(IReadOnlyList<double> values, double fraction)
    {
        if (values.Count == 0)
            return null;
        var sorted = values.Order().ToList();
        var h = (sorted.Count - 1) * fraction;
        var low = (int)Math.Floor(h);
        return low + 1 >= sorted.Count ? sorted[low] : sorted[low] + (h - low) * (sorted[low + 1] - sorted[low]);
    }

    private static readonly string[] Days = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"];

    private static List<double?> Expected(double fraction) =>
        Days.Select(d => Interpolated(Loads.Where(l => l.Day == d && l.Type == "page_view" && l.Ms is not null).Select(l => l.Ms!.Value).ToList(), fraction)).ToList();

    [Fact]
    public void The_reference_interpolates()
    {
        Assert.Equal([250, 5, 7, null], Expected(0.5));
        Assert.Equal(385, Expected(0.95)[0]!.Value, 9);      // 300 + 0.85 * (400 - 300)
        Assert.Equal(9.25, Expected(0.95)[1]!.Value, 9);     // ties: 5 + 0.85 * (10 - 5)
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Percentiles_per_day_match_linear_interpolation(string engine)
    {
        var result = _data.Project.Query(engine, new MetricQuery(Metrics.Select(m => m.Name).ToList(), ["metric_time"]));
        Assert.Equal(Days, EngineProject.Keys(result, "metric_time__day").Select(k => k![..10]));
        foreach (var (name, fraction) in Metrics)
            EngineProject.Close(Expected(fraction), EngineProject.Column(result, name), $"{engine} {name}");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_materialized_table_holds_the_same_percentiles(string engine)
    {
        var rows = _data.Project.Rows(engine, "select metric_date, metric_value from fct_p95_load order by metric_date");
        EngineProject.Close(Expected(0.95), rows.Select(r => r["metric_value"] is null ? (double?)null : Convert.ToDouble(r["metric_value"], CultureInfo.InvariantCulture)).ToList(),
            $"{engine} fct_p95_load");
    }

    [Fact]
    public void Sqlite_refuses_a_percentile_query_at_the_metric()
    {
        var error = Assert.Throws<CompilationException>(() => _data.Project.Query("sqlite", new MetricQuery(["p50_load"], ["metric_time"])));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("MC2009", diagnostic.Code);
        Assert.Equal("metrics.yml", Path.GetFileName(diagnostic.Location.File));
        var lines = File.ReadAllLines(Path.Combine(_data.Project.Root, "metrics.yml"));
        var line = Array.FindIndex(lines, l => l.Contains("agg: percentile", StringComparison.Ordinal));
        Assert.Equal(line + 1, diagnostic.Location.Line);
        Assert.Equal(lines[line].IndexOf("percentile", StringComparison.Ordinal) + 1, diagnostic.Location.Column);
    }

    [Fact]
    public void Sqlite_refuses_to_build_a_materialized_percentile()
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_data.Project.Root, "sqlite"));
        Assert.NotEqual(0, outcome.ExitCode);
        var diagnostic = Assert.Single(outcome.Diagnostics, d => d.Code == "MC2009");
        Assert.Contains("p95_load", diagnostic.Message);
        Assert.Contains("materialize", diagnostic.Message);
    }
}
