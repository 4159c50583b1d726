namespace MetricCompiler.Sql.Model;

/// <summary>Short factory methods so planners read like the SQL they produce.</summary>
public static class Sql
{
    public static ColumnExpr Col(string qualifier, string name) => new(qualifier, name);

    public static ColumnExpr Col(string name) => new(null, name);

    public static StringLiteral Str(string value) => new(value);

    public static NumberLiteral Num(long value) => NumberLiteral.Of(value);

    public static NumberLiteral Num(double value) => NumberLiteral.Of(value);

    public static FunctionCall Fn(string name, params SqlExpr[] arguments) => new(name, arguments);

    public static FunctionCall Sum(SqlExpr e) => Fn("sum", e);

    public static FunctionCall Count(SqlExpr e) => Fn("count", e);

    public static FunctionCall CountStar() => Fn("count", new StarExpr());

    public static FunctionCall CountDistinct(SqlExpr e) => new("count", [e], Distinct: true);

    public static FunctionCall Min(SqlExpr e) => Fn("min", e);

    public static FunctionCall Max(SqlExpr e) => Fn("max", e);

    public static FunctionCall Avg(SqlExpr e) => Fn("avg", e);

    public static FunctionCall Coalesce(params SqlExpr[] e) => Fn("coalesce", e);

    public static BinaryExpr Eq(SqlExpr a, SqlExpr b) => new(a, BinaryOperator.Equal, b);

    public static BinaryExpr Ge(SqlExpr a, SqlExpr b) => new(a, BinaryOperator.GreaterOrEqual, b);

    public static BinaryExpr Gt(SqlExpr a, SqlExpr b) => new(a, BinaryOperator.Greater, b);

    public static BinaryExpr Lt(SqlExpr a, SqlExpr b) => new(a, BinaryOperator.Less, b);

    public static BinaryExpr Mul(SqlExpr a, SqlExpr b) => new(a, BinaryOperator.Multiply, b);

    public static SqlExpr And(params SqlExpr?[] terms)
    {
        SqlExpr? result = null;
        foreach (var term in terms)
            if (term is not null)
                result = result is null ? term : new BinaryExpr(result, BinaryOperator.And, term);
        return result ?? throw new ArgumentException("no terms", nameof(terms));
    }

    public static CaseExpr When(SqlExpr condition, SqlExpr result, SqlExpr? otherwise = null) => new([new WhenClause(condition, result)], otherwise);

    public static CastExpr Cast(SqlExpr e, SqlType type) => new(e, type);

    public static SelectItem As(this SqlExpr e, string alias, string? comment = null) => new(e, alias, comment);

    public static SelectItem Item(this SqlExpr e) => new(e);

    public static TableFrom From(RelationRef relation, string? alias = null) => new(relation, alias);
}
