using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;
using MetricCompiler.Sql.Rendering;
using SqlModel = MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Compiler.Tests.Sql;

/// <summary>The expression language of <c>expr</c> and <c>filter</c>: what it accepts, what it refuses, how it renders.</summary>
public sealed class ExpressionLanguageTests
{
    private static string Render(string text, SqlDialect? dialect = null) =>
        SqlRenderer.ForReview(dialect ?? PostgresDialect.Instance).Expr(ExpressionParser.Parse(text).Expression);

    private static ExpressionSyntaxException Refused(string text) => Assert.Throws<ExpressionSyntaxException>(() => ExpressionParser.Parse(text));

    [Theory]
    // The attacks of the reliability issue: each once passed validation and dropped a raw table or read another one.
    [InlineData("cast(1 as [']) is not null; drop table raw_events; select cast(1 as [']) is not null", 10)]
    [InlineData("$$'$$ is not null; drop table raw_users; select 1", 0)]
    [InlineData("`a'` = 1; drop table raw_events", 0)]
    [InlineData("event_type = 'x'; drop table raw_events", 16)]
    [InlineData("event_type = 'x' -- and the rest is gone", 17)]
    [InlineData("event_type = 'x' /* comment */", 17)]
    [InlineData("revenue > (select max(revenue) from raw_events)", 11)]
    [InlineData("user_id in (select user_id from raw_users)", 12)]
    [InlineData("raw_users.country = 'DE'", 9)]
    [InlineData("revenue::int > 0", 7)]
    public void Statement_devices_and_foreign_quoting_are_refused_at_their_position(string text, int offset)
    {
        var error = Refused(text);
        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void A_function_outside_the_language_is_refused_with_the_list_of_functions()
    {
        var error = Refused("length(query_to_xml('select * from raw_users', true, true, ''))");
        Assert.Equal(7, error.Offset);
        Assert.Contains("unknown function `query_to_xml`", error.Message);
        Assert.Contains("coalesce", error.Hint);
    }

    [Theory]
    [InlineData("sum(revenue)", "aggregates")]
    [InlineData("max(a)", "aggregates")]
    [InlineData("ceiling(a)", "unknown function")]
    [InlineData("round(a, 1, 2)", "takes 1 to 2 argument(s), not 3")]
    [InlineData("'open", "unterminated string literal")]
    [InlineData("\"open", "unterminated quoted name")]
    [InlineData("(a + b", "the expression ends where `)` was expected")]
    [InlineData("a + b)", "expected the end of the expression, found `)`")]
    [InlineData("", "the expression is empty")]
    [InlineData("a +", "the expression ends")]
    [InlineData("cast(a as blob)", "is not a type")]
    [InlineData("a like 'x' escape '!'", "`escape` is not supported")]
    [InlineData("date 'yesterday'", "is not a date")]
    [InlineData("1e999", "out of range")]
    [InlineData("a\u0000b", "control character")]
    public void Malformed_expressions_say_what_is_wrong(string text, string message)
    {
        Assert.Contains(message, Refused(text).Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_instead_of_overflowing_the_stack()
    {
        Assert.Contains("nests deeper", Refused(new string('(', 1500) + "1" + new string(')', 1500)).Message);
        Assert.Contains("nests deeper", Refused(string.Concat(Enumerable.Repeat("not ", 900)) + "a").Message);
        Assert.Contains("nests deeper", Refused(string.Concat(Enumerable.Repeat("- ", 1500)) + "a").Message);
    }

    [Fact]
    public void Overlong_expressions_are_refused()
    {
        Assert.Contains("at most", Refused(string.Join(" + ", Enumerable.Repeat("a", 2000))).Message);
    }

    [Fact]
    public void A_filter_with_or_stays_one_condition_next_to_the_window()
    {
        // Once the text was pasted as is: `where 1 = 1 or 1 = 0 and e.exposed_at >= ...` ignored the window.
        var filter = ExpressionParser.Parse("1 = 1 or 1 = 0").Expression;
        var sql = SqlRenderer.ForReview(PostgresDialect.Instance).Expr(SqlModel.And(filter, SqlModel.Ge(SqlModel.Col("t"), SqlModel.Num(1))));
        Assert.Equal("(1 = 1 or 1 = 0) and t >= 1", sql);
    }

    [Theory]
    [InlineData("a + b * c", "a + b * c")]
    [InlineData("(a + b) * c", "(a + b) * c")]
    [InlineData("a - (b - c)", "a - (b - c)")]
    [InlineData("not a = b and c", "not a = b and c")]
    [InlineData("not (a or b)", "not (a or b)")]
    [InlineData("a between 1 and 2 and b not between 3 and 4", "a between 1 and 2 and b not between 3 and 4")]
    [InlineData("event_type in ('a', 'b') and page not in ('x')", "event_type in ('a', 'b') and page not in ('x')")]
    [InlineData("page is not null or page is null", "page is not null or page is null")]
    [InlineData("case when a > 0 then 'pos' when a < 0 then 'neg' else 'zero' end", "case when a > 0 then 'pos' when a < 0 then 'neg' else 'zero' end")]
    [InlineData("case a when 1 then 'one' end", "case when a = 1 then 'one' end")]
    [InlineData("-a * -2", "-a * -2")]
    [InlineData("- -a", "-(-a)")]
    [InlineData("a - -2", "a - -2")]
    [InlineData("coalesce(revenue, 0) >= 10.5", "coalesce(revenue, 0) >= 10.5")]
    [InlineData("a || '-' || b = 'x-y'", "(a || '-' || b) = 'x-y'")]
    [InlineData("(a || b) || c", "a || b || c")]
    [InlineData("a || (b + 1)", "a || (b + 1)")]
    [InlineData("(a = b) = true", "(a = b) = true")]
    [InlineData("cast(a as double precision) > .5", "cast(a as double precision) > 0.5")]
    [InlineData("cast(a as varchar(20))", "cast(a as text)")]
    [InlineData("\"Order Total\" > 0", "\"Order Total\" > 0")]
    [InlineData("\"returning\" > 0 and offset > 0", "\"returning\" > 0 and \"offset\" > 0")]
    [InlineData("name = 'it''s'", "name = 'it''s'")]
    [InlineData("a <> b and a != c", "a <> b and a <> c")]
    [InlineData("d >= date '2026-01-05' and t < timestamp '2026-01-05 10:00:00'", "d >= date '2026-01-05' and t < timestamp '2026-01-05 10:00:00'")]
    [InlineData("a % 2 = 0", "a % 2 = 0")]
    public void Expressions_render_from_the_model_with_the_parentheses_they_need(string text, string expected)
    {
        Assert.Equal(expected, Render(text));
    }

    [Fact]
    public void Every_column_is_reported_with_its_offset()
    {
        var parsed = ExpressionParser.Parse("lower(event_type) = 'x' and \"Page\" like '/p%'");
        Assert.Equal([("event_type", false, 6), ("Page", true, 28)], parsed.Columns.Select(c => (c.Name, c.Quoted, c.Offset)));
    }

    [Theory]
    [InlineData("sqlite", "lower(page) like lower('/Home%')")]
    [InlineData("postgres", "page ilike '/Home%'")]
    [InlineData("trino", "lower(page) like lower('/Home%')")]
    [InlineData("snowflake", "page ilike '/Home%'")]
    public void Ilike_is_spelled_per_dialect(string dialect, string expected)
    {
        Assert.Equal(expected, Render("page ilike '/Home%'", SqlDialects.ForAdapter(dialect)));
    }

    [Theory]
    [InlineData("sqlite", "cast(a as real) / nullif(b, 0)")]
    [InlineData("postgres", "cast(a as double precision) / nullif(b, 0)")]
    [InlineData("trino", "cast(a as double) / nullif(b, 0)")]
    [InlineData("snowflake", "a / nullif(b, 0)")]
    public void Division_is_true_division_and_null_on_zero_everywhere(string dialect, string expected)
    {
        Assert.Equal(expected, Render("a / b", SqlDialects.ForAdapter(dialect)));
    }

    [Theory]
    [InlineData("sqlite", "max(a, b)")]
    [InlineData("postgres", "case when a is null or b is null then null else greatest(a, b) end")]
    public void Scalar_greatest_is_spelled_per_dialect(string dialect, string expected)
    {
        Assert.Equal(expected, Render("greatest(a, b)", SqlDialects.ForAdapter(dialect)));
    }

    [Fact]
    public void Snowflake_string_literals_double_backslashes_so_a_quote_cannot_be_escaped()
    {
        Assert.Equal(@"page = 'a\\'' or 1 = 1'", Render(@"page = 'a\'' or 1 = 1'", SnowflakeDialect.Instance));
        Assert.Equal(@"page = 'a\'' or 1 = 1'", Render(@"page = 'a\'' or 1 = 1'", PostgresDialect.Instance));
    }

    [Fact]
    public void Quoted_names_cannot_break_out_of_their_quotes()
    {
        Assert.Equal("\"a\"\" or 1 = 1 --\" = 1", Render("\"a\"\" or 1 = 1 --\" = 1"));
    }
}
