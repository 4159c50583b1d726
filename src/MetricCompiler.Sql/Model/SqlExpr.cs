using System.Globalization;

namespace MetricCompiler.Sql.Model;

public enum SqlType
{
    String,
    Integer,
    Double,
    Boolean,
    Date,
    Timestamp,
}

public enum BinaryOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    And,
    Or,
    Add,
    Subtract,
    Multiply,
    /// <summary>True division on every engine (never integer division); division by zero gives null.</summary>
    Divide,
    Modulo,
    /// <summary>Text concatenation (<c>||</c>).</summary>
    Concat,
}

/// <summary>A SQL expression. Planners build these; a <see cref="Rendering.SqlRenderer"/> turns them into one dialect's text.</summary>
public abstract record SqlExpr;

public sealed record ColumnExpr(string? Qualifier, string Name) : SqlExpr;

public sealed record StarExpr(string? Qualifier = null) : SqlExpr;

public sealed record StringLiteral(string Value) : SqlExpr;

public sealed record NumberLiteral(string Text) : SqlExpr
{
    public static NumberLiteral Of(double value) => new(value.ToString("R", CultureInfo.InvariantCulture));

    public static NumberLiteral Of(long value) => new(value.ToString(CultureInfo.InvariantCulture));
}

public sealed record NullLiteral(SqlType? Type = null) : SqlExpr;

public sealed record TimestampLiteral(DateTime Value) : SqlExpr;

public sealed record DateLiteral(DateOnly Value) : SqlExpr;

public sealed record BooleanLiteral(bool Value) : SqlExpr;

/// <summary>Unary minus.</summary>
public sealed record NegateExpr(SqlExpr Operand) : SqlExpr;

/// <summary><c>like</c> (case-sensitive on every engine) or <c>ilike</c> (case-insensitive), optionally negated.</summary>
public sealed record LikeExpr(SqlExpr Operand, SqlExpr Pattern, bool CaseInsensitive = false, bool Negated = false) : SqlExpr;

/// <summary>Equality that holds for two nulls (<c>is not distinct from</c>), for joining on keys that may be null.</summary>
public sealed record NullSafeEqualsExpr(SqlExpr Left, SqlExpr Right) : SqlExpr;

public sealed record BetweenExpr(SqlExpr Operand, SqlExpr Low, SqlExpr High, bool Negated = false) : SqlExpr;

public sealed record FunctionCall(string Name, IReadOnlyList<SqlExpr> Arguments, bool Distinct = false) : SqlExpr;

public sealed record BinaryExpr(SqlExpr Left, BinaryOperator Operator, SqlExpr Right) : SqlExpr;

public sealed record NotExpr(SqlExpr Operand) : SqlExpr;

public sealed record IsNullExpr(SqlExpr Operand, bool Negated = false) : SqlExpr;

public sealed record InListExpr(SqlExpr Operand, IReadOnlyList<SqlExpr> Values, bool Negated = false) : SqlExpr;

public sealed record WhenClause(SqlExpr Condition, SqlExpr Result);

public sealed record CaseExpr(IReadOnlyList<WhenClause> Whens, SqlExpr? Else = null) : SqlExpr;

public sealed record CastExpr(SqlExpr Operand, SqlType Type) : SqlExpr;

/// <summary>
/// A raw value as a number of <paramref name="Type"/> (<see cref="SqlType.Integer"/> or <see cref="SqlType.Double"/>),
/// or null when it is not one (text such as <c>'N/A'</c>): never an error, and never the 0 that SQLite's cast gives.
/// </summary>
public sealed record NumberOrNullExpr(SqlExpr Operand, SqlType Type) : SqlExpr;

/// <summary>A timestamp moved by whole days; each dialect spells date arithmetic differently.</summary>
public sealed record AddDaysExpr(SqlExpr Timestamp, int Days) : SqlExpr;

/// <summary>
/// One key of an ordering. Where NULLs sort is always explicit, because engines disagree on the default (PostgreSQL,
/// Trino and Snowflake put them last ascending; SQLite and DuckDB... differ by version and direction).
/// </summary>
public sealed record SortKey(SqlExpr Expression, bool Descending = false, bool NullsFirst = false);

/// <summary><c>row_number() over (partition by ... order by ...)</c>.</summary>
public sealed record RowNumberExpr(IReadOnlyList<SqlExpr> PartitionBy, IReadOnlyList<SortKey> OrderBy) : SqlExpr;
