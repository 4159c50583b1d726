using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// Every construct of the expression language gives the same values on every engine we execute: the same rows, each
/// expression rendered by each dialect, compared value by value (division, like/ilike, NULL handling, functions, casts).
/// </summary>
public sealed class ExpressionConformanceTests : IDisposable
{
    private readonly string _schema = "x_" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<IWarehouseAdapter> _engines = [];

    public ExpressionConformanceTests()
    {
        _engines.Add(SqliteAdapter.Open(":memory:", ":memory:"));
        _engines.Add(DuckDbAdapter.Open(":memory:", ":memory:"));
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is null)
            Assert.Fail("METRICC_PG_HOST is not set: run the suite through ./test.sh, which starts PostgreSQL (scripts/postgres.sh)");
        _engines.Add(PostgresAdapter.Open(
            Environment.GetEnvironmentVariable("METRICC_PG_HOST")!,
            int.Parse(Environment.GetEnvironmentVariable("METRICC_PG_PORT")!, CultureInfo.InvariantCulture),
            Environment.GetEnvironmentVariable("METRICC_PG_DATABASE")!,
            Environment.GetEnvironmentVariable("METRICC_PG_USER")!,
            Environment.GetEnvironmentVariable("METRICC_PG_PASSWORD"),
            _schema));
        ColumnSpec[] columns =
        [
            new("id", SqlType.Integer), new("a", SqlType.Integer), new("b", SqlType.Integer), new("x", SqlType.Double),
            new("s", SqlType.String), new("page", SqlType.String),
        ];
        object?[][] rows =
        [
            [1L, 7L, 2L, 2.5, "Purchase", "/Home/start"],
            [2L, -7L, 0L, -0.5, "purchase", "/home"],
            [3L, null, 3L, null, null, null],
            [4L, 0L, -4L, 1e6 + 0.125, "it's", "/pricing%"],
            [5L, 10L, 10L, 0.0, "  padded  ", "/HOME"],
        ];
        foreach (var engine in _engines)
            engine.WriteTable("t", columns, rows);
    }

    public static TheoryData<string> Expressions => new()
    {
        "a / b",
        "a % 3",
        "a + b * 2 - x",
        "-a",
        "a between 0 and 7",
        "a not between 0 and 7",
        "a in (7, 10)",
        "a not in (7, 10)",
        "s = 'purchase'",
        "s like 'P%'",
        "s ilike 'p%'",
        "page not like '/home%'",
        "page ilike '/home%'",
        "s is null",
        "coalesce(a, -1)",
        "nullif(a, b)",
        "case when a > 0 then 'pos' when a < 0 then 'neg' else 'zero' end",
        "case s when 'purchase' then 1 else 0 end",
        "greatest(a, b)",
        "least(a, b)",
        "abs(a)",
        "round(x)",
        "round(x, 1)",
        "floor(x)",
        "ceil(x)",
        "sign(a)",
        "sqrt(abs(x))",
        "power(b, 2)",
        "lower(s)",
        "upper(s)",
        "length(s)",
        "trim(s)",
        "replace(s, 'u', 'U')",
        "substr(s, 2, 3)",
        "s || '-' || page",
        "cast(a as double) / 4",
        "cast(x as integer)",
        "cast(a as text)",
        "a > 0 and (b > 0 or s is null)",
        "not (a > 0)",
    };

    [Theory]
    [MemberData(nameof(Expressions))]
    public void Every_engine_gives_the_same_values(string text)
    {
        var expression = ExpressionParser.Parse(text).Expression;
        var results = _engines.Select(engine =>
        {
            var sql = $"select id, {SqlRenderer.ForReview(engine.Dialect).Expr(expression)} as v from t order by id";
            return (engine.Dialect.Name, Sql: sql, Values: engine.Query(sql).Select(r => Normalise(r["v"])).ToList());
        }).ToList();
        var reference = results[0];
        foreach (var other in results.Skip(1))
            Assert.True(reference.Values.SequenceEqual(other.Values),
                $"`{text}`: {reference.Name} gives [{string.Join(", ", reference.Values)}], {other.Name} gives [{string.Join(", ", other.Values)}]\n{reference.Sql}\n{other.Sql}");
    }

    /// <summary>One spelling per value: numbers as round-trip doubles, booleans as 1/0 (SQLite has no boolean type).</summary>
    private static string Normalise(object? value) => value switch
    {
        null => "null",
        bool b => b ? "1" : "0",
        string s => $"'{s}'",
        IConvertible c => Convert.ToDouble(c, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public void Dispose()
    {
        foreach (var engine in _engines)
        {
            if (engine is PostgresAdapter)
                engine.Execute($"drop schema if exists {_schema} cascade");
            engine.Dispose();
        }
    }
}
