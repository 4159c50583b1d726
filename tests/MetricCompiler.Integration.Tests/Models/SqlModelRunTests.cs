using System.Text.Json.Nodes;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Models;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// SQL models and data tests run on the embedded DuckDB (and PostgreSQL for the model DAG): hand-made rows in, tables
/// and test outcomes compared with what the rows say.
/// </summary>
public sealed class SqlModelRunTests : IDisposable
{
    private const string Yaml = """
        version: 1
        name: shop
        default_target: dev
        targets:
          dev:
            adapter: duckdb
            path: target/warehouse.duckdb
          lite:
            adapter: sqlite
            path: target/warehouse.db
          pg:
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
              - {name: event_id, type: string, tests: [not_null]}
              - {name: user_id, type: string, tests: [{relationships: {to: users, field: user_id}}]}
              - {name: event_type, type: string, tests: [{accepted_values: {values: [page_view, purchase], severity: SEVERITY}}]}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number}
          - name: users
            table: raw_users
            entity: user_id
            event_time: signup_at
            unique_key: user_id
            columns:
              - {name: user_id, type: string, tests: [unique]}
              - {name: signup_at, type: timestamp}
              - {name: country, type: string}
          - name: purchase_rows
            description: Purchases, read from the SQL model `purchases`.
            model: purchases
            entity: user_id
            event_time: occurred_at
            columns:
              - {name: user_id, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number}
        metrics:
          - name: purchase_revenue
            source: purchase_rows
            agg: sum
            expr: revenue
            materialize: {grain: day}
            tests:
              - not_null: {column: metric_value}
        models:
          - name: revenue_by_user
            columns:
              - {name: user_id, tests: [unique]}
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-models", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "mdl_" + Guid.NewGuid().ToString("N")[..10];

    public SqlModelRunTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "models"));
        Directory.CreateDirectory(Path.Combine(_root, "tests"));
        WriteYaml("error");
        Write("models/purchases.sql", """
            {{ config(materialized='table') }}
            -- purchases only{% if var('min_revenue', 0) > 0 %}, at least {{ var('min_revenue') }}{% endif %}
            select user_id, occurred_at, revenue
            from {{ ref('stg_events') }}
            where event_type = 'purchase'
            {% if var('min_revenue', 0) > 0 %}  and revenue >= {{ var('min_revenue') }}{% endif %}
            """);
        Write("models/revenue_by_user.sql", """
            {{ config(materialized='view') }}
            select p.user_id, u.country, sum(p.revenue) as revenue
            from {{ ref('purchases') }} as p
            join {{ source('raw', 'users') }} as u on u.user_id = p.user_id
            group by p.user_id, u.country
            """);
        Write("tests/no_negative_revenue.sql", "select * from {{ ref('purchases') }} where revenue < 0");
    }

    private void WriteYaml(string severity) => Write("metrics.yml", Yaml.Replace("SEVERITY", severity).Replace("SCHEMA", _schema));

    private void Write(string path, string text) => File.WriteAllText(Path.Combine(_root, path), text);

    private IWarehouseAdapter Open(string target = "dev") =>
        AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, target), _root);

    private void Seed(string target = "dev", params string[] extraEvents)
    {
        using var adapter = Open(target);
        adapter.Execute("drop table if exists raw_events");
        adapter.Execute("drop table if exists raw_users");
        adapter.Execute("create table raw_users (user_id varchar, signup_at varchar, country varchar)");
        adapter.Execute("insert into raw_users values ('u1', '2026-01-01 00:00:00', 'DE'), ('u2', '2026-01-01 00:00:00', 'FR'), ('u3', '2026-01-02 00:00:00', 'DE')");
        adapter.Execute("create table raw_events (event_id varchar, user_id varchar, event_type varchar, occurred_at varchar, revenue double precision)");
        adapter.Execute("""
            insert into raw_events values
              ('e1', 'u1', 'purchase', '2026-01-05 10:00:00', 10), ('e2', 'u1', 'purchase', '2026-01-05 11:00:00', 30),
              ('e3', 'u2', 'purchase', '2026-01-06 10:00:00', 20), ('e4', 'u3', 'page_view', '2026-01-06 12:00:00', null),
              ('e4', 'u3', 'page_view', '2026-01-06 12:00:00', null)
            """);
        foreach (var row in extraEvents)
            adapter.Execute($"insert into raw_events values {row}");
    }

    private RunOutcome Run(string target = "dev", string? vars = null) =>
        new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target, Vars: SqlTemplate.ParseVars(vars)));

    private List<string> Rows(string sql, string target = "dev")
    {
        using var adapter = Open(target);
        return adapter.Query(sql).Select(r => string.Join("|", r.Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))).ToList();
    }

    [Fact]
    public void Models_join_the_dag_and_a_metric_reads_one_through_its_source()
    {
        Seed();
        var outcome = Run();
        Assert.True(outcome.ExitCode == 0, outcome.Error);

        // Reference: the seeded purchases by hand (e1..e3), per user and per day.
        Assert.Equal(["u1|40|DE", "u2|20|FR"], Rows("select user_id, revenue, country from revenue_by_user order by user_id"));
        Assert.Equal(["2026-01-05|40", "2026-01-06|20"], Rows("select strftime(metric_date, '%Y-%m-%d'), metric_value from fct_purchase_revenue order by metric_date"));
        Assert.Equal(["VIEW"], Rows("select table_type from information_schema.tables where table_name = 'revenue_by_user'"));
        Assert.Equal(["BASE TABLE"], Rows("select table_type from information_schema.tables where table_name = 'purchases'"));
        Assert.Empty(Rows("select table_name from information_schema.tables where table_name like '%__mc_build'"));

        var compiled = File.ReadAllText(Path.Combine(_root, "target", "compiled", "purchases.sql"));
        Assert.Contains("-- node:       purchases (model)", compiled);
        Assert.Contains("from stg_events", compiled);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "manifest.json")))!;
        Assert.Equal("view", (string?)manifest["models"]!["revenue_by_user"]!["materialized"]);
        Assert.Equal(64, ((string?)manifest["models"]!["purchases"]!["checksum"])!.Length);
        Assert.Equal("purchases", (string?)manifest["nodes"]!["stg_purchase_rows"]!["depends_on"]![0]);
        var test = File.ReadAllText(Path.Combine(_root, "target", "compiled", "tests", "relationships_source_events_user_id__users_user_id.sql"));
        Assert.Contains("-- runs after: stg_events", test);
        Assert.Contains("left join raw_users as parent", test);
    }

    [Fact]
    public void Vars_change_what_a_model_builds()
    {
        Seed();
        Assert.Equal(0, Run(vars: "{min_revenue: 15}").ExitCode);
        Assert.Equal(2, Rows("select * from purchases").Count); // e2 (30) and e3 (20)
        Assert.Equal(["50"], Rows("select sum(revenue) from purchases"));
        Assert.Equal(0, Run().ExitCode);
        Assert.Equal(["60"], Rows("select sum(revenue) from purchases"));
    }

    [Fact]
    public void A_failing_test_skips_what_it_guards_and_nothing_is_swapped_in()
    {
        Seed();
        Assert.Equal(0, Run().ExitCode);
        var before = Rows("select user_id, revenue from revenue_by_user order by user_id");

        // A purchase by a user the users table lacks, with a null id: relationships and not_null fail on `events`.
        Seed("dev", "(null, 'u9', 'purchase', '2026-01-07 10:00:00', 5)");
        var outcome = Run();

        Assert.Equal(ExitCodes.Failure, outcome.ExitCode);
        Assert.Contains("data test(s) failed", outcome.Error);
        var results = outcome.Results.ToDictionary(r => r.Node);
        Assert.Equal(NodeResult.Fail, results["not_null_source_events_event_id"].Status);
        Assert.Equal(1, results["not_null_source_events_event_id"].Rows);
        Assert.Equal(NodeResult.Fail, results["relationships_source_events_user_id__users_user_id"].Status);
        Assert.Equal("u9", results["relationships_source_events_user_id__users_user_id"].FailingRows.Single()["user_id"]);
        Assert.Equal(NodeResult.Pass, results["unique_source_users_user_id"].Status);
        Assert.Equal(NodeResult.Success, results["stg_events"].Status);
        Assert.Equal(NodeResult.Skipped, results["purchases"].Status);
        Assert.Contains("not_null_source_events_event_id", results["purchases"].Message);
        Assert.Equal(NodeResult.Skipped, results["fct_purchase_revenue"].Status);
        Assert.Equal(NodeResult.Skipped, results["no_negative_revenue"].Status);
        Assert.Equal(NodeResult.Success, results["stg_users"].Status); // not downstream: built, but not swapped in either

        Assert.Equal(before, Rows("select user_id, revenue from revenue_by_user order by user_id"));
        Assert.Empty(Rows("select table_name from information_schema.tables where table_name like '%__mc_build'"));

        var runResults = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!;
        var relationships = runResults["results"]!.AsArray().Single(r => (string?)r!["node"] == "relationships_source_events_user_id__users_user_id")!;
        Assert.Equal("fail", (string?)relationships["status"]);
        Assert.Equal("test", (string?)relationships["resource_type"]);
        Assert.Equal(1, (long?)relationships["failures"]);
        Assert.Equal("u9", (string?)relationships["failing_rows"]![0]!["user_id"]);
        var skipped = runResults["results"]!.AsArray().Single(r => (string?)r!["node"] == "purchases")!;
        Assert.Equal("skipped", (string?)skipped["status"]);
        Assert.Contains("failed on `stg_events`", (string?)skipped["message"]);
    }

    [Fact]
    public void The_cli_prints_each_outcome_and_the_first_failing_rows()
    {
        Seed("dev", "('e8', 'u9', 'purchase', '2026-01-07 10:00:00', 5)");
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = MetricCompiler.Cli.Commands.CommandLine.Run(["run", "--project-dir", _root], output, error);

        Assert.Equal(ExitCodes.Failure, exit);
        var text = output.ToString();
        Assert.Contains("FAIL test relationships_source_events_user_id__users_user_id", text);
        Assert.Contains("| user_id=u9", text);
        Assert.Contains("PASS test not_null_source_events_event_id", text);
        Assert.Contains("SKIP model purchases", text);
        Assert.Contains("data test(s) failed", error.ToString());
    }

    [Fact]
    public void A_warn_test_reports_and_the_run_goes_on()
    {
        WriteYaml("warn");
        Seed("dev", "('e9', 'u1', 'refund', '2026-01-07 10:00:00', 5)");
        var outcome = Run();

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var accepted = outcome.Results.Single(r => r.Node == "accepted_values_source_events_event_type");
        Assert.Equal(NodeResult.Warn, accepted.Status);
        Assert.Equal("refund", accepted.FailingRows.Single()["event_type"]);
        Assert.Equal(["2"], Rows("select count(*) from revenue_by_user"));
    }

    [Fact]
    public void Metricc_test_runs_each_kind_on_the_tables_in_place()
    {
        Seed();
        Assert.Equal(0, Run().ExitCode);
        var runner = new ProjectRunner(SilentObserver.Instance);
        var passing = runner.Test(new RunRequest(_root));
        Assert.True(passing.ExitCode == 0, passing.Error);
        Assert.Equal(7, passing.Results.Count);
        Assert.All(passing.Results, r => Assert.Equal(NodeResult.Pass, r.Status));

        // Break each kind once, in place, and test again.
        using (var adapter = Open())
        {
            adapter.Execute("insert into raw_users values ('u1', '2026-01-09 00:00:00', 'FR')");           // unique, on the source and the view
            adapter.Execute("insert into raw_events values (null, 'u1', 'click', '2026-01-09 00:00:00', null)"); // not_null, accepted_values
            adapter.Execute("insert into raw_events values ('e7', 'u7', 'page_view', '2026-01-09 00:00:00', null)"); // relationships
            adapter.Execute("insert into purchases values ('u2', timestamp '2026-01-09 00:00:00', -5)");        // the SQL test; and the view's unique
            adapter.Execute("insert into fct_purchase_revenue values (date '2026-01-09', null)");             // the metric's not_null
        }

        var failing = runner.Test(new RunRequest(_root));
        Assert.Equal(ExitCodes.Failure, failing.ExitCode);
        var byName = failing.Results.ToDictionary(r => r.Node, r => r.Status);
        Assert.All(byName, kv => Assert.Equal(NodeResult.Fail, kv.Value));
        Assert.Equal(7, byName.Count);
        Assert.Equal(2, failing.Results.Single(r => r.Node == "unique_source_users_user_id").FailingRows.Single()["n_records"] is long n ? n : -1);
        Assert.Equal("test", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!["metadata"]!["command"]);
    }

    [Fact]
    public void Models_and_views_build_on_postgres()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        using (var adapter = Open("pg"))
            adapter.Execute($"create schema if not exists {_schema}");
        Seed("pg");
        var first = Run("pg");
        Assert.True(first.ExitCode == 0, first.Error);
        // A second run replaces tables a view reads (PostgreSQL binds views to tables): the view is dropped and recreated in the swap.
        var second = Run("pg", "{min_revenue: 15}");
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(["u1|30", "u2|20"], Rows("select user_id, revenue from revenue_by_user order by user_id", "pg"));
    }

    [Fact]
    public void State_modified_selects_the_changed_model_and_with_plus_its_descendants()
    {
        Seed();
        Assert.Equal(0, Run().ExitCode);
        var state = Path.Combine(_root, "previous");
        Directory.CreateDirectory(state);
        File.Copy(Path.Combine(_root, "target", "manifest.json"), Path.Combine(state, "manifest.json"));
        var runner = new ProjectRunner(SilentObserver.Instance);

        var unchanged = runner.Run(new RunRequest(_root, Select: ["state:modified"], StateDirectory: state));
        Assert.True(unchanged.ExitCode == 0, unchanged.Error);
        Assert.DoesNotContain(unchanged.Results, r => r.ResourceType == "node");

        Write("models/purchases.sql", "select user_id, occurred_at, revenue * 2 as revenue from {{ ref('stg_events') }} where event_type = 'purchase'");
        var modified = runner.Run(new RunRequest(_root, Select: ["state:modified"], StateDirectory: state));
        Assert.True(modified.ExitCode == 0, modified.Error);
        Assert.Equal(["purchases"], modified.Results.Where(r => r.ResourceType == "node").Select(r => r.Node));

        var downstream = runner.Run(new RunRequest(_root, Select: ["state:modified+"], StateDirectory: state));
        Assert.True(downstream.ExitCode == 0, downstream.Error);
        Assert.Equal(["fct_purchase_revenue", "purchases", "revenue_by_user", "stg_purchase_rows"],
            downstream.Results.Where(r => r.ResourceType == "node").Select(r => r.Node).Order(StringComparer.Ordinal));
        Assert.Equal(["120"], Rows("select sum(metric_value) from fct_purchase_revenue"));

        var missing = runner.Run(new RunRequest(_root, Select: ["state:modified"]));
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("--state", missing.Error);
    }

    [Fact]
    public void Models_views_and_tests_run_on_sqlite()
    {
        Seed("lite");
        var run = Run("lite");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(["u1|40", "u2|20"], Rows("select user_id, revenue from revenue_by_user order by user_id", "lite"));
        Assert.Equal(["view"], Rows("select type from sqlite_master where name = 'revenue_by_user'", "lite"));

        var tested = new ProjectRunner(SilentObserver.Instance).Test(new RunRequest(_root, "lite"));
        Assert.True(tested.ExitCode == 0, tested.Error);
        Assert.All(tested.Results, r => Assert.Equal(NodeResult.Pass, r.Status)); // the view's test too: a view counts as built
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
