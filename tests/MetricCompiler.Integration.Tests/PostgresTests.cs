using System.Text.Json;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using Npgsql;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The same project on a real PostgreSQL (started by scripts/postgres.sh from ./test.sh), on SQLite and on DuckDB must
/// give the same statistics and readouts, and a failed run on PostgreSQL must leave the previous tables whole.
/// </summary>
public sealed class PostgresTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-pg", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "t_" + Guid.NewGuid().ToString("N")[..12];

    public PostgresTests()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 4000").Replace("schema: acme", $"schema: {_schema}"));
    }

    /// <summary>
    /// Issue 9's conformance: the demo on SQLite, DuckDB and PostgreSQL gives the same sufficient statistics (every column,
    /// to 1e-9 relative) and the same readouts.
    /// </summary>
    [Fact]
    public void Sqlite_duckdb_and_postgres_give_the_same_statistics_and_readouts()
    {
        string[] targets = ["sqlite", "dev", "warehouse"];
        var readouts = targets.ToDictionary(t => t, Build);
        var statistics = targets.ToDictionary(t => t, t => Statistics(t));

        foreach (var target in targets.Skip(1))
        {
            foreach (var (table, rows) in statistics["sqlite"])
            {
                var other = statistics[target][table];
                Assert.True(rows.Count == other.Count, $"{table}: sqlite has {rows.Count} rows, {target} {other.Count}");
                Assert.True(rows.Count > 0, $"{table} is empty");
                for (var i = 0; i < rows.Count; i++)
                {
                    foreach (var (column, value) in rows[i])
                        AssertSame(value, other[i][column], $"{table} row {i} `{column}`: sqlite vs {target}");
                }
            }

            foreach (var experiment in new[] { "homepage_cta", "onboarding_flow" })
            {
                using var a = JsonDocument.Parse(readouts["sqlite"][experiment]);
                using var b = JsonDocument.Parse(readouts[target][experiment]);
                Assert.Equal(a.RootElement.GetProperty("decision").GetString(), b.RootElement.GetProperty("decision").GetString());
                var left = a.RootElement.GetProperty("metrics").EnumerateArray().ToList();
                var right = b.RootElement.GetProperty("metrics").EnumerateArray().ToList();
                Assert.Equal(left.Count, right.Count);
                for (var i = 0; i < left.Count; i++)
                {
                    Assert.Equal(left[i].GetProperty("control_n").GetInt64(), right[i].GetProperty("control_n").GetInt64());
                    foreach (var field in new[] { "control_mean", "variant_mean", "absolute_lift", "std_error", "p_value" })
                    {
                        if (left[i].GetProperty(field).ValueKind != JsonValueKind.Number)
                            continue;
                        var x = left[i].GetProperty(field).GetDouble();
                        var y = right[i].GetProperty(field).GetDouble();
                        Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{experiment}/{left[i].GetProperty("metric")}/{field}: sqlite {x} vs {target} {y}");
                    }
                }
            }
        }

        Assert.True(Count("experiment_results") > 0);
    }

    /// <summary>The rows of every statistics and SRM table of the demo on one target, in key order.</summary>
    private Dictionary<string, List<IReadOnlyDictionary<string, object?>>> Statistics(string target)
    {
        var project = MetricCompiler.Core.Loading.ProjectLoader.Load(_root).Bound!;
        using var adapter = MetricCompiler.Adapters.AdapterFactory.Open(MetricCompiler.Adapters.AdapterFactory.Resolve(project.Definition, target), _root);
        var tables = new Dictionary<string, List<IReadOnlyDictionary<string, object?>>>();
        foreach (var table in new[] { "exp_homepage_cta__statistics", "exp_homepage_cta__segment_statistics", "exp_homepage_cta__srm", "exp_onboarding_flow__statistics", "exp_onboarding_flow__srm" })
        {
            var rows = adapter.Query($"select * from {adapter.Dialect.QuoteRelation(table)}");
            var keys = rows.Count == 0 ? [] : rows[0].Keys.Where(k => rows[0][k] is string).ToList();
            tables[table] = rows.OrderBy(r => string.Join("\u0001", keys.Select(k => r[k]?.ToString())), StringComparer.Ordinal).ToList();
        }

        return tables;
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

        var x = Convert.ToDouble(expected, System.Globalization.CultureInfo.InvariantCulture);
        var y = Convert.ToDouble(actual, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{what}: {x} vs {y}");
    }

    [Fact]
    public void Failed_run_on_postgres_leaves_the_previous_tables_whole()
    {
        Build("warehouse");
        var before = Count("exp_homepage_cta__unit_metrics");
        var results = Count("experiment_results");

        var path = Path.Combine(_root, "project_template", "models", "metrics", "commerce.yml");
        File.WriteAllText(path, File.ReadAllText(path).Replace("expr: revenue", "expr: no_such_function(revenue)"));
        var error = new StringWriter();
        var exit = CommandLine.Run(["run", "--project-dir", _root, "--target", "warehouse"], new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.Contains("no_such_function", error.ToString());
        Assert.Equal(before, Count("exp_homepage_cta__unit_metrics"));
        Assert.Equal(results, Count("experiment_results"));
        Assert.Equal(0L, Scalar($"select count(*) from information_schema.tables where table_schema = '{_schema}' and table_name like '%__mc_build'"));
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("METRICC_PG_PASSWORD")!, error.ToString());
    }

    /// <summary>
    /// PostgreSQL binds a view to the table, not its name: after a build has created the `page_loads` view over
    /// `stg_events`, a run that selects only an experiment (and so swaps `stg_events` but not the view) must recreate
    /// the view over the new table, or the retired table cannot be dropped (found by `metricc bench run`).
    /// </summary>
    [Fact]
    public void A_selection_that_replaces_a_table_an_unselected_view_reads_keeps_the_view()
    {
        Build("warehouse");
        var viewRows = Count("page_loads");

        var error = new StringWriter();
        var exit = CommandLine.Run(["run", "--project-dir", _root, "--target", "warehouse", "--select", "+exp_homepage_cta__statistics"], new StringWriter(), error);

        Assert.True(exit == 0, error.ToString());
        Assert.Equal(viewRows, Count("page_loads"));
        Assert.Equal(0L, Scalar($"select count(*) from information_schema.tables where table_schema = '{_schema}' and table_name like '%__mc_retired'"));
        Assert.Equal(1L, Scalar($"select count(*) from information_schema.views where table_schema = '{_schema}' and table_name = 'page_loads'"));
    }

    private Dictionary<string, string> Build(string target)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["build", "--project-dir", _root, "--target", target], output, error);
        Assert.True(exit == 0, $"{target}: {error}");
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("METRICC_PG_PASSWORD")!, output.ToString());
        return new[] { "homepage_cta", "onboarding_flow" }.ToDictionary(e => e, e => File.ReadAllText(Path.Combine(_root, "target", "results", $"{e}.json")));
    }

    private long Count(string table) => Scalar($"select count(*) from {_schema}.{table}");

    private static NpgsqlConnection Connect()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = Environment.GetEnvironmentVariable("METRICC_PG_HOST"),
            Port = int.Parse(Environment.GetEnvironmentVariable("METRICC_PG_PORT")!, System.Globalization.CultureInfo.InvariantCulture),
            Database = Environment.GetEnvironmentVariable("METRICC_PG_DATABASE"),
            Username = Environment.GetEnvironmentVariable("METRICC_PG_USER"),
            Password = Environment.GetEnvironmentVariable("METRICC_PG_PASSWORD"),
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static long Scalar(string sql)
    {
        using var connection = Connect();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        try
        {
            using var connection = Connect();
            using var command = new NpgsqlCommand($"drop schema if exists {_schema} cascade", connection);
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
