using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>
/// What differs between warehouses. Everything else (the shape of every query) is shared by <see cref="Rendering.SqlRenderer"/>,
/// so a dialect is a small class of differences, not a copy of the compiler.
/// </summary>
public abstract partial class SqlDialect
{
    private static readonly HashSet<string> ReservedWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "all", "and", "as", "asc", "between", "by", "case", "cast", "check", "column", "create", "cross", "current_date",
        "current_time", "current_timestamp", "current_user", "default", "delete", "desc", "distinct", "drop", "else", "end",
        "except", "exists", "false", "for", "from", "full", "group", "having", "in", "inner", "insert", "intersect", "into",
        "is", "join", "left", "like", "limit", "natural", "not", "null", "on", "or", "order", "outer", "right", "select",
        "table", "then", "to", "true", "union", "unique", "update", "user", "using", "values", "when", "where", "with",
        "window", "sum", "count", "min", "max", "avg",
    };

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex PlainIdentifier();

    /// <summary>The adapter name used in <c>targets</c> (<c>sqlite</c>, <c>postgres</c>, <c>trino</c>, <c>snowflake</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Quotes a name only when it has to be, so generated SQL stays readable.</summary>
    public virtual string QuoteIdentifier(string name) =>
        PlainIdentifier().IsMatch(name) && !ReservedWords.Contains(name) ? name : $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>A possibly schema-qualified table name, each part quoted as needed.</summary>
    public string QuoteRelation(string relation) => string.Join('.', relation.Split('.').Select(QuoteIdentifier));

    public abstract string TypeName(SqlType type);

    public virtual string Cast(string operand, SqlType type) => $"cast({operand} as {TypeName(type)})";

    public virtual string StringLiteral(string value) => $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    public abstract string TimestampLiteral(DateTime value);

    public abstract string AddDays(string timestamp, int days);

    public virtual string CreateTableAs(string relation, string query) => $"create table {relation} as{Environment.NewLine}{query}";

    public virtual string DropTableIfExists(string relation) => $"drop table if exists {relation}";

    /// <summary>Renames a table within its schema; the new name is unqualified.</summary>
    public virtual string RenameTable(string relation, string newName) => $"alter table {relation} rename to {QuoteIdentifier(newName)}";

    protected static string FormatTimestamp(DateTime value) => value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static SqlDialect ForAdapter(string adapter) => adapter switch
    {
        "sqlite" => SqliteDialect.Instance,
        "postgres" => PostgresDialect.Instance,
        "trino" => TrinoDialect.Instance,
        "snowflake" => SnowflakeDialect.Instance,
        _ => throw new ArgumentException($"unknown adapter `{adapter}`", nameof(adapter)),
    };
}

/// <summary>SQLite stores timestamps as ISO-8601 text; <c>datetime()</c> normalises and shifts them.</summary>
public sealed class SqliteDialect : SqlDialect
{
    public static SqliteDialect Instance { get; } = new();

    public override string Name => "sqlite";

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "text",
        SqlType.Integer or SqlType.Boolean => "integer",
        SqlType.Double => "real",
        SqlType.Timestamp => "text",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string Cast(string operand, SqlType type) =>
        type == SqlType.Timestamp ? $"datetime({operand})" : base.Cast(operand, type);

    public override string TimestampLiteral(DateTime value) => $"'{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) =>
        $"datetime({timestamp}, '{(days >= 0 ? "+" : "")}{days.ToString(CultureInfo.InvariantCulture)} days')";
}

public sealed class PostgresDialect : SqlDialect
{
    public static PostgresDialect Instance { get; } = new();

    public override string Name => "postgres";

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "text",
        SqlType.Integer => "bigint",
        SqlType.Double => "double precision",
        SqlType.Boolean => "boolean",
        SqlType.Timestamp => "timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"timestamp '{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) =>
        days >= 0
            ? $"{timestamp} + interval '{days.ToString(CultureInfo.InvariantCulture)} days'"
            : $"{timestamp} - interval '{(-days).ToString(CultureInfo.InvariantCulture)} days'";
}

public sealed class TrinoDialect : SqlDialect
{
    public static TrinoDialect Instance { get; } = new();

    public override string Name => "trino";

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "varchar",
        SqlType.Integer => "bigint",
        SqlType.Double => "double",
        SqlType.Boolean => "boolean",
        SqlType.Timestamp => "timestamp(3)",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"timestamp '{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) => $"date_add('day', {days.ToString(CultureInfo.InvariantCulture)}, {timestamp})";
}

public sealed class SnowflakeDialect : SqlDialect
{
    public static SnowflakeDialect Instance { get; } = new();

    public override string Name => "snowflake";

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "varchar",
        SqlType.Integer => "number(38, 0)",
        SqlType.Double => "double",
        SqlType.Boolean => "boolean",
        SqlType.Timestamp => "timestamp_ntz",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"'{FormatTimestamp(value)}'::timestamp_ntz";

    public override string AddDays(string timestamp, int days) => $"dateadd(day, {days.ToString(CultureInfo.InvariantCulture)}, {timestamp})";

    public override string CreateTableAs(string relation, string query) => $"create or replace table {relation} as{Environment.NewLine}{query}";
}
