using System.Data.Common;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>A column of a table written from values computed outside the warehouse (the readout).</summary>
public sealed record ColumnSpec(string Name, Sql.Model.SqlType Type);

/// <summary>A warehouse failure, with the statement that caused it; never carries connection secrets.</summary>
public sealed class WarehouseException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What the runner needs from a warehouse. Implementations speak one engine's protocol; everything dialect-specific in
/// SQL text comes from <see cref="Dialect"/>.
/// </summary>
public interface IWarehouseAdapter : IDisposable
{
    SqlDialect Dialect { get; }

    /// <summary>Where this adapter points, safe to print (no secrets).</summary>
    string Description { get; }

    /// <summary>The open connection, for bulk loads such as the demo data.</summary>
    DbConnection Connection { get; }

    void Execute(string sql);

    IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string sql);

    bool TableExists(string table);

    long CountRows(string table);

    /// <summary>Creates <paramref name="table"/> (dropping any previous one) and fills it with <paramref name="rows"/>.</summary>
    void WriteTable(string table, IReadOnlyList<ColumnSpec> columns, IEnumerable<object?[]> rows);

    /// <summary>
    /// Swaps every freshly built table in for its final name in one transaction: either all final tables are replaced
    /// or, on failure, none is and the previous results stay whole. <paramref name="before"/> and <paramref name="after"/>
    /// run in the same transaction, before and after the renames (views are dropped before and created after).
    /// </summary>
    void SwapTables(IReadOnlyList<(string Built, string Final)> swaps, IReadOnlyList<string>? before = null, IReadOnlyList<string>? after = null);
}
