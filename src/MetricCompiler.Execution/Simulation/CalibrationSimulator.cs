using MetricCompiler.Core.Metrics;
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
        var monitor = GuardrailMonitor.Create(lowered, plan, options);
        for (var run = 0; run < options.Runs; run++)
        {
            var random = SplitMix64.ForRun(options.Seed, run);
            for (var i = 0; i < mask.Length; i++)
                mask[i] = random.NextDouble() < controlShare ? 0.0 : 1.0;
            plan.SumB(mask, sumsB);
            monitor?.Run(random, mask);

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
            settings.Method.ToString().ToLowerInvariant(), options.Lift, lifted, data.Units, controlShare, metrics, family, warnings)
        {
            Monitoring = monitor?.Summarize(options.Runs),
        };
    }

    /// <summary>
    /// The guardrails of each A/A run checked at every look, fixed-horizon and always-valid, on the run's own split
    /// (units arrive at random looks drawn after the split from the run's stream, so the other figures do not change).
    /// </summary>
    private sealed class GuardrailMonitor
    {
        private readonly SplitPlan _plan;
        private readonly BoundExperiment _experiment;
        private readonly List<(SplitMetric Metric, GuardrailDefinition Guardrail, int[] Alarms)> _guardrails;
        private readonly IReadOnlyList<(SplitMetric Metric, GuardrailDefinition Guardrail)> _skipped;
        private readonly int _looks;
        private readonly int[] _look;
        private readonly double[][] _sumsB;
        private readonly double[][] _sumsAll;

        private GuardrailMonitor(SplitPlan plan, BoundExperiment experiment, List<(SplitMetric, GuardrailDefinition, int[])> guardrails,
            IReadOnlyList<(SplitMetric, GuardrailDefinition)> skipped, int looks)
        {
            _plan = plan;
            _experiment = experiment;
            _guardrails = guardrails;
            _skipped = skipped;
            _looks = looks;
            _look = new int[plan.Units];
            _sumsB = Enumerable.Range(0, looks).Select(_ => new double[plan.TermCount]).ToArray();
            _sumsAll = Enumerable.Range(0, looks).Select(_ => new double[plan.TermCount]).ToArray();
        }

        public static GuardrailMonitor? Create(LoweredExperiment lowered, SplitPlan plan, SimulationOptions options)
        {
            var experiment = lowered.Experiment;
            var looks = options.Looks ?? experiment.Definition.End.DayNumber - experiment.Definition.Start.DayNumber + 1;
            var guarded = experiment.Metrics.Where(m => m.Guardrail is not null && options.Lift == 0)
                .Select(m => (Metric: plan.Metrics.First(s => s.Name == m.Metric.Name), Guardrail: m.Guardrail!)).ToList();
            if (looks < 2 || guarded.Count == 0)
                return null;
            var monitored = guarded.Where(g => g.Metric.Statistics is not QuantileStatistics).Select(g => (g.Metric, g.Guardrail, new int[4])).ToList();
            var skipped = guarded.Where(g => g.Metric.Statistics is QuantileStatistics).ToList();
            return new GuardrailMonitor(plan, experiment, monitored, skipped, looks);
        }

        public void Run(SplitMix64 random, double[] mask)
        {
            if (_guardrails.Count == 0)
                return;
            for (var i = 0; i < _look.Length; i++)
                _look[i] = Math.Min(_looks - 1, (int)(random.NextDouble() * _looks));
            _plan.SumByLook(mask, _look, _sumsB, _sumsAll);
            var settings = _experiment.Analysis;
            foreach (var (metric, guardrail, alarms) in _guardrails)
            {
                var harm = guardrail.HarmfulDirection == Direction.Increase ? HarmDirection.Increase : HarmDirection.Decrease;
                bool fixedHarm = false, validHarm = false, fixedBreach = false, validBreach = false;
                for (var k = 0; k < _looks; k++)
                {
                    var input = _plan.InputOf(metric, _sumsB[k], _sumsAll[k]);
                    var fixedResult = Guardrails.Evaluate(input, ArmA, ArmB, harm, guardrail.Margin, settings.Alpha, InferenceMethod.Frequentist, settings.SequentialTuning);
                    var validResult = Guardrails.Evaluate(input, ArmA, ArmB, harm, guardrail.Margin, settings.Alpha, InferenceMethod.Sequential, settings.SequentialTuning);
                    fixedHarm |= fixedResult.HarmPValue < settings.Alpha;
                    validHarm |= validResult.HarmPValue < settings.Alpha;
                    fixedBreach |= fixedResult.Status == GuardrailStatus.Breached;
                    validBreach |= validResult.Status == GuardrailStatus.Breached;
                }

                alarms[0] += fixedHarm ? 1 : 0;
                alarms[1] += validHarm ? 1 : 0;
                alarms[2] += fixedBreach ? 1 : 0;
                alarms[3] += validBreach ? 1 : 0;
            }
        }

        public GuardrailMonitoring Summarize(int runs)
        {
            var alpha = _experiment.Analysis.Alpha;
            var se = BinomialError(alpha, runs);
            var rates = _guardrails.Select(g => (g.Metric, g.Guardrail, Rates: g.Alarms.Select(a => (double?)a / runs).ToArray()))
                .Concat(_skipped.Select(g => (g.Metric, g.Guardrail, Rates: new double?[4])))
                .OrderBy(g => _experiment.Metrics.ToList().FindIndex(m => m.Metric.Name == g.Metric.Name))
                .Select(g => new GuardrailAlarmRate(g.Metric.Name, g.Guardrail.HarmfulDirection.ToString().ToLowerInvariant(), g.Guardrail.Margin, runs,
                    g.Rates[0], g.Rates[1], g.Rates[2], g.Rates[3], se, g.Rates[1] is { } valid ? valid <= alpha + (3 * se) : null))
                .ToList();
            var readout = _experiment.Analysis.Method == AnalysisMethod.Sequential ? "always_valid" : "fixed_horizon";
            return new GuardrailMonitoring(_looks, readout, rates);
        }
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
