using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>Snowflake reads a backslash in a string literal as an escape, so literals double it.</summary>
public sealed class SnowflakeDialect : SqlDialect
{
    public static SnowflakeDialect Instance { get; } = new();

    public override string Name => "snowflake";

    public override IReadOnlySet<string> Keywords => SnowflakeKeywords.Words;

    /// <summary>Snowflake's try_cast takes text only.</summary>
    public override string NumberOrNull(string operand, SqlType type) => $"try_cast(cast({operand} as varchar) as {TypeName(type)})";

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "varchar",
        SqlType.Integer => "number(38, 0)",
        SqlType.Double => "double",
        SqlType.Boolean => "boolean",
        SqlType.Date => "date",
        SqlType.Timestamp => "timestamp_ntz",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string StringLiteral(string value) =>
        $"'{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}'";

    public override string TimestampLiteral(DateTime value) => $"'{FormatTimestamp(value)}'::timestamp_ntz";

    public override string DateLiteral(DateOnly value) => $"'{value:yyyy-MM-dd}'::date";

    public override string AddDays(string timestamp, int days) => $"dateadd(day, {Number(days)}, {timestamp})";

    /// <summary><c>try_to_timestamp_tz</c> reads `T`, `Z` and offsets (no zone: the session zone, UTC); bad text is null.</summary>
    public override string UtcTimestamp(string operand) =>
        $"cast(convert_timezone('UTC', try_to_timestamp_tz(cast({operand} as varchar))) as timestamp_ntz)";

    public override string LocalTime(string timestamp, string zoneId) => $"convert_timezone('UTC', {Quoted(zoneId)}, {timestamp})";

    public override string DateAddDays(string date, int days) => $"dateadd(day, {Number(days)}, {date})";

    public override string DateAddMonths(string date, int months) => $"dateadd(month, {Number(months)}, {date})";

    public override string DateDiffDays(string from, string to) => $"datediff(day, {from}, {to})";

    public override string SecondsBetween(string from, string to) => $"cast(datediff(millisecond, {from}, {to}) as double) / 1000";

    public override string CreateTableAs(string relation, string query) => $"create or replace table {relation} as{Environment.NewLine}{query}";

    /// <summary><c>sha2</c> gives lowercase hex.</summary>
    public override string Sha256Hex(string text) => $"sha2({text}, 256)";

    /// <summary><c>sysdate()</c> is the current UTC time as a timestamp without zone.</summary>
    public override string CurrentUtcTimestamp => "sysdate()";

    /// <summary>Snowflake's catalog holds unquoted names in upper case.</summary>
    public override string CatalogColumns(string? schema, string table) =>
        "select column_name, data_type from information_schema.columns" + Environment.NewLine +
        $"where table_schema = {(schema is null ? "current_schema()" : StringLiteral(schema.ToUpperInvariant()))} and upper(table_name) = {StringLiteral(table.ToUpperInvariant())}" + Environment.NewLine +
        "order by ordinal_position";
}
