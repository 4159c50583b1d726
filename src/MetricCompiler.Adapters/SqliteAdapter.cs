using System.Data.Common;
using Microsoft.Data.Sqlite;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>The embedded default: a SQLite file (DDL is transactional, so the swap is atomic).</summary>
public sealed class SqliteAdapter : DbWarehouseAdapter
{
    private readonly string _path;

    private SqliteAdapter(SqliteConnection connection, string path)
        : base(connection, SqliteDialect.Instance) => _path = path;

    public override string Description => $"sqlite {_path}";

    public static SqliteAdapter Open(string path, string displayPath)
    {
        if (path != ":memory:")
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // case_sensitive_like: `like` means what it means on every other engine (the dialect spells ilike with lower()).
            pragma.CommandText = "pragma journal_mode = wal; pragma synchronous = normal; pragma temp_store = memory; pragma cache_size = -65536; pragma case_sensitive_like = on;";
            pragma.ExecuteNonQuery();
        }

        return new SqliteAdapter(connection, displayPath);
    }

    public override bool TableExists(string table) => TableExists(table, null);

    protected override bool TableExists(string table, DbTransaction? transaction)
    {
        using var command = Command("select count(*) from sqlite_master where type = 'table' and name = @name");
        command.Transaction = transaction;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@name";
        parameter.Value = UnqualifiedName(table);
        command.Parameters.Add(parameter);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }
}
