namespace MetricCompiler.Statistics;

/// <summary>
/// Sufficient statistics of one variant for one metric. <paramref name="CrossSum"/> is the sum of
/// y*x (CUPED: metric times pre-period covariate) or of numerator*denominator (ratio metrics).
/// For proportions only <paramref name="N"/> and <paramref name="Sum"/> are used (sum_squares = sum).
/// Quantile metrics (<see cref="MetricKind.Quantile"/>) use <paramref name="N"/> and the quantile fields:
/// <paramref name="QuantileLevel"/> p, the sample quantile <paramref name="Quantile"/>, and the sample quantiles
/// <paramref name="QuantileLower"/> / <paramref name="QuantileUpper"/> at levels p -/+ z(0.975) sqrt(p(1-p)/n*) with
/// n* = <paramref name="QuantileNStar"/> (default n). <paramref name="Covariates"/> carries several covariates for
/// regression adjustment (CUPED with a covariate vector); when both arms have it, it replaces single-covariate CUPED.
/// <para>
/// Sums may be centred: with <paramref name="Shift"/> c, <paramref name="Sum"/>, <paramref name="SumSquares"/> and the
/// cross sums are of y - c (the ratio's numerator likewise; its denominator about <paramref name="DenominatorShift"/>);
/// covariate sums are about <paramref name="CovariateShift"/> (CUPED uses only the covariate's differences and co-moments,
/// which the shift leaves unchanged; the covariate's own mean adds it back). Every arm of a metric must use the same shifts. Variances and covariances
/// are the same for any shift; means add it back (<see cref="Mean"/>). Centring keeps the variance when the mean is
/// large against the spread, where raw sums of squares lose it to cancellation. Proportions are never shifted.
/// </para>
/// </summary>
public sealed record VariantStatistics(
    long N,
    double Sum = 0,
    double SumSquares = 0,
    double? CovariateSum = null,
    double? CovariateSumSquares = null,
    double? CrossSum = null,
    double? NumeratorSum = null,
    double? NumeratorSumSquares = null,
    double? DenominatorSum = null,
    double? DenominatorSumSquares = null,
    double? QuantileLevel = null,
    double? Quantile = null,
    double? QuantileLower = null,
    double? QuantileUpper = null,
    long? QuantileNStar = null,
    CovariateStatistics? Covariates = null,
    double Shift = 0,
    double DenominatorShift = 0,
    double CovariateShift = 0)
{
    /// <summary>The mean of y (with its shift added back); undefined for n = 0.</summary>
    public double Mean => Shift + (Sum / N);

    /// <summary>The ratio's numerator sum, shift added back.</summary>
    public double NumeratorTotal => (NumeratorSum ?? 0) + (Shift * N);

    /// <summary>The ratio's denominator sum, shift added back.</summary>
    public double DenominatorTotal => (DenominatorSum ?? 0) + (DenominatorShift * N);
}

/// <summary>
/// Sufficient statistics of k covariates x (a vector per unit) in one variant: <paramref name="Sums"/> = sum of x
/// (k values), <paramref name="CrossProducts"/> = X'X = sum of x x' (k x k, raw, not centred) and
/// <paramref name="YCross"/> = X'y = sum of x*y (k values).
/// </summary>
public sealed record CovariateStatistics(
    IReadOnlyList<double> Sums,
    IReadOnlyList<IReadOnlyList<double>> CrossProducts,
    IReadOnlyList<double> YCross)
{
    /// <summary>The number of covariates k.</summary>
    public int Count => Sums.Count;
}

/// <summary>One metric with its per-variant statistics (enumeration order is the variant order).</summary>
public sealed record MetricInput(
    string Name,
    MetricKind Kind,
    IReadOnlyDictionary<string, VariantStatistics> Variants,
    bool Cuped = false,
    IReadOnlyList<string>? CovariateNames = null);

/// <summary>Observed unit counts and intended traffic weights per variant (weights need not sum to 1).</summary>
public sealed record SrmInput(
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyDictionary<string, double> Weights,
    double Threshold = 0.001);

/// <summary>Normal prior on the relative lift for the Bayesian method.</summary>
public sealed record BayesianPrior(double Mean, double Variance);

/// <summary>A whole analysis: every non-control variant of every metric is compared with the control.</summary>
public sealed record AnalysisRequest(
    string Control,
    IReadOnlyList<MetricInput> Metrics,
    double Alpha = 0.05,
    Correction Correction = Correction.None,
    InferenceMethod Method = InferenceMethod.Frequentist,
    SrmInput? Srm = null,
    double SequentialTuning = 5000,
    BayesianPrior? Prior = null,
    Scale Scale = Scale.Relative);

/// <summary>
/// One variant-versus-control comparison. Undefined figures are null (see the warnings).
/// Absolute figures (lift, std error, CI) are on the metric's scale (CUPED-adjusted when CUPED is on);
/// relative figures divide by the unadjusted control mean's absolute value.
/// <see cref="PValue"/>, <see cref="AdjustedPValue"/> and <see cref="Significant"/> come from one test on
/// <see cref="Scale"/> (the request's scale): frequentist, the Welch t-test of the absolute difference or the
/// delta-method t-test of the relative lift (same Welch df); sequential, the always-valid p-value on that scale.
/// The leading interval is the CI on that scale (<see cref="CiLow"/>/<see cref="CiHigh"/> for absolute,
/// <see cref="RelativeCiLow"/>/<see cref="RelativeCiHigh"/> for relative), so significance and interval agree.
/// <see cref="Absolute"/> and <see cref="Relative"/> report both scales' tests. Bayesian: p-values are null, CIs are
/// credible intervals, <see cref="ChanceToWin"/>, the risks and the posterior are on <see cref="Scale"/>.
/// </summary>
public sealed record Comparison(
    string Metric,
    string Variant,
    double? ControlMean,
    double? VariantMean,
    double? AbsoluteLift,
    double? RelativeLift,
    double? StdError,
    double? PValue,
    double? AdjustedPValue,
    double? CiLow,
    double? CiHigh,
    double? RelativeCiLow,
    double? RelativeCiHigh,
    bool Significant,
    long ControlN,
    long VariantN,
    double? RelativeStdError = null,
    double? DegreesOfFreedom = null,
    double? CupedTheta = null,
    double? ChanceToWin = null,
    double? RiskControl = null,
    double? RiskVariant = null,
    double? PosteriorMean = null,
    double? PosteriorStdDev = null,
    Scale Scale = Scale.Relative,
    ScaleTest? Absolute = null,
    ScaleTest? Relative = null,
    double? VarianceReduction = null,
    RegressionSummary? Regression = null);

/// <summary>
/// The test of one scale: the estimate, its standard error, the (unadjusted) p-value and the interval
/// (frequentist CI, sequential confidence sequence, Bayesian credible interval; Bayesian p-value null).
/// </summary>
public sealed record ScaleTest(double? Estimate, double? StdError, double? PValue, double? CiLow, double? CiHigh);

/// <summary>
/// Regression adjustment (CUPED with one or several covariates): the pooled coefficient vector
/// <paramref name="Theta"/> (one per covariate, in <paramref name="Covariates"/> order; with collinear covariates the
/// minimum-norm pseudo-inverse solution), the rank of the pooled covariate covariance, and each arm's adjusted mean
/// m_Y - theta'(m_X - pooled m_X) with its variance s2_adj/n.
/// </summary>
public sealed record RegressionSummary(
    ValueList<string> Covariates,
    ValueList<double> Theta,
    int Rank,
    double? ControlAdjustedMean,
    double? VariantAdjustedMean,
    double? ControlAdjustedMeanVariance,
    double? VariantAdjustedMeanVariance);

/// <summary>Pearson chi-square sample-ratio-mismatch check.</summary>
public sealed record SrmResult(double ChiSquare, double PValue, bool Mismatch, int DegreesOfFreedom);

/// <summary>The result of <see cref="ExperimentAnalyzer.Analyze"/>.</summary>
public sealed record AnalysisResult(SrmResult? Srm, IReadOnlyList<Comparison> Comparisons, IReadOnlyList<string> Warnings);

/// <summary>
/// Guardrail non-inferiority outcome. <see cref="HarmBound"/> is the one-sided (1 - alpha) bound of the
/// relative change on the harmful side (upper bound for <see cref="HarmDirection.Increase"/>, lower bound
/// for <see cref="HarmDirection.Decrease"/>). <see cref="Status"/> is one of <see cref="GuardrailStatus"/>.
/// <see cref="AlwaysValid"/> is true when the bound and p-values are the one-sided always-valid confidence
/// sequence (the request's method is sequential), false for the fixed-horizon one-sided t-test.
/// </summary>
public sealed record GuardrailResult(
    string Metric,
    string Variant,
    double? RelativeLift,
    double? HarmBound,
    double? NonInferiorityPValue,
    string Status,
    double? HarmPValue = null,
    IReadOnlyList<string>? Warnings = null,
    bool AlwaysValid = false);

/// <summary>The guardrail status strings.</summary>
public static class GuardrailStatus
{
    /// <summary>Non-inferiority established: the harm bound is within the margin.</summary>
    public const string Passed = "passed";

    /// <summary>The estimate is harmful beyond the margin and significantly harmful.</summary>
    public const string Breached = "breached";

    /// <summary>Neither passed nor breached (or undefined data).</summary>
    public const string NotProven = "not_proven";
}
