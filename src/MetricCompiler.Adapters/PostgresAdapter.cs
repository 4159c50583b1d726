using System.Data.Common;
using Npgsql;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>PostgreSQL through Npgsql. DDL is transactional, so the swap of built tables is atomic here too.</summary>
public sealed class PostgresAdapter : DbWarehouseAdapter
{
    private readonly string _description;

    private PostgresAdapter(NpgsqlConnection connection, string description)
        : base(connection, PostgresDialect.Instance) => _description = description;

    public override string Description => _description;

    /// <summary>Opens a connection; the password is used, never printed.</summary>
    public static PostgresAdapter Open(string host, int port, string database, string user, string? password, string schema)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Database = database,
            Username = user,
            Password = password,
            SearchPath = schema,
            // Timestamps without a zone are UTC instants (the timestamp contract), whatever the server's default.
            Timezone = "UTC",
            CommandTimeout = 0,
            Timeout = 15,
            Pooling = false,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            connection.Open();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            connection.Dispose();
            // A server that is down is a warehouse failure (retry later), not a bad target (which is bad usage).
            throw new WarehouseException($"cannot connect to postgres at {host}:{port}/{database} as {user}: {e.Message}", e);
        }

        var adapter = new PostgresAdapter(connection, $"postgres {user}@{host}:{port}/{database} (schema {schema})");
        adapter.Execute($"create schema if not exists {PostgresDialect.Instance.QuoteIdentifier(schema)}");
        return adapter;
    }

    protected override Loading.LoadSink CreateSink(TableSpec table, DbTransaction transaction) =>
        new Loading.PostgresCopySink((NpgsqlConnection)Connection, table);

    public override bool TableExists(string table) => TableExists(table, null);

    protected override bool TableExists(string table, DbTransaction? transaction)
    {
        var parts = table.Split('.');
        using var command = Command(parts.Length > 1
            ? "select count(*) from information_schema.tables where table_schema = @schema and table_name = @name"
            : "select count(*) from information_schema.tables where table_schema = current_schema() and table_name = @name");
        command.Transaction = transaction;
        AddParameter(command, "@name", parts[^1]);
        if (parts.Length > 1)
            AddParameter(command, "@schema", parts[^2]);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
