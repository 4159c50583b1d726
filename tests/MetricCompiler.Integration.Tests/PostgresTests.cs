using System.Text.Json;
using MetricCompiler.Cli.Commands;
using Npgsql;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The same project on a real PostgreSQL (started by scripts/postgres.sh from ./test.sh) and on SQLite must give the
/// same readout, and a failed run on PostgreSQL must leave the previous tables whole.
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

    [Fact]
    public void Postgres_and_sqlite_give_the_same_readout()
    {
        var sqlite = Build("dev");
        var postgres = Build("warehouse");

        foreach (var experiment in new[] { "homepage_cta", "onboarding_flow" })
        {
            using var a = JsonDocument.Parse(sqlite[experiment]);
            using var b = JsonDocument.Parse(postgres[experiment]);
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
                    Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{experiment}/{left[i].GetProperty("metric")}/{field}: sqlite {x} vs postgres {y}");
                }
            }
        }

        Assert.True(Count("experiment_results") > 0);
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
