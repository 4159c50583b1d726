using System.Text.Json;

namespace MetricCompiler.Adapters.Trino;

/// <summary>A result column as the coordinator describes it: its name, its type text (e.g. <c>decimal(18,2)</c>) and structured signature.</summary>
public sealed record TrinoColumn(string Name, string Type, TrinoTypeSignature? TypeSignature)
{
    /// <summary>The type without parameters, e.g. <c>decimal</c>, <c>timestamp with time zone</c>; what values are converted by.</summary>
    public string RawType => TypeSignature?.RawType ?? TrinoValueConverter.RawTypeOf(Type);
}

/// <summary>A column's structured type: the raw type name and its arguments (lengths, precisions, element types) as sent.</summary>
public sealed record TrinoTypeSignature(string RawType, IReadOnlyList<JsonElement> Arguments);

/// <summary>What a finished statement reports besides its rows: the query id, the columns, and for DDL/DML the update type and count.</summary>
public sealed record TrinoStatementSummary(
    string QueryId,
    IReadOnlyList<TrinoColumn> Columns,
    long RowCount,
    string? UpdateType,
    long? UpdateCount);

/// <summary>A finished statement with all its rows buffered, each value converted by its column type (see <see cref="TrinoValueConverter"/>).</summary>
public sealed record TrinoQueryResult(
    string QueryId,
    IReadOnlyList<TrinoColumn> Columns,
    IReadOnlyList<object?[]> Rows,
    string? UpdateType,
    long? UpdateCount);
