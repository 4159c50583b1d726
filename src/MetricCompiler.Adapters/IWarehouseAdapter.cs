using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Adapters;

/// <summary>A column of a table the adapter creates: its name, portable type and whether it may hold NULL.</summary>
public sealed record ColumnSpec(string Name, SqlType Type, bool Nullable = true);

/// <summary>A table the adapter creates and fills from values computed outside the warehouse (demo data, the readout).</summary>
public sealed record TableSpec(string Name, IReadOnlyList<ColumnSpec> Columns);

/// <summary>
/// A warehouse failure, with the statement that caused it; never carries connection secrets. <see cref="SwapPending"/>
/// says a journaled swap was interrupted: its built tables must be kept, the next run completes it.
/// </summary>
public sealed class WarehouseException(string message, Exception? inner = null, bool swapPending = false) : Exception(message, inner)
{
    public WarehouseException(string message, bool swapPending)
        : this(message, null, swapPending)
    {
    }

    public bool SwapPending { get; } = swapPending;
}

/// <summary>
/// Receives one result row: the column names and the row's values (null, long, double, decimal, string, bool,
/// DateTime, DateOnly). The array is the caller's to keep.
/// </summary>
public delegate void WarehouseRowHandler(IReadOnlyList<string> columns, object?[] row);

/// <summary>Where the rows of one table go during <see cref="IWarehouseAdapter.LoadTables"/>.</summary>
public interface IRowSink
{
    long RowsWritten { get; }

    /// <summary>One row, values in column order: null, string, double, long, bool, DateTime.</summary>
    void WriteRow(params ReadOnlySpan<object?> values);
}

/// <summary>
/// What the runner and the seeding need from a warehouse. Implementations speak one engine's protocol; everything
/// dialect-specific in SQL text comes from <see cref="Dialect"/>.
/// </summary>
public interface IWarehouseAdapter : IDisposable
{
    SqlDialect Dialect { get; }

    /// <summary>Where this adapter points, safe to print (no secrets).</summary>
    string Description { get; }

    void Execute(string sql);

    /// <summary>
    /// Whether <see cref="SwapTables"/> runs every statement in one transaction (DDL and DML), so that the swap may also
    /// change a table in place: delete and insert the rows an incremental staging recomputed.
    /// </summary>
    bool SwapsInOneTransaction => false;

    /// <summary>Runs a query and hands every row to <paramref name="onRow"/> as it arrives (nothing is buffered here).</summary>
    void Read(string sql, WarehouseRowHandler onRow);

    bool TableExists(string table);

    long CountRows(string table);

    /// <summary>
    /// Drops and re-creates <paramref name="tables"/> and lets <paramref name="fill"/> write their rows (one sink per
    /// table, in order, usable side by side), in the fastest way the engine offers. All tables appear together or, on
    /// failure, the previous ones stay (see docs/adapters.md for what each engine guarantees).
    /// </summary>
    void LoadTables(IReadOnlyList<TableSpec> tables, Action<IReadOnlyList<IRowSink>> fill);

    /// <summary>
    /// Swaps every freshly built table in for its final name: either all final tables are replaced or, on failure,
    /// none is (transactional engines), or the swap is journaled and completed by <see cref="RecoverInterruptedSwap"/>.
    /// <paramref name="before"/> and <paramref name="after"/> run before and after the renames (views of SQL models are
    /// dropped before and created after), in the same transaction where the engine has one.
    /// </summary>
    void SwapTables(IReadOnlyList<(string Built, string Final)> swaps, IReadOnlyList<string>? before = null, IReadOnlyList<string>? after = null);

    /// <summary>
    /// Completes a swap that a previous run started but did not finish (engines without transactional DDL); returns
    /// what was repaired, empty when nothing was pending.
    /// </summary>
    IReadOnlyList<string> RecoverInterruptedSwap();
}

public static class WarehouseAdapterExtensions
{
    /// <summary>Every row of a (small) result, as name → value (names case-insensitive).</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(this IWarehouseAdapter adapter, string sql)
    {
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        adapter.Read(sql, (columns, row) =>
        {
            var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < columns.Count; i++)
                values[columns[i]] = row[i];
            rows.Add(values);
        });
        return rows;
    }

    /// <summary>Creates <paramref name="table"/> (dropping any previous one) and fills it with <paramref name="rows"/>.</summary>
    public static void WriteTable(this IWarehouseAdapter adapter, string table, IReadOnlyList<ColumnSpec> columns, IEnumerable<object?[]> rows) =>
        adapter.LoadTables([new TableSpec(table, columns)], sinks =>
        {
            foreach (var row in rows)
                sinks[0].WriteRow(row);
        });

    /// <summary>The <c>create table</c> statement of <paramref name="table"/> in the adapter's dialect.</summary>
    public static string CreateTableSql(this SqlDialect dialect, string relation, IReadOnlyList<ColumnSpec> columns) =>
        $"create table {relation} ({string.Join(", ", columns.Select(c => $"{dialect.QuoteIdentifier(c.Name)} {dialect.TypeName(c.Type)}{(c.Nullable ? "" : " not null")}"))})";
}
