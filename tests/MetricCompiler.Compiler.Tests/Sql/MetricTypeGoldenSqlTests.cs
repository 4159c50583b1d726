using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Compiler.Tests.Sql;

/// <summary>
/// The SQL of retention, sessions and percentile metrics for the engines the suite cannot execute (Trino, Snowflake),
/// against files committed under Golden/metric_types/: a cohort query in a non-UTC zone, sessions by gap (window
/// functions, seconds between), a percentile, and an experiment's unit metrics with a retention and a sessions metric.
/// Regenerate with <c>METRICC_UPDATE_GOLDEN=1</c> and review the diff.
/// </summary>
public sealed class MetricTypeGoldenSqlTests
{
    private static readonly string Folder = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "metric_types");

    private const string Project = """
        version: 1
        name: shop
        time_zone: Europe/Berlin
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            columns:
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
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
          - {name: d7_retention, type: retention, source: events, cohort_filter: "event_type = 'sign_up'", return_within: [1, 7]}
          - {name: sessions_per_user, type: sessions, source: events, measure: count, gap: 30 minutes}
          - {name: session_seconds, type: sessions, source: events, measure: duration}
          - {name: p95_page_load, source: events, agg: percentile, percentile: 0.95, expr: page_load_ms, filter: "event_type = 'page_view'"}
        experiments:
          - id: x
            exposure: {source: exposures, variant_column: variant}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [d7_retention]
              secondary: [sessions_per_user, session_seconds]
        """;

    public static TheoryData<string> Dialects => ["trino", "snowflake"];

    [Theory]
    [MemberData(nameof(Dialects))]
    public void New_nodes_are_spelled_as_committed(string dialectName)
    {
        using var project = new TempProject(("metrics.yml", Project));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var dialect = SqlDialects.ForAdapter(dialectName);
        var query = QueryPlanner.Plan(load.Bound!, new MetricQuery(["d7_retention", "sessions_per_user", "session_seconds", "p95_page_load"], ["metric_time__week"]));
        var files = new Dictionary<string, string>
        {
            [$"{dialectName}_query.sql"] = SqlRenderer.ForReview(dialect).Render(query.Query),
            [$"{dialectName}_unit_metrics.sql"] = PlanCompiler.Compile(Planner.Plan(load.Bound!), dialect).Single(c => c.Node.Name == "exp_x__unit_metrics").Sql!,
        };
        foreach (var (name, sql) in files)
        {
            var path = Path.Combine(Folder, name);
            if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
            {
                Directory.CreateDirectory(Folder);
                File.WriteAllText(path, sql);
            }

            Assert.True(File.Exists(path), $"no golden file {name}; run METRICC_UPDATE_GOLDEN=1");
            Assert.True(File.ReadAllText(path) == sql, $"{name} differs from the golden file");
        }
    }

    [Fact]
    public void Each_engine_spells_the_new_nodes_its_own_way()
    {
        string Sql(string dialect) => File.ReadAllText(Path.Combine(Folder, $"{dialect}_query.sql"));
        Assert.Contains("approx_percentile(case when e.event_type = 'page_view' then cast(e.page_load_ms as double) end, 0.95)", Sql("trino"));
        Assert.Contains("percentile_cont(0.95) within group (order by case when e.event_type = 'page_view' then cast(e.page_load_ms as double) end)", Sql("snowflake"));
        Assert.Contains("cast(date_diff('millisecond', previous_at, occurred_at) as double) / 1000 >= 1800", Sql("trino"));
        Assert.Contains("cast(datediff(millisecond, previous_at, occurred_at) as double) / 1000 >= 1800", Sql("snowflake"));
        Assert.Contains("lag(e.occurred_at) over (partition by e.user_id order by e.occurred_at nulls last) as previous_at", Sql("trino"));
        Assert.Contains("date_diff('day', cast(date_trunc('day', cast(with_timezone(c.cohort_at, 'UTC') at time zone 'Europe/Berlin' as timestamp(3))) as date)", Sql("trino"));
        Assert.Contains("datediff(day, cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', c.cohort_at)) as date)", Sql("snowflake"));
    }
}
