using System.Globalization;
using MetricCompiler.Core.Expressions;

namespace MetricCompiler.Sql.Model;

public enum SqlType
{
    String,
    Integer,
    Double,
    Boolean,
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
    Divide,
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

public sealed record FunctionCall(string Name, IReadOnlyList<SqlExpr> Arguments, bool Distinct = false) : SqlExpr;

public sealed record BinaryExpr(SqlExpr Left, BinaryOperator Operator, SqlExpr Right) : SqlExpr;

public sealed record NotExpr(SqlExpr Operand) : SqlExpr;

public sealed record IsNullExpr(SqlExpr Operand, bool Negated = false) : SqlExpr;

public sealed record InListExpr(SqlExpr Operand, IReadOnlyList<SqlExpr> Values) : SqlExpr;

public sealed record WhenClause(SqlExpr Condition, SqlExpr Result);

public sealed record CaseExpr(IReadOnlyList<WhenClause> Whens, SqlExpr? Else = null) : SqlExpr;

public sealed record CastExpr(SqlExpr Operand, SqlType Type) : SqlExpr;

/// <summary>A timestamp moved by whole days; each dialect spells date arithmetic differently.</summary>
public sealed record AddDaysExpr(SqlExpr Timestamp, int Days) : SqlExpr;

/// <summary><c>row_number() over (partition by ... order by ...)</c>.</summary>
public sealed record RowNumberExpr(IReadOnlyList<SqlExpr> PartitionBy, IReadOnlyList<SqlExpr> OrderBy) : SqlExpr;

/// <summary>
/// An expression the user wrote in YAML. Its text is kept as written; its column references are qualified with
/// <see cref="Qualifier"/> and quoted by the dialect, so it can sit safely inside a join.
/// </summary>
public sealed record SnippetExpr(IReadOnlyList<SnippetPart> Parts, string? Qualifier) : SqlExpr;
