using System.Globalization;
using System.Text.Json;
using MetricCompiler.Adapters;
using MetricCompiler.Adapters.Remote;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Planning;
using MetricCompiler.ProtocolServers.Engine;
using MetricCompiler.ProtocolServers.Snowflake;
using MetricCompiler.ProtocolServers.Trino;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The whole demo (`seed` + `build`) with `--target trino` and `--target snowflake`, through each engine's HTTP
/// protocol to a local server that executes the statements on an in-process DuckDB: every node goes through the
/// protocol, the statistics and readouts equal the embedded DuckDB run, failures leave the previous tables whole or
/// are repaired by the next run, and no credential reaches the output or target/.
/// </summary>
public sealed class RemoteTargetTests : IAsyncLifetime
{
    private const string Password = "trino-pw-91d3e0c4-must-not-leak";
    private const string Token = "sf-oauth-4be27a19-must-not-leak";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-remote", Guid.NewGuid().ToString("N"));
    private readonly string _passwordVariable = "METRICC_TEST_TRINO_PW_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private readonly string _tokenVariable = "METRICC_TEST_SF_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private readonly List<string> _outputs = [];
    private TrinoEngineServer _trino = null!;
    private SnowflakeEngineServer _snowflake = null!;

    public Task InitializeAsync()
    {
        // Every 25th statement is first refused (503 / 429), so the whole run also goes through the clients' retries.
        _trino = TrinoEngineServer.Start(TrinoRequiredAuth.Basic("metricc", Password), pageSize: 400, transientFaultEvery: 25);
        _snowflake = SnowflakeEngineServer.Start(new SnowflakeServerAuth { Account = "XY12345", User = "METRIC_BOT", OAuthTokens = [Token] },
            partitionRows: 400, transientFaultEvery: 25);
        Environment.SetEnvironmentVariable(_passwordVariable, Password);
        Environment.SetEnvironmentVariable(_tokenVariable, Token);
        var targets = $"""
            targets:
              trino:
                adapter: trino
                scheme: http
                host: 127.0.0.1
                port: {_trino.Endpoint.Port}
                catalog: memory
                schema: acme
                user: metricc
                password_env: {_passwordVariable}
              snowflake:
                adapter: snowflake
                endpoint: {_snowflake.Endpoint}
                account: xy12345
                user: metric_bot
                database: PRODUCT
                schema: ACME
                warehouse: METRICS_WH
                oauth_token_env: {_tokenVariable}

            """;
        DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 3000").Replace("targets:\n", targets.Replace("\r\n", "\n"), StringComparison.Ordinal));
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public void Seed_and_build_through_the_protocol_equal_the_embedded_duckdb_run(string target)
    {
        var embedded = Build("dev");
        var embeddedStatistics = Statistics("dev");
        var remote = Build(target);
        var remoteStatistics = Statistics(target);

        // Every node of the plan was built by a statement that went through the protocol, and swapped in.
        var statements = ReceivedStatements(target);
        var plan = Planner.Plan(Core.Loading.ProjectLoader.Load(_root).Bound!);
        foreach (var node in plan.Nodes)
        {
            var built = node.Name + Execution.Running.ProjectRunner.BuildSuffix;
            if (node.IsView)
            {
                // A SQL model materialized as a view is built under its build name, then created on its final name.
                Assert.True(statements.Any(s => s.StartsWith($"create view {built} as", StringComparison.Ordinal)), $"no statement building view `{node.Name}` reached the {target} server");
                Assert.True(statements.Any(s => s.StartsWith($"create view {node.Name} as", StringComparison.Ordinal)), $"view `{node.Name}` was never created on {target}");
                continue;
            }

            Assert.True(statements.Any(s => s.StartsWith($"create table {built} as", StringComparison.Ordinal)
                    || s.StartsWith($"create or replace table {built} as", StringComparison.Ordinal)
                    || s.StartsWith($"insert into {built}{RemoteWarehouseAdapter.LoadSuffix} ", StringComparison.Ordinal)),
                $"no statement building `{node.Name}` reached the {target} server");
            Assert.True(statements.Any(s => s.StartsWith("alter table", StringComparison.Ordinal) && s.Contains(built, StringComparison.Ordinal)),
                $"`{node.Name}` was never swapped in on {target}");
        }

        Assert.True(statements.Count(s => s.StartsWith("insert into raw_events__mc_load", StringComparison.Ordinal)) > 10, "the seed did not go through batched INSERTs");
        Assert.Equal(Checksum("dev"), Checksum(target));

        foreach (var (table, rows) in embeddedStatistics)
        {
            var other = remoteStatistics[table];
            Assert.True(rows.Count == other.Count, $"{table}: duckdb has {rows.Count} rows, {target} {other.Count}");
            Assert.True(rows.Count > 0, $"{table} is empty");
            for (var i = 0; i < rows.Count; i++)
            {
                foreach (var (column, value) in rows[i])
                    AssertSame(value, other[i][column], $"{table} row {i} `{column}`: duckdb vs {target}");
            }
        }

        foreach (var experiment in new[] { "homepage_cta", "onboarding_flow" })
            AssertSameReadout(embedded[experiment], remote[experiment], $"{experiment} on {target}");
        AssertNoSecretLeaked();
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public void A_failure_mid_run_leaves_the_previous_tables_whole(string target)
    {
        Build(target);
        // A row no rebuild would produce marks the previous table: it must still be there after the failed run.
        Engine(target).Execute("insert into exp_homepage_cta__unit_metrics (unit_id) values ('previous-run-sentinel')", target == "trino" ? "acme" : "ACME");
        var unitRows = Scalar(target, "select count(*) from exp_homepage_cta__unit_metrics");
        var results = Rows(target, "select experiment_id, metric, variant, p_value from experiment_results order by 1, 2, 3");

        // The last node, the readout table, fails on the engine, after every other table was built.
        Engine(target).FailNext(sql => sql.StartsWith("insert into experiment_results__mc_build", StringComparison.Ordinal),
            "Query exceeded the maximum execution time");
        var (exit, output, error) = Metricc("run", target);

        Assert.Equal(1, exit);
        Assert.Contains("maximum execution time", error, StringComparison.Ordinal);
        Assert.Contains("no table was replaced", error, StringComparison.Ordinal);
        Assert.Equal(unitRows, Scalar(target, "select count(*) from exp_homepage_cta__unit_metrics"));
        Assert.Equal(1L, Scalar(target, "select count(*) from exp_homepage_cta__unit_metrics where unit_id = 'previous-run-sentinel'"));
        Assert.Equal(results, Rows(target, "select experiment_id, metric, variant, p_value from experiment_results order by 1, 2, 3"));
        Assert.Equal(0L, Scalar(target, "select count(*) from information_schema.tables where table_name like '%mc_build%' or table_name like '%mc_old%' or table_name = 'metricc_swap_journal'"));
        Assert.DoesNotContain("\n   at ", error, StringComparison.Ordinal);
        AssertNoSecretLeaked();
    }

    /// <summary>
    /// Two runs on one Trino or Snowflake schema cannot interleave: the lock table `metricc_run_lock` (created by the
    /// run, dropped at its end) makes a second run exit 3 naming the first and change nothing; a lock a killed run left
    /// behind is taken over once it is stale.
    /// </summary>
    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public void A_run_while_another_holds_the_lock_table_changes_nothing_and_a_stale_lock_is_taken_over(string target)
    {
        const string lockCount = "select count(*) from information_schema.tables where table_name = 'metricc_run_lock'";
        var schema = target == "trino" ? "acme" : "ACME";
        Build(target);
        Assert.Equal(0L, Scalar(target, lockCount));
        Engine(target).Execute("insert into exp_homepage_cta__unit_metrics (unit_id) values ('previous-run-sentinel')", schema);

        // Another run holds the lock (as its own create table left it).
        Engine(target).Execute($"create table metricc_run_lock as select '`metricc run` (process 4242 on ci-7)' as holder, '{DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture)}' as since", schema);
        var (exit, _, error) = Metricc("run", target);

        Assert.Equal(3, exit);
        Assert.Contains("in use by `metricc run` (process 4242 on ci-7)", error, StringComparison.Ordinal);
        Assert.Contains("nothing was run or replaced", error, StringComparison.Ordinal);
        Assert.Equal(1L, Scalar(target, "select count(*) from exp_homepage_cta__unit_metrics where unit_id = 'previous-run-sentinel'"));
        Assert.Equal(0L, Scalar(target, "select count(*) from information_schema.tables where table_name like '%mc_build%'"));
        Assert.Equal(1L, Scalar(target, lockCount));

        // The holder was killed seven hours ago: the next run takes the lock over, runs, and releases it.
        Engine(target).Execute("drop table metricc_run_lock", schema);
        Engine(target).Execute($"create table metricc_run_lock as select '`metricc run` (process 4242 on ci-7)' as holder, '{DateTime.UtcNow.AddHours(-7).ToString("o", CultureInfo.InvariantCulture)}' as since", schema);
        // --full-refresh: nothing the experiment reads changed, so a plain run would reuse its tables, sentinel and all.
        var (again, _, againError) = Metricc("run", target, "--full-refresh");

        Assert.True(again == 0, againError);
        Assert.Equal(0L, Scalar(target, "select count(*) from exp_homepage_cta__unit_metrics where unit_id = 'previous-run-sentinel'"));
        Assert.Equal(0L, Scalar(target, lockCount));
        AssertNoSecretLeaked();
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public void A_swap_interrupted_half_way_is_completed_by_the_next_run(string target)
    {
        Build(target);
        Engine(target).FailNext(sql => sql.StartsWith("alter table exp_onboarding_flow__srm__mc_build", StringComparison.Ordinal), "connection reset by peer");
        // --full-refresh: a plain run would reuse the experiment's tables (nothing they read changed) and never swap them.
        var (exit, _, error) = Metricc("run", target, "--full-refresh");
        Assert.Equal(1, exit);
        Assert.Contains("interrupted", error, StringComparison.Ordinal);
        Assert.Equal(1L, Scalar(target, "select count(*) from information_schema.tables where table_name = 'metricc_swap_journal'"));

        var (again, output, againError) = Metricc("run", target);

        Assert.True(again == 0, againError);
        Assert.Contains("Completed the swap an interrupted run left half done", output, StringComparison.Ordinal);
        Assert.Equal(0L, Scalar(target, "select count(*) from information_schema.tables where table_name like '%mc_build%' or table_name like '%mc_old%' or table_name = 'metricc_swap_journal'"));
        Assert.True(Scalar(target, "select count(*) from exp_onboarding_flow__srm") > 0);
        AssertNoSecretLeaked();
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public void A_rejected_credential_is_reported_without_being_printed(string target)
    {
        var variable = target == "trino" ? _passwordVariable : _tokenVariable;
        var wrong = "wrong-credential-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, wrong);
        try
        {
            var (exit, output, error) = Metricc("run", target);
            Assert.NotEqual(0, exit);
            Assert.Contains("401", output + error, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, output + error, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, ArtifactText(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, target == "trino" ? Password : Token);
        }
    }

    private DuckDbEngine Engine(string target) => target == "trino" ? _trino.Engine : _snowflake.Engine;

    private List<string> ReceivedStatements(string target) => target == "trino"
        ? _trino.Server.Statements.Select(s => s.Sql).ToList()
        : _snowflake.Server.Statements.Select(s => s.Statement).ToList();

    private (int Exit, string Output, string Error) Metricc(string command, string target, params string[] options)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run([command, "--project-dir", _root, "--target", target, .. options], output, error);
        _outputs.Add(output.ToString());
        _outputs.Add(error.ToString());
        return (exit, output.ToString(), error.ToString());
    }

    private Dictionary<string, string> Build(string target)
    {
        var (exit, _, error) = Metricc("build", target);
        Assert.True(exit == 0, $"{target}: {error}");
        return new[] { "homepage_cta", "onboarding_flow" }.ToDictionary(e => e, e => File.ReadAllText(Path.Combine(_root, "target", "results", $"{e}.json")));
    }

    private IWarehouseAdapter Open(string target)
    {
        var project = Core.Loading.ProjectLoader.Load(_root).Bound!;
        return AdapterFactory.Open(AdapterFactory.Resolve(project.Definition, target), _root);
    }

    private string Checksum(string target)
    {
        using var adapter = Open(target);
        return DemoData.DemoDataChecksum.Compute(adapter);
    }

    private long Scalar(string target, string sql)
    {
        using var adapter = Open(target);
        return Convert.ToInt64(adapter.Query(sql).Single().Values.Single(), CultureInfo.InvariantCulture);
    }

    private List<string> Rows(string target, string sql)
    {
        using var adapter = Open(target);
        return adapter.Query(sql).Select(r => string.Join("|", r.Values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))).ToList();
    }

    /// <summary>The rows of every statistics and SRM table of the demo on one target, in key order.</summary>
    private Dictionary<string, List<IReadOnlyDictionary<string, object?>>> Statistics(string target)
    {
        using var adapter = Open(target);
        var tables = new Dictionary<string, List<IReadOnlyDictionary<string, object?>>>();
        foreach (var table in new[] { "exp_homepage_cta__statistics", "exp_homepage_cta__segment_statistics", "exp_homepage_cta__srm", "exp_onboarding_flow__statistics", "exp_onboarding_flow__srm" })
        {
            var rows = adapter.Query($"select * from {adapter.Dialect.QuoteRelation(table)}")
                .Select(r => (IReadOnlyDictionary<string, object?>)r.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value))
                .ToList();
            var keys = rows.Count == 0 ? [] : rows[0].Keys.Where(k => rows[0][k] is string).ToList();
            tables[table] = rows.OrderBy(r => string.Join("\u0001", keys.Select(k => r[k]?.ToString())), StringComparer.Ordinal).ToList();
        }

        return tables;
    }

    private static void AssertSameReadout(string expected, string actual, string what)
    {
        using var a = JsonDocument.Parse(expected);
        using var b = JsonDocument.Parse(actual);
        Assert.Equal(a.RootElement.GetProperty("decision").GetString(), b.RootElement.GetProperty("decision").GetString());
        var left = a.RootElement.GetProperty("metrics").EnumerateArray().ToList();
        var right = b.RootElement.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(left.Count, right.Count);
        for (var i = 0; i < left.Count; i++)
        {
            Assert.Equal(left[i].GetProperty("metric").GetString(), right[i].GetProperty("metric").GetString());
            Assert.Equal(left[i].GetProperty("control_n").GetInt64(), right[i].GetProperty("control_n").GetInt64());
            foreach (var field in new[] { "control_mean", "variant_mean", "absolute_lift", "relative_lift", "std_error", "p_value", "adjusted_p_value", "ci_low", "ci_high" })
            {
                if (!left[i].TryGetProperty(field, out var x) || x.ValueKind != JsonValueKind.Number)
                    continue;
                var y = right[i].GetProperty(field);
                Assert.True(y.ValueKind == JsonValueKind.Number, $"{what}/{left[i].GetProperty("metric")}/{field} is not a number");
                AssertSame(x.GetDouble(), y.GetDouble(), $"{what}/{left[i].GetProperty("metric")}/{field}");
            }
        }
    }

    private static void AssertSame(object? expected, object? actual, string what)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{what}: {expected ?? "null"} vs {actual ?? "null"}");
            return;
        }

        if (expected is string || actual is string)
        {
            Assert.True(Equals(expected.ToString(), actual.ToString()), $"{what}: {expected} vs {actual}");
            return;
        }

        var x = Convert.ToDouble(expected, CultureInfo.InvariantCulture);
        var y = Convert.ToDouble(actual, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{what}: {x} vs {y}");
    }

    private string ArtifactText()
    {
        var target = Path.Combine(_root, "target");
        return string.Join("\n", Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".duckdb", StringComparison.Ordinal) && !f.EndsWith(".wal", StringComparison.Ordinal))
            .Select(File.ReadAllText));
    }

    private void AssertNoSecretLeaked()
    {
        var artifacts = ArtifactText();
        Assert.Contains("run_results", string.Join("\n", Directory.EnumerateFiles(Path.Combine(_root, "target"))), StringComparison.Ordinal);
        foreach (var secret in new[] { Password, Token })
        {
            Assert.DoesNotContain(secret, string.Join("\n", _outputs), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, artifacts, StringComparison.Ordinal);
        }
    }

    public async Task DisposeAsync()
    {
        _trino.Dispose();
        await _snowflake.DisposeAsync();
        Environment.SetEnvironmentVariable(_passwordVariable, null);
        Environment.SetEnvironmentVariable(_tokenVariable, null);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
