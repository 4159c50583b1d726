using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using MetricCompiler.Adapters.Loading;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>The parts of an adapter every ADO.NET provider shares: statements, streaming reads, bulk loads, transactional swap.</summary>
public abstract class DbWarehouseAdapter(DbConnection connection, SqlDialect dialect) : IWarehouseAdapter
{
    public SqlDialect Dialect => dialect;

    /// <summary>The provider's connection, for the adapter's own bulk paths.</summary>
    protected DbConnection Connection => connection;

    public abstract string Description { get; }

    public void Execute(string sql)
    {
        using var command = Command(sql);
        Run(sql, () => command.ExecuteNonQuery());
    }

    public void Read(string sql, WarehouseRowHandler onRow)
    {
        using var command = Command(sql);
        Run(sql, () =>
        {
            using var reader = command.ExecuteReader();
            var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
            while (reader.Read())
            {
                var row = new object?[names.Length];
                for (var i = 0; i < names.Length; i++)
                    row[i] = reader.IsDBNull(i) ? null : Normalise(reader.GetValue(i));
                onRow(names, row);
            }

            return 0;
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

    /// <summary>Rows per multi-row INSERT of the generic load path (<see cref="BatchedInsertSink"/>).</summary>
    protected virtual int RowsPerInsert(int columns) => BatchedInsertSink.RowsPerStatement(isSqlite: false, columns);

    public long CountRows(string table)
    {
        long count = 0;
        Read($"select count(*) as row_count from {dialect.QuoteRelation(table)}",
            (_, row) => count = Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        return count;
    }

    public void LoadTables(IReadOnlyList<TableSpec> tables, Action<IReadOnlyList<IRowSink>> fill)
    {
        using var transaction = connection.BeginTransaction();
        var sinks = new List<LoadSink>();
        try
        {
            foreach (var table in tables)
            {
                var relation = dialect.QuoteRelation(table.Name);
                ExecuteIn(transaction, dialect.DropTableIfExists(relation));
                ExecuteIn(transaction, dialect.CreateTableSql(relation, table.Columns));
            }

            foreach (var table in tables)
                sinks.Add(CreateSink(table, transaction));
            Run("(bulk load)", () =>
            {
                fill(sinks);
                foreach (var sink in sinks)
                    sink.Complete();
                return 0;
            });
        }
        finally
        {
            foreach (var sink in sinks)
                sink.Dispose();
        }

        transaction.Commit();
    }

    /// <summary>The engine's bulk path for one table; multi-row parameterised INSERTs unless overridden.</summary>
    protected virtual LoadSink CreateSink(TableSpec table, DbTransaction transaction) =>
        new BatchedInsertSink(connection, transaction, dialect, table, ParameterPrefix, RowsPerInsert(table.Columns.Count));

    public bool SwapsInOneTransaction => true;

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
            FaultPoint.Reach(FaultPoint.InsideSwap);
            transaction.Commit();
        }
        catch
        {
            try
            {
                transaction.Rollback();
            }
            catch (Exception e) when (e is DbException or InvalidOperationException)
            {
                // The connection is gone (the server stopped): the server rolled the transaction back; report why it failed.
            }

            throw;
        }
    }

    /// <summary>DDL is transactional here: a swap either committed or rolled back, so nothing is ever pending.</summary>
    public IReadOnlyList<string> RecoverInterruptedSwap() => [];

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
            throw new WarehouseException($"{e.Message.Trim()}{Environment.NewLine}in statement:{Environment.NewLine}{StatementExcerpt.Of(sql)}", e);
        }
    }

    public void Dispose()
    {
        if (connection.State != ConnectionState.Closed)
            connection.Close();
        connection.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The first lines of a statement, indented, for error messages.</summary>
public static class StatementExcerpt
{
    public static string Of(string sql)
    {
        var lines = sql.Split('\n');
        var sb = new StringBuilder();
        foreach (var line in lines.Take(12))
            sb.Append("    ").Append(line.Length > 400 ? line[..400] + " ..." : line).Append('\n');
        if (lines.Length > 12)
            sb.Append(CultureInfo.InvariantCulture, $"    ... ({lines.Length - 12} more lines)\n");
        return sb.ToString().TrimEnd();
    }
}
