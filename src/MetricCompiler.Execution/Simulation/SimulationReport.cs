using MetricCompiler.Core.Model;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// What to simulate. <paramref name="Lift"/> is relative (0.05 = +5%) and applies to the B half of
/// <paramref name="LiftedMetrics"/> (null: the experiment's primary metrics); 0 is a plain A/A.
/// </summary>
/// <paramref name="Looks"/>: guardrails are also monitored at that many equally spaced looks (each unit arrives at a
/// uniformly random one); null: one look per day of the experiment window; 0 or 1: no monitoring.
public sealed record SimulationOptions(int Runs = 1000, ulong Seed = 1, double Lift = 0, IReadOnlyList<string>? LiftedMetrics = null, int? Looks = null);

/// <summary>The outcome of <see cref="CalibrationSimulator.Run"/>: one entry per metric of the experiment.</summary>
public sealed record SimulationReport(
    string Experiment,
    int Runs,
    ulong Seed,
    double Alpha,
    string Correction,
    string Method,
    double Lift,
    IReadOnlyList<string> LiftedMetrics,
    int Units,
    double ControlShare,
    IReadOnlyList<MetricCalibration> Metrics,
    FamilyCalibration? Family,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Guardrails checked at every look (null when there are none or monitoring is off).</summary>
    public GuardrailMonitoring? Monitoring { get; init; }
}

/// <summary>
/// Daily monitoring of the guardrails in the A/A runs: <see cref="Looks"/> looks, each unit arriving at a uniformly
/// random one (its final per-unit values are used at every look). A run raises a false alarm for a guardrail when, at
/// any look, its one-sided harm test is significant (harm p &lt; alpha: "significantly worse", whatever the margin), or
/// when it is <c>breached</c> (harmful beyond the margin as well). Both with the fixed-horizon test and with the
/// always-valid confidence sequence (docs/statistics.md 2.9); <see cref="ReadoutMethod"/> says which one the readout uses.
/// </summary>
public sealed record GuardrailMonitoring(int Looks, string ReadoutMethod, IReadOnlyList<GuardrailAlarmRate> Guardrails);

/// <summary>One guardrail's false-alarm rates over the runs (null for a quantile guardrail: not monitored).</summary>
public sealed record GuardrailAlarmRate(
    string Metric,
    string HarmfulDirection,
    double Margin,
    int Runs,
    double? FixedHorizonHarmRate,
    double? AlwaysValidHarmRate,
    double? FixedHorizonBreachRate,
    double? AlwaysValidBreachRate,
    double StandardError,
    bool? AlwaysValidAtMostAlpha);

/// <summary>
/// One metric over all runs. <see cref="Runs"/> counts the runs whose test was defined. Not lifted (A/A):
/// <see cref="FalsePositiveRate"/> is the share with p &lt; alpha, <see cref="StandardError"/> is sqrt(alpha(1-alpha)/runs)
/// and <see cref="Within3Se"/> says whether the rate is within 3 of them of alpha. Lifted: <see cref="Power"/> is the
/// share significant in the lift's direction and <see cref="StandardError"/> that estimate's binomial error.
/// <see cref="ReadoutSignificantRate"/> is the same share judged as the readout flags it (after the family's correction).
/// <see cref="CiCoverage"/> is the share of confidence intervals containing the true effect (0, or the injected lift).
/// </summary>
public sealed record MetricCalibration(
    string Metric,
    MetricRole Role,
    MetricKind Kind,
    bool Cuped,
    bool Lifted,
    int Runs,
    int UntestableRuns,
    double? FalsePositiveRate,
    double? Power,
    double? StandardError,
    bool? Within3Se,
    double? ReadoutSignificantRate,
    double? CiCoverage,
    double? CoverageStandardError,
    bool? CoverageWithin3Se);

/// <summary>
/// The multiple-testing family (primary and secondary metrics that were not lifted): the share of runs in which the
/// readout would have called at least one of them significant. Holm keeps it at or below alpha.
/// </summary>
public sealed record FamilyCalibration(IReadOnlyList<string> Metrics, string Correction, double ErrorRate, double StandardError, bool AtMostAlpha);
