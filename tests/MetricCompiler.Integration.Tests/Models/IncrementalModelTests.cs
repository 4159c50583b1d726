using System.Globalization;
using System.Text.Json.Nodes;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Models;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// An incremental SQL model (events per day and type, lookback 2 days) on DuckDB, SQLite and PostgreSQL: hand-made
/// events in, appended days and late events, each incremental table compared with a full rebuild of the same rows.
/// </summary>
public sealed class IncrementalModelTests : IDisposable
{
    private const string Yaml = """
        version: 1
        name: shop
        targets:
          duckdb:
            adapter: duckdb
            path: target/warehouse.duckdb
          sqlite:
            adapter: sqlite
            path: target/warehouse.db
          postgres:
            adapter: postgres
            host_env: METRICC_PG_HOST
            port_env: METRICC_PG_PORT
            database_env: METRICC_PG_DATABASE
            user_env: METRICC_PG_USER
            password_env: METRICC_PG_PASSWORD
            schema: SCHEMA
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
              - {name: revenue, type: number}
        """;

    /// <summary>The day of a timestamp, as each engine spells it (the model's SQL is the user's, per engine).</summary>
    private static string DayOf(string target) => target == "sqlite" ? "date(occurred_at)" : "cast(occurred_at as date)";

    private static string Model(string target, int lookback = 2, string extra = "") => $$$"""
        {{ config(materialized='incremental', event_time='event_date', lookback_days={{{lookback}}}) }}
        -- Events and revenue per day and event type.{{{extra}}}
        select {{{DayOf(target)}}} as event_date, event_type, count(*) as events, sum(revenue) as revenue
        from {{ ref('stg_events') }}
        group by {{{DayOf(target)}}}, event_type
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-incremental", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "inc_" + Guid.NewGuid().ToString("N")[..10];
    private int _events;

    public IncrementalModelTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "models"));
        Directory.CreateDirectory(Path.Combine(_root, "tests"));
        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("SCHEMA", _schema));
        // A test that fails on demand: the atomic promise holds for an incremental build too.
        File.WriteAllText(Path.Combine(_root, "tests", "fails_on_demand.sql"), "select * from {{ ref('daily_events') }} where {{ var('fail', 0) }} = 1");
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is not null && File.Exists(Path.Combine(_root, "metrics.yml")))
        {
            try
            {
                using var adapter = Open("postgres");
                adapter.Execute($"drop schema if exists {_schema} cascade");
            }
            catch (Exception e) when (e is WarehouseException or System.Data.Common.DbException)
            {
                // Best effort: a leftover schema has a random name.
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private IWarehouseAdapter Open(string target) =>
        AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, target), _root);

    private void WriteModel(string text) => File.WriteAllText(Path.Combine(_root, "models", "daily_events.sql"), text);

    /// <summary>Appends events: (day, type, revenue) each, at noon of the day.</summary>
    private void Append(string target, params (string Day, string Type, double Revenue)[] events)
    {
        using var adapter = Open(target);
        foreach (var (day, type, revenue) in events)
        {
            _events++;
            adapter.Execute($"insert into raw_events values ('e{_events}', 'u{_events % 3}', '{type}', '{day} 12:00:00', {revenue.ToString(CultureInfo.InvariantCulture)})");
        }
    }

    private void Seed(string target)
    {
        if (target == "postgres")
        {
            if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
                Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
            using var pg = Open(target);
            pg.Execute($"create schema if not exists {_schema}");
        }

        using (var adapter = Open(target))
        {
            adapter.Execute("drop table if exists raw_events");
            adapter.Execute("create table raw_events (event_id varchar(20), user_id varchar(20), event_type varchar(20), occurred_at varchar(30), revenue double precision)");
        }

        WriteModel(Model(target));
        Append(target, ("2026-01-05", "page_view", 0), ("2026-01-05", "purchase", 10), ("2026-01-06", "purchase", 20), ("2026-01-06", "page_view", 0),
            ("2026-01-07", "purchase", 5), ("2026-01-08", "page_view", 0), ("2026-01-08", "purchase", 7));
    }

    private RunOutcome Run(string target, bool fullRefresh = false, string? vars = null)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target, Vars: SqlTemplate.ParseVars(vars)) { FullRefresh = fullRefresh });
        return outcome;
    }

    private static IncrementalBuild Build(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "daily_events").Incremental!;

    /// <summary>The model's table: day|type|events|revenue per row, in order.</summary>
    private List<string> Table(string target)
    {
        using var adapter = Open(target);
        return adapter.Query("select cast(event_date as varchar(10)) as d, event_type, events, revenue from daily_events order by 1, 2")
            .Select(r => string.Join("|", r["d"], r["event_type"], Convert.ToInt64(r["events"], CultureInfo.InvariantCulture),
                Convert.ToDouble(r["revenue"], CultureInfo.InvariantCulture).ToString("0.##", CultureInfo.InvariantCulture)))
            .ToList();
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_rerun_recomputes_the_lookback_window_and_equals_a_full_rebuild(string target)
    {
        Seed(target);
        var first = Run(target);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(IncrementalBuild.Full, Build(first).Mode);
        Assert.Contains("first build", Build(first).Reason);
        Assert.Contains("2026-01-08|purchase|1|7", Table(target));

        // A new day, and a late event of 01-07: inside the window (latest day 01-08, lookback 2: from 01-07 on).
        Append(target, ("2026-01-09", "purchase", 3), ("2026-01-09", "page_view", 0), ("2026-01-07", "purchase", 4));
        var second = Run(target);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(IncrementalBuild.Incremental, Build(second).Mode);
        Assert.Equal(new DateOnly(2026, 1, 7), Build(second).RecomputedFrom);
        var incremental = Table(target);
        Assert.Contains("2026-01-07|purchase|2|9", incremental); // the late event is counted
        Assert.Contains("2026-01-09|purchase|1|3", incremental);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!["results"]!.AsArray()
            .Single(r => (string?)r!["node"] == "daily_events")!["incremental"]!;
        Assert.Equal("incremental", (string?)json["mode"]);
        Assert.Equal("2026-01-07", (string?)json["recomputed_from"]);

        var full = Run(target, fullRefresh: true);
        Assert.True(full.ExitCode == 0, full.Error);
        Assert.Equal((IncrementalBuild.Full, "--full-refresh"), (Build(full).Mode, Build(full).Reason));
        Assert.Equal(Table(target), incremental);

        // The trade-off: an event older than the window (latest day 01-09: from 01-08 on) is not recomputed until a full refresh.
        Append(target, ("2026-01-05", "purchase", 100));
        Assert.Equal(IncrementalBuild.Incremental, Build(Run(target)).Mode);
        Assert.Contains("2026-01-05|purchase|1|10", Table(target));
        Assert.Equal(0, Run(target, fullRefresh: true).ExitCode);
        Assert.Contains("2026-01-05|purchase|2|110", Table(target));
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_changed_definition_rebuilds_in_full_even_after_a_compile(string target)
    {
        Seed(target);
        Assert.Equal(0, Run(target).ExitCode);
        Append(target, ("2026-01-05", "purchase", 100));

        // Another lookback: a change of the definition. `compile` rewrites manifest.json, but the table in place was
        // built from the old definition, and that is what the run compares with.
        WriteModel(Model(target, lookback: 1, extra: " Lookback of one day."));
        Assert.Equal(0, new ProjectRunner(SilentObserver.Instance).Compile(new RunRequest(_root, target)).ExitCode);
        var changed = Run(target);
        Assert.True(changed.ExitCode == 0, changed.Error);
        Assert.Equal(IncrementalBuild.Full, Build(changed).Mode);
        Assert.Contains("definition changed", Build(changed).Reason);
        Assert.Contains("2026-01-05|purchase|2|110", Table(target));

        Assert.Equal(IncrementalBuild.Incremental, Build(Run(target)).Mode);
    }

    [Fact]
    public void A_failed_incremental_run_replaces_nothing_and_the_next_run_starts_from_the_same_table()
    {
        const string target = "duckdb";
        Seed(target);
        Assert.Equal(0, Run(target).ExitCode);
        var before = Table(target);
        var state = File.ReadAllText(Path.Combine(_root, "target", RunState.FileName));

        Append(target, ("2026-01-08", "purchase", 1));
        var failed = Run(target, vars: "{fail: 1}");
        Assert.Equal(ExitCodes.Failure, failed.ExitCode);
        Assert.Equal(IncrementalBuild.Incremental, Build(failed).Mode);
        Assert.Equal(before, Table(target));
        Assert.Equal(state, File.ReadAllText(Path.Combine(_root, "target", RunState.FileName)));

        var next = Run(target);
        Assert.Equal(IncrementalBuild.Incremental, Build(next).Mode);
        Assert.Contains("2026-01-08|purchase|2|8", Table(target));
    }
}
