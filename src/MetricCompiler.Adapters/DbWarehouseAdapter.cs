using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>The parts of an adapter every ADO.NET provider shares: statements, queries, bulk inserts, transactional swap.</summary>
public abstract class DbWarehouseAdapter(DbConnection connection, SqlDialect dialect) : IWarehouseAdapter
{
    public SqlDialect Dialect => dialect;

    public DbConnection Connection => connection;

    public abstract string Description { get; }

    public void Execute(string sql)
    {
        using var command = Command(sql);
        Run(sql, () => command.ExecuteNonQuery());
    }

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string sql)
    {
        using var command = Command(sql);
        return Run(sql, () =>
        {
            using var reader = command.ExecuteReader();
            var rows = new List<IReadOnlyDictionary<string, object?>>();
            while (reader.Read())
            {
                var row = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                for (var i = 0; i < reader.FieldCount; i++)
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null : Normalise(reader.GetValue(i));
                rows.Add(row);
            }

            return rows;
        });
    }

    public abstract bool TableExists(string table);

    /// <summary>
    /// One .NET type per kind of value on every engine: DuckDB's 128-bit integers (the sum of a bigint) arrive as
    /// <see cref="System.Numerics.BigInteger"/>, which nothing downstream converts; they become a long, or a double past its range.
    /// </summary>
    private static object Normalise(object value) => value switch
    {
        System.Numerics.BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        System.Numerics.BigInteger big => (double)big,
        _ => value,
    };

    /// <summary>How the provider marks a named parameter in SQL text.</summary>
    protected virtual string ParameterPrefix => "@";

    public long CountRows(string table)
    {
        var rows = Query($"select count(*) as row_count from {dialect.QuoteRelation(table)}");
        return Convert.ToInt64(rows[0]["row_count"], CultureInfo.InvariantCulture);
    }

    public void WriteTable(string table, IReadOnlyList<ColumnSpec> columns, IEnumerable<object?[]> rows)
    {
        var relation = dialect.QuoteRelation(table);
        using var transaction = connection.BeginTransaction();
        ExecuteIn(transaction, dialect.DropTableIfExists(relation));
        var definitions = string.Join(", ", columns.Select(c => $"{dialect.QuoteIdentifier(c.Name)} {dialect.TypeName(c.Type)}"));
        ExecuteIn(transaction, $"create table {relation} ({definitions})");
        var parameters = string.Join(", ", columns.Select((_, i) => $"{ParameterPrefix}p{i}"));
        using var insert = Command($"insert into {relation} values ({parameters})");
        insert.Transaction = transaction;
        for (var i = 0; i < columns.Count; i++)
        {
            var parameter = insert.CreateParameter();
            parameter.ParameterName = ParameterPrefix == "$" ? $"p{i}" : $"@p{i}";
            insert.Parameters.Add(parameter);
        }

        foreach (var row in rows)
        {
            for (var i = 0; i < columns.Count; i++)
                insert.Parameters[i].Value = row[i] ?? DBNull.Value;
            Run(insert.CommandText, () => insert.ExecuteNonQuery());
        }

        transaction.Commit();
    }

    public virtual void SwapTables(IReadOnlyList<(string Built, string Final)> swaps, IReadOnlyList<string>? before = null, IReadOnlyList<string>? after = null)
    {
        if (swaps.Count == 0 && (before?.Count ?? 0) == 0 && (after?.Count ?? 0) == 0)
            return;
        using var transaction = connection.BeginTransaction();
        try
        {
            foreach (var statement in before ?? [])
                ExecuteIn(transaction, statement);
            foreach (var (built, final) in swaps)
            {
                var retired = $"{final}__mc_retired";
                ExecuteIn(transaction, dialect.DropTableIfExists(dialect.QuoteRelation(retired)));
                if (TableExists(final, transaction))
                    ExecuteIn(transaction, dialect.RenameTable(dialect.QuoteRelation(final), UnqualifiedName(retired)));
                ExecuteIn(transaction, dialect.RenameTable(dialect.QuoteRelation(built), UnqualifiedName(final)));
                ExecuteIn(transaction, dialect.DropTableIfExists(dialect.QuoteRelation(retired)));
            }

            foreach (var statement in after ?? [])
                ExecuteIn(transaction, statement);
            transaction.Commit();
        }
        catch
        {
            transaction.Rollback();
            throw;
        }
    }

    protected abstract bool TableExists(string table, DbTransaction? transaction);

    protected static string UnqualifiedName(string relation) => relation[(relation.LastIndexOf('.') + 1)..];

    protected void ExecuteIn(DbTransaction transaction, string sql)
    {
        using var command = Command(sql);
        command.Transaction = transaction;
        Run(sql, () => command.ExecuteNonQuery());
    }

    protected DbCommand Command(string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 0;
        return command;
    }

    private static T Run<T>(string sql, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DbException e)
        {
            throw new WarehouseException($"{e.Message.Trim()}{Environment.NewLine}in statement:{Environment.NewLine}{Excerpt(sql)}", e);
        }
    }

    private static string Excerpt(string sql)
    {
        var lines = sql.Split('\n');
        var sb = new StringBuilder();
        foreach (var line in lines.Take(12))
            sb.Append("    ").Append(line).Append('\n');
        if (lines.Length > 12)
            sb.Append($"    ... ({lines.Length - 12} more lines)\n");
        return sb.ToString().TrimEnd();
    }

    public void Dispose()
    {
        if (connection.State != ConnectionState.Closed)
            connection.Close();
        connection.Dispose();
        GC.SuppressFinalize(this);
    }
}
