using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Models;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// A source staged incrementally (<c>incremental: {lookback_days: 2}</c>) on DuckDB, SQLite and PostgreSQL: raw rows
/// appended day by day, with duplicates inside the window and across its start, late rows, rows staging drops and
/// values it makes null; after each run the staged table and the audit's counts equal those of a full staging of the
/// same raw rows.
/// </summary>
public sealed class IncrementalStagingTests : IDisposable
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
            incremental: {lookback_days: 2}
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string, tests: [{accepted_values: {values: [purchase, page_view]}}]}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number, non_negative: true}
        metrics:
          - {name: revenue, source: events, agg: sum, expr: revenue, filter: "event_type = 'purchase'", materialize: {grain: day}}
          - {name: events_by_type, source: events, agg: count, materialize: {grain: day, dimensions: [event_type]}}
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-incremental-staging", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "incstg_" + Guid.NewGuid().ToString("N")[..10];

    public IncrementalStagingTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "tests"));
        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("SCHEMA", _schema));
        // A test that fails on demand, on this run's staged rows: the atomic promise holds for an incremental staging too.
        File.WriteAllText(Path.Combine(_root, "tests", "fails_on_demand.sql"), "select * from {{ ref('stg_events') }} where {{ var('fail', 0) }} = 1");
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is not null)
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

    /// <summary>Raw rows: id, user (null to drop), type, time as text (unparsable to drop), revenue as text ('N/A', a negative: made null).</summary>
    private void Append(string target, params (string Id, string? User, string Type, string At, string Revenue)[] rows)
    {
        using var adapter = Open(target);
        foreach (var (id, user, type, at, revenue) in rows)
            adapter.Execute($"insert into raw_events values ('{id}', {(user is null ? "null" : $"'{user}'")}, '{type}', '{at}', '{revenue}')");
    }

    private void Seed(string target)
    {
        using var adapter = Open(target);
        if (target == "postgres")
            adapter.Execute($"create schema if not exists {_schema}");
        adapter.Execute("drop table if exists raw_events");
        adapter.Execute("create table raw_events (event_id varchar(20), user_id varchar(20), event_type varchar(20), occurred_at varchar(30), revenue varchar(20))");
    }

    private RunOutcome Run(string target, bool fullRefresh = false, bool fail = false)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target, Vars: fail ? SqlTemplate.ParseVars("{fail: 1}") : null) { FullRefresh = fullRefresh });
        Assert.True(fail ? outcome.ExitCode == ExitCodes.Failure : outcome.ExitCode == 0, outcome.Error);
        return outcome;
    }

    /// <summary>The indexes on the staged table.</summary>
    private List<string> Indexes(string target)
    {
        using var adapter = Open(target);
        var sql = target switch
        {
            "sqlite" => "select name from sqlite_master where type = 'index' and tbl_name = 'stg_events'",
            "postgres" => $"select indexname as name from pg_indexes where schemaname = '{_schema}' and tablename = 'stg_events'",
            _ => "select index_name as name from duckdb_indexes() where table_name = 'stg_events'",
        };
        return adapter.Query(sql).Select(r => (string)r["name"]!).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Tables and views whose names say a run made them (build, merge view, window table), left in the warehouse.</summary>
    private List<string> RunLeftovers(string target)
    {
        using var adapter = Open(target);
        var schema = target == "postgres" ? $"'{_schema}'" : target == "sqlite" ? null : "current_schema()";
        var sql = schema is null
            ? "select name as table_name from sqlite_master where type in ('table', 'view') and name like '%\\_\\_mc\\_%' escape '\\'"
            : $"select table_name from information_schema.tables where table_schema = {schema} and table_name like '%\\_\\_mc\\_%' escape '\\'";
        return adapter.Query(sql).Select(r => (string)r["table_name"]!).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The staged table, one line per row in key order, and the audit's counts.</summary>
    private (List<string> Rows, string Audit, List<string> Revenue) Staged(string target, RunOutcome outcome)
    {
        using var adapter = Open(target);
        var rows = adapter.Query("select event_id, user_id, event_type, occurred_at, revenue from stg_events order by event_id")
            .Select(r => string.Join("|", r["event_id"], r["user_id"], r["event_type"], Instant(r["occurred_at"]), Number(r["revenue"])))
            .ToList();
        var revenue = adapter.Query("select metric_date, metric_value from fct_revenue order by metric_date")
            .Select(r => $"{Day(r["metric_date"])}|{Number(r["metric_value"])}").ToList();
        var result = outcome.Results.Single(r => r.Node == "stg_events");
        var audit = string.Join(", ", result.Dropped!.Concat(result.Nulled!).Select(kv => $"{kv.Key}={kv.Value}"));
        return (rows, audit, revenue);
    }

    private static string Instant(object? value) => value switch
    {
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        string s => s[..19].Replace('T', ' '),
        _ => $"{value}",
    };

    private static string Day(object? value) => value switch
    {
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => $"{value}"[..10],
    };

    private static string Number(object? value) => value is null or DBNull ? "null" : Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("0.##", CultureInfo.InvariantCulture);

    private static IncrementalBuild Build(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "stg_events").Incremental!;

    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void Each_incremental_staging_equals_a_full_staging_of_the_same_raw_rows(string target)
    {
        if (target == "postgres" && Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        Seed(target);
        Append(target,
            ("e1", "u1", "purchase", "2026-01-05 10:00:00", "10"),
            ("e2", "u2", "page_view", "2026-01-05 11:00:00", "0"),
            ("e3", "u1", "purchase", "2026-01-06 09:00:00", "20"),
            ("e3", "u1", "purchase", "2026-01-06 09:00:05", "20"), // a retry inside one run
            ("e4", null, "purchase", "2026-01-07 08:00:00", "5"), // no unit: dropped
            ("e5", "u3", "purchase", "not a time", "5"), // no event time: dropped
            ("e6", "u2", "purchase", "2026-01-08 12:00:00", "N/A"), // not a number: null
            ("e7", "u3", "purchase", "2026-01-08 13:00:00", "-4")); // negative: null
        var first = Run(target);
        Assert.Equal(IncrementalBuild.Full, Build(first).Mode);
        Assert.Contains("first build", Build(first).Reason);

        // The next day, a retry of e1 (staged before the window: latest day 01-08, lookback 2, so from 01-07 on), a
        // retry of e6 inside the window, a late event of 01-07 (inside it) and rows dropped and nulled again.
        Append(target,
            ("e8", "u1", "purchase", "2026-01-09 10:00:00", "7"),
            ("e1", "u1", "purchase", "2026-01-09 10:00:00", "10"),
            ("e6", "u2", "purchase", "2026-01-08 12:00:09", "3"),
            ("e9", "u2", "purchase", "2026-01-07 23:59:59", "2"),
            ("e13", "u1", "purchase", "2026-01-06T23:30:00-02:00", "6"), // reads before the window, is inside it (01-07 01:30 UTC)
            ("e10", null, "purchase", "2026-01-09 11:00:00", "1"),
            ("e11", "u3", "purchase", "2026-01-09 12:00:00", "oops"));
        var second = Run(target);
        Assert.Equal(IncrementalBuild.Incremental, Build(second).Mode);
        Assert.Equal(new DateOnly(2026, 1, 7), Build(second).RecomputedFrom);
        var incremental = Staged(target, second);
        Assert.Contains("e1|u1|purchase|2026-01-05 10:00:00|10", incremental.Rows);
        Assert.DoesNotContain(incremental.Rows, r => r.StartsWith("e1|", StringComparison.Ordinal) && r.Contains("01-09", StringComparison.Ordinal));
        Assert.Contains("e6|u2|purchase|2026-01-08 12:00:00|null", incremental.Rows);
        Assert.Contains("e9|u2|purchase|2026-01-07 23:59:59|2", incremental.Rows);
        Assert.Contains("e13|u1|purchase|2026-01-07 01:30:00|6", incremental.Rows);
        Assert.Equal(9, incremental.Rows.Count); // e1, e2, e3, e6, e7, e8, e9, e11, e13

        var full = Run(target, fullRefresh: true);
        Assert.Equal((IncrementalBuild.Full, "--full-refresh"), (Build(full).Mode, Build(full).Reason));
        var rebuilt = Staged(target, full);
        Assert.Equal(rebuilt.Rows, incremental.Rows);
        Assert.Equal(rebuilt.Audit, incremental.Audit);
        Assert.Equal(rebuilt.Revenue, incremental.Revenue);

        // SQLite and PostgreSQL look rows up by index: the full build indexed the key and the unit, and a merge keeps them.
        Assert.Equal(target == "duckdb" ? [] : ["stg_events__mc_by_event_id", "stg_events__mc_by_user_id_occurred_at"], Indexes(target));

        // A run with nothing new keeps the table as it is.
        var again = Run(target);
        Assert.Equal(IncrementalBuild.Incremental, Build(again).Mode);
        Assert.Equal(rebuilt.Rows, Staged(target, again).Rows);

        // A failed incremental run (a data test fails) changes nothing, leaves nothing behind, and the next run stages the
        // rows it would have.
        Append(target, ("e12", "u1", "purchase", "2026-01-10 10:00:00", "9"));
        var failed = Run(target, fail: true);
        Assert.Equal(IncrementalBuild.Incremental, Build(failed).Mode);
        Assert.Equal(rebuilt.Rows, Staged(target, again).Rows);
        Assert.Empty(RunLeftovers(target));
        var next = Run(target);
        Assert.Contains("e12|u1|purchase|2026-01-10 10:00:00|9", Staged(target, next).Rows);
        Assert.Empty(RunLeftovers(target));
        Assert.Equal(target == "duckdb" ? 0 : 2, Indexes(target).Count);
    }

    /// <summary>fct_events_by_type as sorted lines: day, event type, count.</summary>
    private List<string> EventsByType(string target)
    {
        using var adapter = Open(target);
        return adapter.Query("select metric_date, event_type, metric_value from fct_events_by_type")
            .Select(r => $"{Day(r["metric_date"])}|{r["event_type"]}|{Number(r["metric_value"])}").Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A metric table recomputes the periods from the first day its staging changed, unless the window's dimension values
    /// differ from the table's: every period has a row per value, so a value the new days lack (or bring) changes the
    /// earlier periods too, and the table is built in full.
    /// </summary>
    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_metric_table_recomputes_its_latest_periods_unless_its_dimension_values_change(string target)
    {
        if (target == "postgres" && Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        RunOutcome RunAndCompare(out List<string> rows)
        {
            var outcome = Run(target);
            rows = EventsByType(target);
            return outcome;
        }

        IncrementalBuild? Table(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "fct_events_by_type").Incremental;

        Seed(target);
        Append(target,
            ("e1", "u1", "purchase", "2026-01-02 10:00:00", "10"),
            ("e2", "u2", "page_view", "2026-01-03 11:00:00", "0"),
            ("e3", "u1", "page_view", "2026-01-05 09:00:00", "0"),
            ("e4", "u1", "purchase", "2026-01-06 10:00:00", "4"));
        Assert.Null(Table(Run(target)));

        // A day with both types: the periods from the staging window's start (latest day 01-06, lookback 2) are
        // recomputed and the earlier ones kept.
        Append(target, ("e5", "u2", "page_view", "2026-01-07 09:00:00", "0"), ("e6", "u2", "purchase", "2026-01-07 09:30:00", "3"));
        var both = RunAndCompare(out var afterBoth);
        Assert.Equal((IncrementalBuild.Incremental, new DateOnly(2026, 1, 5)), (Table(both)!.Mode, Table(both)!.RecomputedFrom));
        Assert.Contains("2026-01-07|purchase|1", afterBoth);

        // Days without purchases: while a purchase is inside the recomputed periods they are recomputed...
        Append(target, ("e7", "u1", "page_view", "2026-01-08 09:00:00", "0"));
        Assert.Equal(IncrementalBuild.Incremental, Table(Run(target))!.Mode);
        Append(target, ("e8", "u1", "page_view", "2026-01-09 09:00:00", "0"));
        Assert.Equal(IncrementalBuild.Incremental, Table(Run(target))!.Mode);

        // ...and once none is (01-08 to 01-10), the table is built in full: every period has a purchase row, of 0 here.
        Append(target, ("e9", "u1", "page_view", "2026-01-10 09:00:00", "0"));
        var views = RunAndCompare(out var afterViews);
        Assert.Null(Table(views));
        Assert.Contains("2026-01-10|purchase|0", afterViews);

        Run(target, fullRefresh: true);
        Assert.Equal(EventsByType(target), afterViews);
    }

    /// <summary>
    /// A row-level test of an incremental source (here `accepted_values` on the raw events) reads only the raw rows that
    /// do not plainly read before the staging's window once it passed on the earlier ones; `--no-reuse` reads them all.
    /// </summary>
    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_source_test_reads_only_the_raw_rows_of_the_window_once_the_earlier_ones_passed(string target)
    {
        if (target == "postgres" && Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        RunOutcome Outcome(bool noReuse = false) => new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target) { NoReuse = noReuse });
        NodeResult Test(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "accepted_values_source_events_event_type");

        Seed(target);
        Append(target, ("e1", "u1", "purchase", "2026-01-02 10:00:00", "10"), ("e2", "u2", "page_view", "2026-01-05 11:00:00", "0"));
        Assert.Equal(NodeResult.Pass, Test(Run(target)).Status);
        Append(target, ("e3", "u1", "purchase", "2026-01-06 10:00:00", "3"));
        Assert.Equal(NodeResult.Pass, Test(Run(target)).Status);

        // A raw row the test refuses arrives late, before the window (latest day 01-06, lookback 2: from 01-05): staging
        // does not stage it, and the test does not read it...
        Append(target, ("x1", "u9", "refund", "2026-01-02 12:00:00", "0"));
        var windowOnly = Outcome();
        Assert.True(windowOnly.ExitCode == 0, windowOnly.Error);
        Assert.Equal(NodeResult.Pass, Test(windowOnly).Status);

        // ...which a run without reuse does.
        var every = Outcome(noReuse: true);
        Assert.Equal(ExitCodes.Failure, every.ExitCode);
        Assert.Equal(NodeResult.Fail, Test(every).Status);
        using (var adapter = Open(target))
            adapter.Execute("delete from raw_events where event_id = 'x1'");
        Assert.Equal(NodeResult.Pass, Test(Run(target)).Status);

        // A refused row inside the window fails the run, even spelled with an offset that reads before the window.
        Append(target, ("x2", "u9", "refund", "2026-01-04T23:30:00-02:00", "0"));
        var refused = Outcome();
        Assert.Equal(ExitCodes.Failure, refused.ExitCode);
        Assert.Equal(NodeResult.Fail, Test(refused).Status);
    }

    [Fact]
    public void A_changed_source_definition_stages_every_raw_row_again()
    {
        const string target = "duckdb";
        Seed(target);
        Append(target, ("e1", "u1", "purchase", "2026-01-05 10:00:00", "10"), ("e2", "u1", "purchase", "2026-01-09 10:00:00", "5"));
        Run(target);
        // A row older than the window: an incremental run does not see it, a changed definition does.
        Append(target, ("e3", "u1", "purchase", "2026-01-01 10:00:00", "1"));
        Assert.DoesNotContain(Staged(target, Run(target)).Rows, r => r.StartsWith("e3|", StringComparison.Ordinal));

        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("SCHEMA", _schema).Replace("lookback_days: 2", "lookback_days: 3"));
        var changed = Run(target);
        Assert.Equal(IncrementalBuild.Full, Build(changed).Mode);
        Assert.Contains("definition changed", Build(changed).Reason);
        Assert.Contains(Staged(target, changed).Rows, r => r.StartsWith("e3|", StringComparison.Ordinal));
    }
}
