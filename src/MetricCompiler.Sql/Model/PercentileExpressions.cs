namespace MetricCompiler.Sql.Model;

/// <summary>
/// The continuous percentile (linear interpolation between the two nearest values) of an aggregate's non-null values:
/// an ordered-set aggregate, spelled per engine; <see cref="Fraction"/> is between 0 and 1.
/// </summary>
public sealed record PercentileExpr(SqlExpr Value, double Fraction) : SqlExpr;
