using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// One metric of a <see cref="SplitPlan"/>: indices of its terms in the statistics SQL's order (n, value sum, value sum of
/// squares, then covariate sum, covariate squares, cross sum; for ratios numerator sum and squares, denominator sum and
/// squares, cross sum), the factor each B-half term takes under an injected lift, and for ratios whose parts can be null
/// the non-null indicators (numerator, denominator, both).
/// </summary>
internal sealed record SplitMetric(
    string Name,
    ExperimentStatistics Statistics,
    MetricRole Role,
    bool Cuped,
    bool Lifted,
    int[] Terms,
    double[] BScale,
    int[]? Presence)
{
    /// <summary>A quantile metric's per-unit values (NaN = no value): its arms are sorted per split, not summed.</summary>
    public double[]? Values { get; init; }

    /// <summary>The number of covariates k of a regression-adjusted metric (<c>Cuped</c> is then true: the report marks it adjusted) (its terms after n, sum and squares are the matrix columns).</summary>
    public int CovariateCount { get; init; }

    /// <summary>The factor a quantile metric's B values take under an injected lift.</summary>
    public double LiftFactor { get; init; } = 1;
}
