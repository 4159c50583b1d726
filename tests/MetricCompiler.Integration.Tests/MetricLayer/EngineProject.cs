using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Execution.Queries;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>A raw table to load into every engine: its columns and rows (timestamps as UTC text 'yyyy-MM-dd HH:mm:ss').</summary>
public sealed record RawTable(string Name, IReadOnlyList<ColumnSpec> Columns, IReadOnlyList<object?[]> Rows);

/// <summary>
/// One project on every engine the suite executes (embedded SQLite and DuckDB, and a real PostgreSQL): the same raw rows are loaded
/// into each, the DAG is built on each, and queries and tables can be read back per engine. Correctness tests compare
/// each engine's answer with an independent reference computed in the test.
/// </summary>
public sealed class EngineProject : IDisposable
{
    public static IReadOnlyList<string> Engines { get; } = ["sqlite", "duckdb", "postgres"];

    private readonly string _schema = "m_" + Guid.NewGuid().ToString("N")[..12];

    /// <param name="definitions">The project's sources, metrics and experiments (everything after the targets).</param>
    public EngineProject(string definitions, params RawTable[] tables)
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        Root = Path.Combine(Path.GetTempPath(), "metricc-layer", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "metrics.yml"), $"""
            version: 1
            name: layer
            default_target: sqlite
            targets:
              sqlite:
                adapter: sqlite
                path: target/warehouse.db
              duckdb:
                adapter: duckdb
                path: target/warehouse.duckdb
              postgres:
                adapter: postgres
                host_env: METRICC_PG_HOST
                port_env: METRICC_PG_PORT
                database_env: METRICC_PG_DATABASE
                user_env: METRICC_PG_USER
                password_env: METRICC_PG_PASSWORD
                schema: {_schema}

            """ + definitions);
        var load = ProjectLoader.Load(Root);
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        Project = load.Bound!;
        foreach (var engine in Engines)
        {
            using var adapter = Open(engine);
            foreach (var table in tables)
                adapter.WriteTable(table.Name, table.Columns, table.Rows);
        }
    }

    public string Root { get; }

    public BoundProject Project { get; }

    public IWarehouseAdapter Open(string engine) =>
        AdapterFactory.Open(AdapterFactory.Resolve(Project.Definition, engine), Root);

    /// <summary>Builds the selected nodes (all by default) on one engine.</summary>
    public void Build(string engine, params string[] select)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(Root, engine, select.Length == 0 ? null : select));
        Assert.True(outcome.ExitCode == 0, $"{engine}: {outcome.Error}");
    }

    public QueryResult Query(string engine, MetricQuery query)
    {
        using var adapter = Open(engine);
        return QueryRunner.Run(Project, query, adapter);
    }

    /// <summary>Rows of a built table on one engine, in the given order, values normalised like query results.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows(string engine, string sql)
    {
        using var adapter = Open(engine);
        return adapter.Query(sql);
    }

    /// <summary>A result column as doubles (null stays null), in row order.</summary>
    public static IReadOnlyList<double?> Column(QueryResult result, string column)
    {
        var index = result.Columns.ToList().IndexOf(column);
        Assert.True(index >= 0, $"no column `{column}` in [{string.Join(", ", result.Columns)}]");
        return result.Rows.Select(r => r[index] is null ? (double?)null : Convert.ToDouble(r[index], CultureInfo.InvariantCulture)).ToList();
    }

    public static IReadOnlyList<string?> Keys(QueryResult result, string column)
    {
        var index = result.Columns.ToList().IndexOf(column);
        Assert.True(index >= 0, $"no column `{column}` in [{string.Join(", ", result.Columns)}]");
        return result.Rows.Select(r => r[index]?.ToString()).ToList();
    }

    /// <summary>Asserts two value sequences are equal to a relative tolerance (nulls must match).</summary>
    public static void Close(IReadOnlyList<double?> expected, IReadOnlyList<double?> actual, string what, double tolerance = 1e-9)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}: [{string.Join(", ", actual)}]");
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i] is not { } e || actual[i] is not { } a)
            {
                Assert.True(expected[i] is null && actual[i] is null, $"{what}[{i}]: expected {expected[i]?.ToString() ?? "null"}, got {actual[i]?.ToString() ?? "null"}");
                continue;
            }

            Assert.True(Math.Abs(e - a) <= tolerance * Math.Max(1, Math.Abs(e)), $"{what}[{i}]: expected {e}, got {a}");
        }
    }

    public static ColumnSpec Text(string name) => new(name, SqlType.String);

    public static ColumnSpec Number(string name) => new(name, SqlType.Double);

    public void Dispose()
    {
        try
        {
            using var adapter = Open("postgres");
            adapter.Execute($"drop schema if exists {_schema} cascade");
        }
        catch (Exception e) when (e is WarehouseException or TargetException)
        {
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
