using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;
using MetricCompiler.Sql.Rendering;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Compiler.Tests.Sql;

public sealed class SqlRendererTests
{
    private static readonly SqlRenderer Renderer = SqlRenderer.ForReview(PostgresDialect.Instance);

    [Fact]
    public void Precedence_adds_parentheses_only_where_needed()
    {
        var a = Col("a");
        var b = Col("b");
        var c = Col("c");
        Assert.Equal("a * (b + c)", Renderer.Expr(Mul(a, new BinaryExpr(b, BinaryOperator.Add, c))));
        Assert.Equal("a + b * c", Renderer.Expr(new BinaryExpr(a, BinaryOperator.Add, Mul(b, c))));
        Assert.Equal("a - (b - c)", Renderer.Expr(new BinaryExpr(a, BinaryOperator.Subtract, new BinaryExpr(b, BinaryOperator.Subtract, c))));
        Assert.Equal("(a = b or c = a) and b = c", Renderer.Expr(And(new BinaryExpr(Eq(a, b), BinaryOperator.Or, Eq(c, a)), Eq(b, c))));
    }

    [Fact]
    public void User_expressions_are_qualified_quoted_and_parenthesised()
    {
        var parsed = SqlExprRewriter.Qualify(ExpressionParser.Parse("lower(event_type) = 'purchase' or \"Order\" > 0").Expression, "e");
        Assert.Equal("(lower(e.event_type) = 'purchase' or e.\"Order\" > 0) and x = 1", Renderer.Expr(And(parsed, Eq(Col("x"), Num(1)))));
    }

    [Theory]
    [InlineData("select", "\"select\"")]
    [InlineData("user", "\"user\"")]
    [InlineData("Revenue", "\"Revenue\"")]
    [InlineData("revenue_usd", "revenue_usd")]
    public void Identifiers_are_quoted_only_when_they_must_be(string name, string expected)
    {
        Assert.Equal(expected, PostgresDialect.Instance.QuoteIdentifier(name));
    }

    [Fact]
    public void String_literals_escape_quotes()
    {
        Assert.Equal("'it''s'", Renderer.Expr(Str("it's")));
    }
}
