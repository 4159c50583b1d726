using System.Globalization;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

/// <summary>The rows of an experiment's statistics tables, as read from the warehouse.</summary>
public sealed record ExperimentTables(
    IReadOnlyList<IReadOnlyDictionary<string, object?>> Statistics,
    IReadOnlyList<IReadOnlyDictionary<string, object?>> SrmCounts,
    IReadOnlyList<IReadOnlyDictionary<string, object?>> SegmentStatistics,
    AssignmentAuditReadout? Assignment = null);

/// <summary>
/// Turns an experiment's statistics tables into a readout. The statistics engine compares every variant with control:
/// primary and secondary metrics form one multiple-testing family; guardrails are checked one-sided, outside it; each
/// segment dimension is its own family (its segments x metrics x variants, so it is corrected for the number of
/// segments). Then <see cref="DecisionPolicy"/> decides.
/// </summary>
public static class ReadoutBuilder
{
    public static ExperimentReadout Build(LoweredExperiment lowered, ExperimentTables tables)
    {
        var experiment = lowered.Experiment;
        var settings = experiment.Analysis;
        var control = experiment.Control.Name;
        var variantNames = experiment.Variants.Select(v => v.Name).ToList();
        var warnings = new List<string>();

        var srm = BuildSrm(experiment, tables.SrmCounts);
        if (srm.MultipleVariantUnits > 0)
            warnings.Add($"{srm.MultipleVariantUnits} unit(s) saw more than one variant and were excluded from the analysis");
        if (srm.UndeclaredVariantUnits > 0)
            warnings.Add($"{srm.UndeclaredVariantUnits} unit(s) were exposed to a variant not declared in the YAML and were excluded");

        var inputs = experiment.Metrics.ToDictionary(
            m => m.Metric.Name,
            m => ToInput(m.Metric.Name, lowered.Of(m.Metric), variantNames, tables.Statistics.Where(r => Text(r, StatisticsColumns.Metric) == m.Metric.Name)),
            StringComparer.Ordinal);
        var goalMetrics = experiment.Metrics.Where(m => m.Role != MetricRole.Guardrail).Select(m => inputs[m.Metric.Name]).ToList();
        var guardrailOnly = experiment.Metrics.Where(m => m.Role == MetricRole.Guardrail).Select(m => inputs[m.Metric.Name]).ToList();

        var (goalRequest, guardrailRequest) = EngineRequests.GoalAndGuardrails(experiment, control, goalMetrics, guardrailOnly);
        var goal = ExperimentAnalyzer.Analyze(goalRequest with { Srm = new SrmInput(srm.Counts, srm.Weights, settings.SrmThreshold) });
        var comparisons = goal.Comparisons.ToList();
        warnings.AddRange(goal.Warnings);
        if (guardrailRequest is not null)
        {
            var guard = ExperimentAnalyzer.Analyze(guardrailRequest);
            comparisons.AddRange(guard.Comparisons);
            warnings.AddRange(guard.Warnings);
        }

        var analysed = experiment.Metrics.ToDictionary(m => m.Metric.Name, StringComparer.Ordinal);
        var readouts = new List<MetricReadout>();
        foreach (var comparison in comparisons)
        {
            var entry = analysed[comparison.Metric];
            var metric = entry.Metric;
            var guardrail = entry.Guardrail;
            var guardrailResult = guardrail is null
                ? null
                : Guardrails.Evaluate(inputs[metric.Name], control, comparison.Variant,
                    guardrail.HarmfulDirection == Direction.Increase ? HarmDirection.Increase : HarmDirection.Decrease,
                    guardrail.Margin, settings.Alpha, EngineRequests.Method(settings), settings.SequentialTuning);
            readouts.Add(new MetricReadout(metric.Name, metric.Label, entry.Role, metric.DesiredDirection,
                inputs[metric.Name].Cuped, comparison, guardrailResult)
            {
                Cap = AppliedCapOf(metric.Definition.Cap, tables.Statistics.Where(r => Text(r, StatisticsColumns.Metric) == metric.Name)),
            });
        }

        var balance = BalanceChecks(experiment, inputs.Values.Where(i => i.Cuped).ToList(), control);
        foreach (var check in balance.Where(b => b.Imbalanced))
            warnings.Add($"pre-exposure imbalance in `{check.Metric}` for `{check.Variant}` (covariate means {F(check.ControlMean)} vs {F(check.VariantMean)}, p = {DecisionPolicy.P(check.PValue)}): assignment may be biased");

        var segments = Segments(lowered, tables.SegmentStatistics, variantNames, warnings);
        srm = srm with { Result = goal.Srm };
        var verdicts = variantNames.Where(v => v != control).Select(v => DecisionPolicy.Decide(v, readouts, srm, experiment.Definition.Decision)).ToList();
        var (decision, reasons) = DecisionPolicy.Combine(verdicts);
        if (tables.Assignment is { Mismatched: > 0 } audit)
        {
            var explained = srm.Result is { Mismatch: true } ? "the sample ratio mismatch is explained by the assignment audit: " : "assignment audit: ";
            reasons = [.. reasons, explained + $"{audit.Mismatched:N0} of {audit.UnitsChecked:N0} units were logged in another variant than the hash gives" +
                (audit.LikelyCauses.Count > 0 ? $"; {audit.LikelyCauses[0]}" : "")];
        }
        var power = PowerProjections(experiment, inputs, control);
        if (decision == Decision.Inconclusive)
        {
            foreach (var projection in power.Where(p => p.AdditionalDays is > 0))
                reasons = [.. reasons, $"`{projection.Metric}` is not yet powered for a {DecisionPolicy.Percent(projection.MinimumDetectableEffect, signed: false)} MDE: " +
                    $"needs ~{projection.RequiredPerVariant:N0} units per variant (has {projection.ObservedPerVariant:N0}), about {Math.Ceiling(projection.AdditionalDays!.Value):0} more day(s) at the observed rate"];
        }

        var definition = experiment.Definition;
        return new ExperimentReadout(experiment.Id, definition.Name, definition.Hypothesis, control, settings, definition.Decision,
            definition.Start, definition.End, srm, readouts, balance, segments, power, verdicts, decision, reasons, warnings, tables.Assignment,
            experiment.Holdout is { } holdout ? new HoldoutReadout(holdout.Range.Name, holdout.Range.Start, holdout.Range.End) : null);
    }

    /// <summary>Welch test of each CUPED covariate (the metric before exposure) between control and each variant.</summary>
    private static IReadOnlyList<BalanceCheck> BalanceChecks(BoundExperiment experiment, IReadOnlyList<MetricInput> cuped, string control)
    {
        if (cuped.Count == 0)
            return [];
        var covariates = cuped.Select(m => new MetricInput(m.Name, MetricKind.Mean,
            m.Variants.ToDictionary(v => v.Key, v => new VariantStatistics(v.Value.N, v.Value.CovariateSum ?? 0, v.Value.CovariateSumSquares ?? 0, Shift: v.Value.CovariateShift)))).ToList();
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest(control, covariates, experiment.Analysis.Alpha, Scale: Scale.Absolute));
        return result.Comparisons
            .Select(c => new BalanceCheck(c.Metric, c.Variant, c.ControlMean, c.VariantMean, c.PValue, c.PValue is { } p && p < experiment.Analysis.BalanceThreshold))
            .ToList();
    }

    /// <summary>
    /// Every segment of a dimension compared at once, so the experiment's correction (Holm when it has none) spans the
    /// dimension's segments, metrics and variants.
    /// </summary>
    private static IReadOnlyList<SegmentReadout> Segments(LoweredExperiment lowered,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, IReadOnlyList<string> variants, List<string> warnings)
    {
        var experiment = lowered.Experiment;
        var result = new List<SegmentReadout>();
        // Bayesian readouts have no p-values to correct; otherwise Holm at least, since slicing breeds false positives.
        var correction = experiment.Analysis.Method == AnalysisMethod.Bayesian
            ? Statistics.Correction.None
            : experiment.Analysis.Correction == MultipleTestingCorrection.None ? Statistics.Correction.Holm : EngineRequests.Correction(experiment.Analysis.Correction);
        foreach (var dimension in experiment.Segments)
        {
            var inDimension = rows.Where(r => Text(r, StatisticsColumns.Dimension) == dimension.Name).ToList();
            var keys = new Dictionary<string, (string Segment, string Metric)>(StringComparer.Ordinal);
            var inputs = new List<MetricInput>();
            foreach (var group in inDimension.GroupBy(r => (Segment: Text(r, StatisticsColumns.Segment) ?? NodeNames.MissingSegment, Metric: Text(r, StatisticsColumns.Metric)!))
                         .OrderBy(g => g.Key.Segment, StringComparer.Ordinal).ThenBy(g => g.Key.Metric, StringComparer.Ordinal))
            {
                var key = $"{group.Key.Metric}[{dimension.Name}={group.Key.Segment}]";
                keys[key] = group.Key;
                var metric = experiment.Metrics.First(m => m.Metric.Name == group.Key.Metric).Metric;
                inputs.Add(ToInput(metric.Name, lowered.Of(metric), variants, group) with { Name = key });
            }

            if (inputs.Count == 0)
                continue;
            var analysis = ExperimentAnalyzer.Analyze(EngineRequests.Request(experiment, experiment.Control.Name, inputs, correction));
            warnings.AddRange(analysis.Warnings.Select(w => $"segment {dimension.Name}: {w}"));
            result.AddRange(analysis.Comparisons.Select(c => new SegmentReadout(dimension.Name, keys[c.Metric].Segment, keys[c.Metric].Metric, c with { Metric = keys[c.Metric].Metric })));
        }

        return result;
    }

    /// <summary>
    /// For each primary metric with a declared MDE: the n it needs (at <see cref="EngineRequests.PlanningAlpha"/>, on the
    /// unadjusted variance), the n it has, and the days still needed at the rate observed over the planned window.
    /// </summary>
    private static IReadOnlyList<PowerProjection> PowerProjections(BoundExperiment experiment, IReadOnlyDictionary<string, MetricInput> inputs, string control)
    {
        if (experiment.Analysis.MinimumDetectableEffect is not { } mde)
            return [];
        var projections = new List<PowerProjection>();
        var days = experiment.Definition.End.DayNumber - experiment.Definition.Start.DayNumber + 1;
        foreach (var reference in experiment.Metrics.Where(m => m.Role == MetricRole.Primary).Select(m => m.Metric))
        {
            var input = inputs[reference.Name];
            if (input.Kind == MetricKind.Ratio || !input.Variants.TryGetValue(control, out var baseline) || baseline.N < 2)
                continue;
            var mean = baseline.Sum / baseline.N;
            var variance = (baseline.SumSquares - baseline.Sum * baseline.Sum / baseline.N) / (baseline.N - 1);
            if (!(variance > 0) || mean == 0)
                continue;
            var alpha = EngineRequests.PlanningAlpha(experiment);
            var required = PowerCalculator.SampleSizePerVariant(variance, mean, mde, alpha, experiment.Analysis.Power);
            var observed = input.Variants.Values.Min(v => v.N);
            var reachable = observed > 0 ? PowerCalculator.MinimumDetectableEffect(variance, mean, observed, alpha, experiment.Analysis.Power) : (double?)null;
            double? more = observed > 0 ? Math.Max(0, (required - observed) / ((double)observed / days)) : null;
            projections.Add(new PowerProjection(reference.Name, mde, required, observed, reachable, more));
        }

        return projections;
    }

    private static SrmReadout BuildSrm(BoundExperiment experiment, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        var counts = experiment.Variants.ToDictionary(v => v.Name, _ => 0L, StringComparer.Ordinal);
        long multiple = 0, undeclared = 0;
        foreach (var row in rows)
        {
            var units = Convert.ToInt64(row["units"], CultureInfo.InvariantCulture);
            switch (Text(row, "assignment_status"))
            {
                case AssignmentStatus.Analysed when Text(row, "variant") is { } variant && counts.ContainsKey(variant):
                    counts[variant] += units;
                    break;
                case AssignmentStatus.MultipleVariants:
                    multiple += units;
                    break;
                default:
                    undeclared += units;
                    break;
            }
        }

        var weights = experiment.Variants.ToDictionary(v => v.Name, v => v.Weight, StringComparer.Ordinal);
        return new SrmReadout(counts, weights, null, experiment.Analysis.SrmThreshold, multiple, undeclared);
    }

    /// <summary>The engine's input for one metric, from its rows of a statistics table (one per variant), read by its shape.</summary>
    public static MetricInput ToInput(string metric, ExperimentStatistics statistics, IReadOnlyList<string> variants,
        IEnumerable<IReadOnlyDictionary<string, object?>> rows)
    {
        var rowList = rows.ToList();
        var byVariant = variants.ToDictionary(
            v => v,
            v => statistics.Read(rowList.FirstOrDefault(r => Text(r, StatisticsColumns.Variant) == v)),
            StringComparer.Ordinal);
        return new MetricInput(metric, statistics.EngineKind, byVariant, statistics.Cuped,
            byVariant.Values.Any(v => v.Covariates is not null) ? statistics.CovariateNames : null);
    }

    /// <summary>The caps from a capped metric's statistics rows (the same on every row: they are taken over all units).</summary>
    private static AppliedCap? AppliedCapOf(MetricCap? cap, IEnumerable<IReadOnlyDictionary<string, object?>> rows)
    {
        if (cap is null)
            return null;
        var row = rows.FirstOrDefault();
        return new AppliedCap(cap.Percentile is null ? "fixed" : cap.Describe(),
            StatisticsColumns.Number(row, StatisticsColumns.ValueCap),
            StatisticsColumns.Number(row, StatisticsColumns.DenominatorCap),
            StatisticsColumns.Number(row, StatisticsColumns.CovariateCap));
    }

    private static string? Text(IReadOnlyDictionary<string, object?> row, string column) =>
        row.TryGetValue(column, out var value) ? value as string : null;

    private static string F(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : "n/a";
}
