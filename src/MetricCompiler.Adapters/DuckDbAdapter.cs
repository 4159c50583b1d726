using System.Data.Common;
using DuckDB.NET.Data;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>
/// The embedded analytical engine: a DuckDB file (DuckDB.NET with its native library). DDL is transactional, so the
/// swap of built tables is atomic here too. The session time zone is UTC, so timestamps mean the same as elsewhere.
/// </summary>
public sealed class DuckDbAdapter : DbWarehouseAdapter
{
    private readonly string _path;

    private DuckDbAdapter(DuckDBConnection connection, string path)
        : base(connection, DuckDbDialect.Instance) => _path = path;

    public override string Description => $"duckdb {_path}";

    protected override string ParameterPrefix => "$";

    public static DuckDbAdapter Open(string path, string displayPath)
    {
        if (path != ":memory:")
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new DuckDBConnection($"Data Source={path}");
        try
        {
            connection.Open();
        }
        catch (DuckDBException e)
        {
            connection.Dispose();
            throw new TargetException($"cannot open the DuckDB warehouse `{displayPath}`: {e.Message.Trim()}");
        }

        var adapter = new DuckDbAdapter(connection, displayPath);
        adapter.Execute("set TimeZone = 'UTC'");
        return adapter;
    }

    protected override Loading.LoadSink CreateSink(TableSpec table, DbTransaction transaction) =>
        new Loading.DuckDbAppenderSink((DuckDBConnection)Connection, table);

    public override bool TableExists(string table) => TableExists(table, null);

    protected override bool TableExists(string table, DbTransaction? transaction)
    {
        using var command = Command("select count(*) from information_schema.tables where table_schema = current_schema() and table_name = $name");
        command.Transaction = transaction;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "name";
        parameter.Value = UnqualifiedName(table);
        command.Parameters.Add(parameter);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }
}
