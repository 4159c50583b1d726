using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Loading;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Compiler.Tests.Sql;

/// <summary>
/// The statements an incremental run of a SQL model executes, per dialect, must match Golden/incremental/&lt;dialect&gt;.sql:
/// the latest day of the table in place, and the build table made of the days before the window start and the model's
/// query from it on (refs resolved to this run's build tables, the table in place by its own name). DuckDB, SQLite and
/// PostgreSQL also run it (IncrementalModelTests); Trino and Snowflake are held to these files. Regenerate with
/// <c>METRICC_UPDATE_GOLDEN=1</c> and review the diff.
/// </summary>
public sealed class IncrementalGoldenSqlTests
{
    private static readonly string GoldenRoot = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "incremental");

    public static TheoryData<string> Dialects => new() { "duckdb", "sqlite", "postgres", "trino", "snowflake" };

    [Theory]
    [MemberData(nameof(Dialects))]
    public void An_incremental_run_executes_the_committed_sql(string adapter)
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/daily_events.sql", """
            {{ config(materialized='incremental', event_time='event_date', lookback_days=3) }}
            -- Events per day and type.
            select cast(occurred_at as date) as event_date, event_type, count(*) as events
            from {{ ref('stg_events') }}
            group by 1, 2
            """));
        var load = ProjectLoader.Load(project.Root);
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var node = Planner.Plan(load.Bound!)["daily_events"];
        var dialect = SqlDialects.ForAdapter(adapter);
        var renderer = new SqlRenderer(dialect, n => dialect.QuoteRelation(n + "__mc_build"));
        var start = IncrementalSql.WindowStart(new DateOnly(2026, 1, 18), node.Incremental!.LookbackDays);
        Assert.Equal(new DateOnly(2026, 1, 16), start);
        var sql = $"-- the latest day in place\n{renderer.Render(IncrementalSql.Latest(node))}\n" +
            $"-- the build table, swapped in with the run's other tables\n{dialect.CreateTableAs(dialect.QuoteRelation("daily_events__mc_build"), renderer.Render(IncrementalSql.Rebuild(node, start)))}";

        var path = Path.Combine(GoldenRoot, adapter + ".sql");
        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(GoldenRoot);
            File.WriteAllText(path, sql);
        }

        Assert.True(File.Exists(path), $"no golden file incremental/{adapter}.sql; run METRICC_UPDATE_GOLDEN=1");
        Assert.True(File.ReadAllText(path) == sql, $"incremental/{adapter}.sql differs from the golden file:\n{sql}");
    }

    private const string IncrementalSource = """
        version: 1
        name: shop
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            retention_days: 400
            incremental: {lookback_days: 2}
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number, non_negative: true}
        """;

    /// <summary>
    /// An incremental source's staging per dialect (Golden/incremental/staging/&lt;dialect&gt;.sql): the window's filter on the
    /// raw rows before the de-duplication, the later duplicates of staged keys left out, the kept rows aged by the retention.
    /// </summary>
    [Theory]
    [MemberData(nameof(Dialects))]
    public void An_incremental_staging_executes_the_committed_sql(string adapter)
    {
        using var project = new TempProject(("metrics.yml", IncrementalSource));
        var load = ProjectLoader.Load(project.Root);
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var node = Planner.Plan(load.Bound!)["stg_events"];
        var dialect = SqlDialects.ForAdapter(adapter);
        var renderer = new SqlRenderer(dialect, n => dialect.QuoteRelation(n + "__mc_build"));
        var start = IncrementalSql.WindowStart(new DateOnly(2026, 1, 18), node.Incremental!.LookbackDays);
        Assert.Equal(new DateOnly(2026, 1, 17), start);
        var sql = $"-- the build table, swapped in with the run's other tables\n{dialect.CreateTableAs(dialect.QuoteRelation("stg_events__mc_build"), renderer.Render(IncrementalSql.Rebuild(node, start)))}";

        var path = Path.Combine(GoldenRoot, "staging", adapter + ".sql");
        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, sql);
        }

        Assert.True(File.Exists(path), $"no golden file incremental/staging/{adapter}.sql; run METRICC_UPDATE_GOLDEN=1");
        Assert.True(File.ReadAllText(path) == sql, $"incremental/staging/{adapter}.sql differs from the golden file:\n{sql}");
    }
}
