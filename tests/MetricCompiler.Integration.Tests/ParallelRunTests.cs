using System.Globalization;
using System.Text.Json;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// <c>--threads N</c>: a parallel build of the demo gives the tables, readouts and run results of a serial one (DuckDB
/// and PostgreSQL), and a failing node skips exactly its descendants while the independent nodes still run.
/// </summary>
public sealed class ParallelRunTests : IDisposable
{
    private readonly string _serial = Path.Combine(Path.GetTempPath(), "metricc-threads", Guid.NewGuid().ToString("N"));
    private readonly string _parallel = Path.Combine(Path.GetTempPath(), "metricc-threads", Guid.NewGuid().ToString("N"));
    private readonly List<string> _schemas = [];

    [Fact]
    public void Parallel_duckdb_build_equals_a_serial_one()
    {
        DemoCopy.To(_serial, Smaller);
        DemoCopy.To(_parallel, Smaller);
        AssertSameBuild("dev");
    }

    [Fact]
    public void Parallel_postgres_build_equals_a_serial_one()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        DemoCopy.To(_serial, yaml => Smaller(yaml).Replace("schema: acme", $"schema: {Schema()}"));
        DemoCopy.To(_parallel, yaml => Smaller(yaml).Replace("schema: acme", $"schema: {Schema()}"));
        AssertSameBuild("warehouse");
    }

    [Fact]
    public void A_second_postgres_run_fails_while_another_holds_the_schema()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        var schema = Schema();
        DemoCopy.To(_parallel, yaml => Smaller(yaml).Replace("schema: acme", $"schema: {schema}"));
        Run(_parallel, "warehouse", 2, expectedExit: 0);

        // The other run: a session holding the schema's run lock.
        using var other = Connect();
        using (var command = new Npgsql.NpgsqlCommand($"select pg_advisory_lock(hashtext('metricc_run:{schema}'))", other))
            command.ExecuteNonQuery();
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["run", "--project-dir", _parallel, "--target", "warehouse"], output, error);
        Assert.Equal(3, exit);
        Assert.Contains($"is in use by another run (PostgreSQL backend {other.ProcessID}", error.ToString());
    }

    [Fact]
    public void A_failing_node_skips_exactly_its_descendants()
    {
        DemoCopy.To(_parallel, Smaller);
        Run(_parallel, "dev", 4, expectedExit: 0);
        var before = Rows(_parallel, "dev", "exp_homepage_cta__unit_metrics").Count;

        // Break the SQL model: it fails on the engine, its descendants cannot run, every other node can.
        var path = Path.Combine(_parallel, "project_template", "models", "sql", "page_loads.sql");
        File.WriteAllText(path, File.ReadAllText(path).Replace("and page_load_ms is not null", "and no_such_column is not null"));
        var error = Run(_parallel, "dev", 4, expectedExit: 1);

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_parallel, "target", "run_results.json")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(_parallel, "target", "manifest.json")));
        var nodes = results.RootElement.GetProperty("results").EnumerateArray()
            .Where(r => r.GetProperty("resource_type").GetString() == "node")
            .ToDictionary(r => r.GetProperty("node").GetString()!, r => r.GetProperty("status").GetString()!);
        var failed = nodes.Where(n => n.Value == "error").Select(n => n.Key).ToHashSet();
        Assert.NotEmpty(failed);
        Assert.Equal(["page_loads"], failed);
        Assert.Contains("no_such_column", error);

        // The reference: descendants walked over the manifest's child map, not the scheduler's graph.
        var children = manifest.RootElement.GetProperty("child_map").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(c => c.GetString()!).ToList());
        var descendants = new HashSet<string>();
        var stack = new Stack<string>(failed);
        while (stack.Count > 0)
            foreach (var child in children.GetValueOrDefault(stack.Pop()) ?? [])
                if (descendants.Add(child))
                    stack.Push(child);

        Assert.Equal(descendants.Where(nodes.ContainsKey).Order(), nodes.Where(n => n.Value == "skipped").Select(n => n.Key).Order());
        Assert.All(nodes.Where(n => !failed.Contains(n.Key) && !descendants.Contains(n.Key)), n => Assert.Contains(n.Value, new[] { "success", "reused" }));
        Assert.Contains(nodes, n => n.Value == "success");
        var testsOnFailed = results.RootElement.GetProperty("results").EnumerateArray()
            .Where(r => r.GetProperty("resource_type").GetString() == "test" && r.GetProperty("attached_to").GetString() == "page_loads").ToList();
        Assert.NotEmpty(testsOnFailed);
        Assert.All(testsOnFailed, t => Assert.Equal("skipped", t.GetProperty("status").GetString()));

        // Nothing was swapped in: the previous tables are whole and no build table is left.
        Assert.Equal(before, Rows(_parallel, "dev", "exp_homepage_cta__unit_metrics").Count);
        using var adapter = Open(_parallel, "dev");
        Assert.Empty(adapter.Query("select table_name from information_schema.tables where table_name like '%__mc_build'"));
    }

    private void AssertSameBuild(string target)
    {
        Run(_serial, target, 1, expectedExit: 0);
        Run(_parallel, target, 4, expectedExit: 0);

        var serialResults = ResultList(_serial);
        Assert.Equal(serialResults, ResultList(_parallel));
        foreach (var node in serialResults.Where(r => r.Type == "node" && r.Status == "success").Select(r => r.Node))
        {
            var expected = Rows(_serial, target, node);
            var actual = Rows(_parallel, target, node);
            Assert.True(expected.Count > 0 || node.StartsWith("stg_", StringComparison.Ordinal), $"{node} is empty");
            Assert.True(expected.SequenceEqual(actual), $"{target}: `{node}` differs between the serial and the parallel build");
        }

        foreach (var experiment in new[] { "homepage_cta", "onboarding_flow" })
        {
            using var a = JsonDocument.Parse(File.ReadAllText(Path.Combine(_serial, "target", "results", $"{experiment}.json")));
            using var b = JsonDocument.Parse(File.ReadAllText(Path.Combine(_parallel, "target", "results", $"{experiment}.json")));
            Assert.Equal(a.RootElement.GetProperty("decision").GetString(), b.RootElement.GetProperty("decision").GetString());
            AssertSameJson(a.RootElement.GetProperty("metrics"), b.RootElement.GetProperty("metrics"), $"{experiment}.metrics");
        }
    }

    /// <summary>The same JSON, numbers to 1e-9 relative (an engine may sum floating-point values in another order).</summary>
    private static void AssertSameJson(JsonElement expected, JsonElement actual, string path)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {expected.ValueKind} vs {actual.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.Equal(expected.EnumerateObject().Select(p => p.Name), actual.EnumerateObject().Select(p => p.Name));
                foreach (var property in expected.EnumerateObject())
                    AssertSameJson(property.Value, actual.GetProperty(property.Name), $"{path}.{property.Name}");
                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: length differs");
                for (var i = 0; i < expected.GetArrayLength(); i++)
                    AssertSameJson(expected[i], actual[i], $"{path}[{i}]");
                break;
            case JsonValueKind.Number:
                var (x, y) = (expected.GetDouble(), actual.GetDouble());
                Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{path}: {x} vs {y}");
                break;
            default:
                Assert.True(expected.GetRawText() == actual.GetRawText(), $"{path}: {expected.GetRawText()} vs {actual.GetRawText()}");
                break;
        }
    }

    private static string Smaller(string yaml) => yaml.Replace("users: 40000", "users: 4000");

    private string Schema()
    {
        var schema = "t_" + Guid.NewGuid().ToString("N")[..12];
        _schemas.Add(schema);
        return schema;
    }

    private static string Run(string root, string target, int threads, int expectedExit)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["build", "--project-dir", root, "--target", target, "--threads", threads.ToString(CultureInfo.InvariantCulture)], output, error);
        Assert.True(exit == expectedExit, $"--threads {threads} exited {exit}: {output}{error}");
        return error.ToString();
    }

    /// <summary>Every node and test of run_results.json with its status and row count, in the order listed.</summary>
    private static List<(string Node, string Type, string Status, string Rows)> ResultList(string root)
    {
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "target", "run_results.json")));
        return results.RootElement.GetProperty("results").EnumerateArray().Select(r => (
            r.GetProperty("node").GetString()!, r.GetProperty("resource_type").GetString()!, r.GetProperty("status").GetString()!,
            r.TryGetProperty("rows", out var rows) ? rows.GetRawText() : "")).ToList();
    }

    private static IWarehouseAdapter Open(string root, string target)
    {
        var project = Core.Loading.ProjectLoader.Load(root).Bound!;
        return AdapterFactory.Open(AdapterFactory.Resolve(project.Definition, target), root);
    }

    /// <summary>A table's rows as text (the time a readout was analysed left out), sorted.</summary>
    private static List<string> Rows(string root, string target, string table)
    {
        using var adapter = Open(root, target);
        return adapter.Query($"select * from {adapter.Dialect.QuoteRelation(table)}")
            .Select(r => string.Join("|", r.Where(c => c.Key != "analysed_at").OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => c.Key + "=" + Convert.ToString(c.Value is double d ? d.ToString("G10", CultureInfo.InvariantCulture) : c.Value, CultureInfo.InvariantCulture))))
            .Order(StringComparer.Ordinal).ToList();
    }

    private static Npgsql.NpgsqlConnection Connect()
    {
        var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = Environment.GetEnvironmentVariable("METRICC_PG_HOST"),
            Port = int.Parse(Environment.GetEnvironmentVariable("METRICC_PG_PORT")!, CultureInfo.InvariantCulture),
            Database = Environment.GetEnvironmentVariable("METRICC_PG_DATABASE"),
            Username = Environment.GetEnvironmentVariable("METRICC_PG_USER"),
            Password = Environment.GetEnvironmentVariable("METRICC_PG_PASSWORD"),
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        foreach (var schema in _schemas)
        {
            try
            {
                using var connection = Connect();
                using var command = new Npgsql.NpgsqlCommand($"drop schema if exists {schema} cascade", connection);
                command.ExecuteNonQuery();
            }
            catch (Npgsql.NpgsqlException)
            {
            }
        }

        foreach (var root in new[] { _serial, _parallel })
        {
            try
            {
                if (Directory.Exists(root))
                    Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
