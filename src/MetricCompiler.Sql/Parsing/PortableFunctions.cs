namespace MetricCompiler.Sql.Parsing;

/// <summary>A scalar function user expressions may call, with how many arguments it takes.</summary>
public sealed record PortableFunction(string Name, int MinArguments, int MaxArguments, string Summary);

/// <summary>
/// The functions of the expression language: scalar, row-level and available on every engine we render for (a dialect
/// spells one differently where it must, see <see cref="Dialects.SqlDialect.Function"/>). Aggregates are not here: a
/// metric's <c>agg</c> aggregates, and its <c>expr</c> is per row.
/// </summary>
public static class PortableFunctions
{
    public const int Unbounded = int.MaxValue;

    public static IReadOnlyDictionary<string, PortableFunction> All { get; } = new PortableFunction[]
    {
        new("abs", 1, 1, "absolute value"),
        new("round", 1, 2, "round to a number of decimals (default 0)"),
        new("floor", 1, 1, "largest integer not above"),
        new("ceil", 1, 1, "smallest integer not below"),
        new("sqrt", 1, 1, "square root"),
        new("ln", 1, 1, "natural logarithm"),
        new("exp", 1, 1, "e to the power"),
        new("power", 2, 2, "x to the power y"),
        new("sign", 1, 1, "-1, 0 or 1"),
        new("greatest", 2, Unbounded, "largest argument"),
        new("least", 2, Unbounded, "smallest argument"),
        new("coalesce", 1, Unbounded, "first argument that is not null"),
        new("nullif", 2, 2, "null when both arguments are equal, else the first"),
        new("lower", 1, 1, "lower-case text"),
        new("upper", 1, 1, "upper-case text"),
        new("length", 1, 1, "number of characters"),
        new("trim", 1, 1, "text without leading and trailing spaces"),
        new("ltrim", 1, 1, "text without leading spaces"),
        new("rtrim", 1, 1, "text without trailing spaces"),
        new("replace", 3, 3, "text with every occurrence of a substring replaced"),
        new("substr", 2, 3, "part of a text: start (1-based) and optional length"),
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Names users reach for that mean one of ours.</summary>
    public static IReadOnlyDictionary<string, string> Aliases { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["ceiling"] = "ceil",
        ["pow"] = "power",
        ["substring"] = "substr",
        ["char_length"] = "length",
        ["ifnull"] = "coalesce",
        ["nvl"] = "coalesce",
    };

    /// <summary>Aggregate and window functions, refused with their own explanation.</summary>
    public static IReadOnlySet<string> Aggregates { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "sum", "count", "avg", "min", "max", "stddev", "variance", "median", "percentile_cont", "percentile_disc",
        "approx_percentile", "array_agg", "string_agg", "listagg", "row_number", "rank", "dense_rank", "lag", "lead",
        "first_value", "last_value", "ntile",
    };
}
