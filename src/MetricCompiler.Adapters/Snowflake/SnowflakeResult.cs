namespace MetricCompiler.Adapters.Snowflake;

/// <summary>One column of a result, from <c>resultSetMetaData.rowType</c>.</summary>
/// <param name="Name">Column name as Snowflake reports it.</param>
/// <param name="Type">Snowflake's type name in lower case: <c>fixed</c>, <c>real</c>, <c>text</c>, <c>boolean</c>, <c>date</c>,
/// <c>time</c>, <c>timestamp_ntz</c>, <c>timestamp_ltz</c>, <c>timestamp_tz</c>, <c>binary</c>, <c>variant</c>, ...</param>
/// <param name="Scale">Digits after the decimal point (numbers) or fractional-second digits (times); null when not sent.</param>
/// <param name="Precision">Total digits of a number; null when not sent.</param>
/// <param name="Nullable">Whether the column may hold SQL NULL.</param>
public sealed record SnowflakeColumn(string Name, string Type, int? Scale, int? Precision, bool Nullable)
{
    /// <summary>The .NET type values of this column convert to (see <see cref="SnowflakeValueConverter"/>).</summary>
    public Type ClrType => SnowflakeValueConverter.ClrTypeOf(this);
}

/// <summary>Rows changed by a DML statement, from the response's <c>stats</c>.</summary>
public sealed record SnowflakeStatementStats(
    long? NumRowsInserted, long? NumRowsUpdated, long? NumRowsDeleted, long? NumDuplicateRowsUpdated)
{
    /// <summary>Inserted plus updated plus deleted rows.</summary>
    public long RowsAffected => (NumRowsInserted ?? 0) + (NumRowsUpdated ?? 0) + (NumRowsDeleted ?? 0);
}

/// <summary>A finished statement with all its rows, typed per <see cref="Columns"/>.</summary>
/// <param name="StatementHandle">Snowflake's id of the statement.</param>
/// <param name="Columns">The result's columns.</param>
/// <param name="Rows">Every row, all partitions concatenated; each value is typed (see <see cref="SnowflakeValueConverter"/>).</param>
/// <param name="NumRows"><c>resultSetMetaData.numRows</c>: the total row count Snowflake reported.</param>
/// <param name="Stats">DML row counts, when Snowflake sent them.</param>
/// <param name="Message">Snowflake's message, e.g. <c>Statement executed successfully.</c>; for DDL the status row
/// (<c>Table T successfully created.</c>) is in <see cref="Rows"/>.</param>
/// <param name="Code">Snowflake's status code, e.g. <c>090001</c>.</param>
/// <param name="SqlState">The SQL state, e.g. <c>00000</c>.</param>
public sealed record SnowflakeResult(
    string StatementHandle,
    IReadOnlyList<SnowflakeColumn> Columns,
    IReadOnlyList<object?[]> Rows,
    long NumRows,
    SnowflakeStatementStats? Stats,
    string? Message,
    string? Code,
    string? SqlState)
{
    /// <summary>The first column of the first row (a DDL status text, a DML count, a scalar query's value), or null.</summary>
    public object? Scalar => Rows.Count > 0 && Rows[0].Length > 0 ? Rows[0][0] : null;
}
