using MetricCompiler.Core.Model;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// What to simulate. <paramref name="Lift"/> is relative (0.05 = +5%) and applies to the B half of
/// <paramref name="LiftedMetrics"/> (null: the experiment's primary metrics); 0 is a plain A/A.
/// </summary>
public sealed record SimulationOptions(int Runs = 1000, ulong Seed = 1, double Lift = 0, IReadOnlyList<string>? LiftedMetrics = null);

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
    IReadOnlyList<string> Warnings);

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
