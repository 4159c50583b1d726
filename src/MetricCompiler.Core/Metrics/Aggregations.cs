using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics;

/// <summary>How a simple metric aggregates its qualifying rows.</summary>
public enum Aggregation
{
    /// <summary>Number of qualifying rows (of rows where <c>expr</c> is not null, when given); 0 when there are none.</summary>
    Count,
    /// <summary>Sum of <c>expr</c>; 0 when there are no qualifying rows.</summary>
    Sum,
    /// <summary>Number of distinct values of <c>expr</c>; 0 when there are none.</summary>
    CountDistinct,
    /// <summary>Mean of <c>expr</c>; no value (left out) when there are no qualifying rows.</summary>
    Average,
    /// <summary>Smallest <c>expr</c>; no value when there are no qualifying rows.</summary>
    Min,
    /// <summary>Largest <c>expr</c>; no value when there are no qualifying rows.</summary>
    Max,
    /// <summary>1 when at least one row qualifies, else 0 (per unit); the share of entities that qualify (per bucket).</summary>
    Proportion,
    /// <summary>The continuous percentile of <c>expr</c> (<c>percentile: 0.95</c>); no value when no row qualifies; none per unit.</summary>
    Percentile,
}

/// <summary>Conditional aggregates: one scan computes many metrics, each counting only the rows its condition admits.</summary>
public static class Aggregations
{
    public static string YamlName(Aggregation aggregation) => aggregation switch
    {
        Aggregation.CountDistinct => "count_distinct",
        _ => aggregation.ToString().ToLowerInvariant(),
    };

    /// <summary>Whether the aggregate of no rows is 0 (count-like) rather than no value (average, min, max).</summary>
    public static bool ZeroWhenEmpty(Aggregation aggregation) => aggregation is not (Aggregation.Average or Aggregation.Min or Aggregation.Max or Aggregation.Percentile);

    /// <summary>
    /// <c>agg(case when condition then value end)</c>, or the plain aggregate when every row qualifies; a percentile
    /// needs its <paramref name="fraction"/>.
    /// </summary>
    public static SqlExpr Conditional(Aggregation aggregation, SqlExpr? value, SqlExpr? condition, double? fraction = null)
    {
        SqlExpr Guard(SqlExpr v) => condition is null ? v : When(condition, v);
        return aggregation switch
        {
            Aggregation.Count when value is null && condition is null => CountStar(),
            Aggregation.Count => Count(Guard(value ?? Num(1))),
            Aggregation.Sum => Sum(Guard(Required(value))),
            Aggregation.CountDistinct => CountDistinct(Guard(Required(value))),
            Aggregation.Average => Avg(Guard(Cast(Required(value), SqlType.Double))),
            Aggregation.Min => Min(Guard(Required(value))),
            Aggregation.Max => Max(Guard(Required(value))),
            Aggregation.Proportion => Max(condition is null ? Num(1) : When(condition, Num(1), Num(0))),
            Aggregation.Percentile => new PercentileExpr(Guard(Cast(Required(value), SqlType.Double)),
                fraction ?? throw new ArgumentException("a percentile needs its fraction (binding checks `percentile`)", nameof(fraction))),
            _ => throw new ArgumentOutOfRangeException(nameof(aggregation)),
        };
    }

    private static SqlExpr Required(SqlExpr? value) =>
        value ?? throw new ArgumentException("this aggregation needs a value expression (binding checks `expr`)");
}
