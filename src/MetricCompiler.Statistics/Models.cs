namespace MetricCompiler.Statistics;

/// <summary>
/// Sufficient statistics of one variant for one metric. <paramref name="CrossSum"/> is the sum of
/// y*x (CUPED: metric times pre-period covariate) or of numerator*denominator (ratio metrics).
/// For proportions only <paramref name="N"/> and <paramref name="Sum"/> are used (sum_squares = sum).
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
    double? DenominatorSumSquares = null);

/// <summary>One metric with its per-variant statistics (enumeration order is the variant order).</summary>
public sealed record MetricInput(
    string Name,
    MetricKind Kind,
    IReadOnlyDictionary<string, VariantStatistics> Variants,
    bool Cuped = false);

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
    BayesianPrior? Prior = null);

/// <summary>
/// One variant-versus-control comparison. Undefined figures are null (see the warnings).
/// Absolute figures (lift, std error, CI) are on the metric's scale (CUPED-adjusted when CUPED is on);
/// relative figures divide by the unadjusted control mean's absolute value.
/// Frequentist and sequential: <see cref="PValue"/> tests the absolute difference; CIs are confidence
/// intervals (sequential: confidence sequences). Bayesian: p-values are null, CIs are credible
/// intervals, <see cref="ChanceToWin"/> and the risks come from the posterior of the relative lift.
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
    double? PosteriorStdDev = null);

/// <summary>Pearson chi-square sample-ratio-mismatch check.</summary>
public sealed record SrmResult(double ChiSquare, double PValue, bool Mismatch, int DegreesOfFreedom);

/// <summary>The result of <see cref="ExperimentAnalyzer.Analyze"/>.</summary>
public sealed record AnalysisResult(SrmResult? Srm, IReadOnlyList<Comparison> Comparisons, IReadOnlyList<string> Warnings);

/// <summary>
/// Guardrail non-inferiority outcome. <see cref="HarmBound"/> is the one-sided (1 - alpha) bound of the
/// relative change on the harmful side (upper bound for <see cref="HarmDirection.Increase"/>, lower bound
/// for <see cref="HarmDirection.Decrease"/>). <see cref="Status"/> is one of <see cref="GuardrailStatus"/>.
/// </summary>
public sealed record GuardrailResult(
    string Metric,
    string Variant,
    double? RelativeLift,
    double? HarmBound,
    double? NonInferiorityPValue,
    string Status,
    double? HarmPValue = null,
    IReadOnlyList<string>? Warnings = null);

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
