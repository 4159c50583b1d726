using MetricCompiler.Execution.Readout;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// A/A calibration: splits an experiment's analysed units at random into two arms many times, computes each split's
/// sufficient statistics as the statistics SQL does, and runs them through the same engine and analyses as the readout.
/// With no real difference between the arms, a calibrated metric is significant in about alpha of the runs and its
/// confidence interval contains 0 in about 1 - alpha of them. An injected lift (the B half's values times 1 + lift)
/// measures power instead.
/// </summary>
public static class CalibrationSimulator
{
    /// <summary>The simulated control arm.</summary>
    public const string ArmA = "A";

    /// <summary>The simulated treatment arm.</summary>
    public const string ArmB = "B";

    public const int MaxRuns = 1_000_000;

    private const int MaxWarnings = 20;

    public static SimulationReport Run(
        LoweredExperiment lowered, UnitMetricsData data, SimulationOptions options, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(lowered);
        var experiment = lowered.Experiment;
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Runs is < 1 or > MaxRuns)
            throw new ArgumentOutOfRangeException(nameof(options), options.Runs, $"runs must be between 1 and {MaxRuns}");
        if (!double.IsFinite(options.Lift) || options.Lift <= -1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Lift, "lift is relative and must be greater than -1 (0.05 = +5%)");

        var lifted = LiftedMetrics(experiment, options);
        var plan = SplitPlan.Build(lowered, data, options.Lift, lifted.ToHashSet(StringComparer.Ordinal));
        var settings = experiment.Analysis;
        var alpha = settings.Alpha;
        var method = EngineRequests.Method(settings);
        var controlShare = ControlShare(experiment);
        var index = plan.Metrics.Select((m, i) => (m.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var tallies = plan.Metrics.Select(_ => new Tally()).ToArray();
        var familyMetrics = plan.Metrics.Where(m => m.Role != MetricRole.Guardrail && !m.Lifted).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var familyErrors = 0;
        var warnings = new List<string>();
        var seenWarnings = new HashSet<string>(StringComparer.Ordinal);

        var mask = new double[plan.Units];
        var sumsB = new double[plan.TermCount];
        for (var run = 0; run < options.Runs; run++)
        {
            var random = SplitMix64.ForRun(options.Seed, run);
            for (var i = 0; i < mask.Length; i++)
                mask[i] = random.NextDouble() < controlShare ? 0.0 : 1.0;
            plan.SumB(mask, sumsB);

            var goal = new List<MetricInput>();
            var guardrails = new List<MetricInput>();
            foreach (var metric in plan.Metrics)
                (metric.Role == MetricRole.Guardrail ? guardrails : goal).Add(plan.Input(metric, sumsB, mask));
            var (goalRequest, guardrailRequest) = EngineRequests.GoalAndGuardrails(experiment, ArmA, goal, guardrails);

            var familyError = false;
            foreach (var result in new[] { goalRequest, guardrailRequest }.OfType<AnalysisRequest>().Select(ExperimentAnalyzer.Analyze))
            {
                foreach (var comparison in result.Comparisons)
                {
                    var metric = plan.Metrics[index[comparison.Metric]];
                    tallies[index[comparison.Metric]].Add(comparison, metric.Lifted, options.Lift, alpha, method);
                    familyError |= comparison.Significant && familyMetrics.Contains(comparison.Metric);
                }

                foreach (var warning in result.Warnings)
                {
                    if (warnings.Count < MaxWarnings && seenWarnings.Add(warning))
                        warnings.Add(warning);
                }
            }

            if (familyError)
                familyErrors++;
            if (progress is not null && (long)(run + 1) * 10 / options.Runs > (long)run * 10 / options.Runs)
                progress(run + 1, options.Runs);
        }

        var metrics = plan.Metrics.Select((m, i) => tallies[i].Summarize(m, alpha)).ToList();
        FamilyCalibration? family = null;
        if (familyMetrics.Count > 0)
        {
            var rate = (double)familyErrors / options.Runs;
            var se = BinomialError(alpha, options.Runs);
            family = new FamilyCalibration(plan.Metrics.Select(m => m.Name).Where(familyMetrics.Contains).ToList(),
                EngineRequests.CorrectionName(settings.Correction), rate, se, rate <= alpha + (3 * se));
        }

        return new SimulationReport(experiment.Id, options.Runs, options.Seed, alpha, EngineRequests.CorrectionName(settings.Correction),
            settings.Method.ToString().ToLowerInvariant(), options.Lift, lifted, data.Units, controlShare, metrics, family, warnings);
    }

    /// <summary>
    /// The engine inputs (arms A and B) of one given split; <paramref name="inB"/> holds one flag per unit in unit_id
    /// order. Splitting by the real variant reproduces the statistics table, which is how the sums are checked.
    /// </summary>
    public static IReadOnlyList<MetricInput> SplitInputs(LoweredExperiment lowered, UnitMetricsData data, IReadOnlyList<bool> inB)
    {
        ArgumentNullException.ThrowIfNull(inB);
        if (inB.Count != data.Units)
            throw new ArgumentException($"expected {data.Units} flags, got {inB.Count}", nameof(inB));
        var plan = SplitPlan.Build(lowered, data, 0, new HashSet<string>());
        var mask = inB.Select(b => b ? 1.0 : 0.0).ToArray();
        var sums = new double[plan.TermCount];
        plan.SumB(mask, sums);
        return plan.Metrics.Select(m => plan.Input(m, sums, mask)).ToList();
    }

    /// <summary>The share of units the A arm gets: the control's traffic weight (a two-arm A/A even for multi-arm experiments).</summary>
    public static double ControlShare(BoundExperiment experiment)
    {
        var total = experiment.Variants.Sum(v => v.Weight);
        return total > 0 ? experiment.Control.Weight / total : 0.5;
    }

    private static List<string> LiftedMetrics(BoundExperiment experiment, SimulationOptions options)
    {
        if (options.Lift == 0)
            return [];
        var names = (options.LiftedMetrics ?? experiment.Metrics.Where(m => m.Role == MetricRole.Primary).Select(m => m.Metric.Name).ToList()).Distinct(StringComparer.Ordinal).ToList();
        var known = experiment.Metrics.Select(m => m.Metric.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!known.Contains(name))
                throw new ArgumentException($"metric `{name}` is not a metric of experiment `{experiment.Id}`", nameof(options));
        }

        return names;
    }

    private static double BinomialError(double p, int runs) => Math.Sqrt(p * (1 - p) / runs);

    /// <summary>Counts for one metric over the runs.</summary>
    private sealed class Tally
    {
        private int _tested;
        private int _untestable;
        private int _significant;
        private int _readoutSignificant;
        private int _covered;

        public void Add(Comparison c, bool lifted, double lift, double alpha, InferenceMethod method)
        {
            if (c.CiLow is not { } low || c.CiHigh is not { } high)
            {
                _untestable++;
                return;
            }

            _tested++;
            var direction = !lifted || (c.AbsoluteLift is { } l && Math.Sign(l) == Math.Sign(lift));
            var significant = method == InferenceMethod.Bayesian ? c.Significant : c.PValue is { } p && p < alpha;
            if (significant && direction)
                _significant++;
            if (c.Significant && direction)
                _readoutSignificant++;
            var truth = lifted ? lift * (c.ControlMean ?? double.NaN) : 0.0;
            if (low <= truth && truth <= high)
                _covered++;
        }

        public MetricCalibration Summarize(SplitMetric metric, double alpha)
        {
            var kind = metric.Statistics.EngineKind;
            if (_tested == 0)
            {
                return new MetricCalibration(metric.Name, metric.Role, kind, metric.Cuped, metric.Lifted, 0, _untestable,
                    null, null, null, null, null, null, null, null);
            }

            var rate = (double)_significant / _tested;
            var coverage = (double)_covered / _tested;
            var nullError = BinomialError(alpha, _tested);
            return new MetricCalibration(metric.Name, metric.Role, kind, metric.Cuped, metric.Lifted, _tested, _untestable,
                FalsePositiveRate: metric.Lifted ? null : rate,
                Power: metric.Lifted ? rate : null,
                StandardError: metric.Lifted ? BinomialError(rate, _tested) : nullError,
                Within3Se: metric.Lifted ? null : Math.Abs(rate - alpha) <= 3 * nullError,
                ReadoutSignificantRate: (double)_readoutSignificant / _tested,
                CiCoverage: coverage,
                CoverageStandardError: nullError,
                CoverageWithin3Se: Math.Abs(coverage - (1 - alpha)) <= 3 * nullError);
        }
    }
}
