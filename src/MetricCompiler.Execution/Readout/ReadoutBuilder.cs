using System.Globalization;
using MetricCompiler.Core.Model;
using MetricCompiler.Planning;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

/// <summary>
/// Turns an experiment's sufficient-statistics and SRM tables into a readout: the statistics engine compares every
/// variant with control (primary and secondary metrics form one multiple-testing family; guardrails are checked one-sided,
/// outside it), then <see cref="DecisionPolicy"/> decides.
/// </summary>
public static class ReadoutBuilder
{
    public static ExperimentReadout Build(
        ProjectDefinition project,
        ExperimentDefinition experiment,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> statistics,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> srmCounts)
    {
        var settings = experiment.Analysis;
        var control = experiment.Control!.Name;
        var variantNames = experiment.Variants.Select(v => v.Name).ToList();
        var warnings = new List<string>();

        var srm = BuildSrm(experiment, srmCounts);
        if (srm.MultipleVariantUnits > 0)
            warnings.Add($"{srm.MultipleVariantUnits} unit(s) saw more than one variant and were excluded from the analysis");
        if (srm.UndeclaredVariantUnits > 0)
            warnings.Add($"{srm.UndeclaredVariantUnits} unit(s) were exposed to a variant not declared in the YAML and were excluded");

        var inputs = new Dictionary<string, MetricInput>(StringComparer.Ordinal);
        foreach (var (reference, _) in experiment.AllMetrics())
        {
            var metric = project.FindMetric(reference.Name)!;
            inputs[metric.Name] = ToInput(metric, experiment, variantNames, statistics);
        }

        var goalMetrics = experiment.AllMetrics().Where(m => m.Role != MetricRole.Guardrail).Select(m => inputs[m.Metric.Name]).ToList();
        var guardrailOnly = experiment.AllMetrics().Where(m => m.Role == MetricRole.Guardrail).Select(m => inputs[m.Metric.Name]).ToList();
        var comparisons = new List<Comparison>();
        SrmResult? srmResult = null;
        var srmInput = new SrmInput(srm.Counts, srm.Weights, settings.SrmThreshold);
        var method = settings.Method switch
        {
            AnalysisMethod.Sequential => InferenceMethod.Sequential,
            AnalysisMethod.Bayesian => InferenceMethod.Bayesian,
            _ => InferenceMethod.Frequentist,
        };
        var correction = settings.Correction switch
        {
            MultipleTestingCorrection.Holm => Correction.Holm,
            MultipleTestingCorrection.BenjaminiHochberg => Correction.BenjaminiHochberg,
            _ => Correction.None,
        };

        var goal = ExperimentAnalyzer.Analyze(new AnalysisRequest(control, goalMetrics, settings.Alpha, correction, method, srmInput));
        srmResult = goal.Srm;
        comparisons.AddRange(goal.Comparisons);
        warnings.AddRange(goal.Warnings);
        if (guardrailOnly.Count > 0)
        {
            var guard = ExperimentAnalyzer.Analyze(new AnalysisRequest(control, guardrailOnly, settings.Alpha, Correction.None, method));
            comparisons.AddRange(guard.Comparisons);
            warnings.AddRange(guard.Warnings);
        }

        var roles = experiment.AllMetrics().ToDictionary(m => m.Metric.Name, m => m.Role, StringComparer.Ordinal);
        var readouts = new List<MetricReadout>();
        foreach (var comparison in comparisons)
        {
            var metric = project.FindMetric(comparison.Metric)!;
            var guardrail = experiment.Guardrails.FirstOrDefault(g => g.Metric.Name == metric.Name);
            var guardrailResult = guardrail is null
                ? null
                : Guardrails.Evaluate(inputs[metric.Name], control, comparison.Variant,
                    guardrail.HarmfulDirection == Direction.Increase ? HarmDirection.Increase : HarmDirection.Decrease,
                    guardrail.Margin, settings.Alpha);
            readouts.Add(new MetricReadout(metric.Name, metric.Label ?? metric.Name, roles[metric.Name], metric.DesiredDirection,
                inputs[metric.Name].Cuped, comparison, guardrailResult));
        }

        srm = srm with { Result = srmResult };
        var verdicts = variantNames.Where(v => v != control).Select(v => DecisionPolicy.Decide(v, readouts, srm)).ToList();
        var (decision, reasons) = DecisionPolicy.Combine(verdicts);
        return new ExperimentReadout(experiment.Id, experiment.Name, experiment.Hypothesis, control, settings, experiment.Start, experiment.End,
            srm, readouts, verdicts, decision, reasons, warnings);
    }

    private static SrmReadout BuildSrm(ExperimentDefinition experiment, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        var counts = experiment.Variants.ToDictionary(v => v.Name, _ => 0L, StringComparer.Ordinal);
        long multiple = 0, undeclared = 0;
        foreach (var row in rows)
        {
            var units = Convert.ToInt64(row["units"], CultureInfo.InvariantCulture);
            switch (row["assignment_status"] as string)
            {
                case AssignmentStatus.Analysed when row["variant"] is string variant && counts.ContainsKey(variant):
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

    private static MetricInput ToInput(MetricDefinition metric, ExperimentDefinition experiment, IReadOnlyList<string> variants,
        IReadOnlyList<IReadOnlyDictionary<string, object?>> statistics)
    {
        var byVariant = new Dictionary<string, VariantStatistics>(StringComparer.Ordinal);
        var cuped = Planner.HasCovariate(experiment, metric);
        foreach (var variant in variants)
        {
            var row = statistics.FirstOrDefault(r => (r["metric"] as string) == metric.Name && (r["variant"] as string) == variant);
            var n = row is null ? 0 : Convert.ToInt64(row["n"], CultureInfo.InvariantCulture);
            byVariant[variant] = metric.IsRatio
                ? new VariantStatistics(n,
                    NumeratorSum: Number(row, "value_sum"), NumeratorSumSquares: Number(row, "value_sum_squares"),
                    DenominatorSum: Number(row, "denominator_sum"), DenominatorSumSquares: Number(row, "denominator_sum_squares"),
                    CrossSum: Number(row, "cross_sum"))
                : new VariantStatistics(n, Number(row, "value_sum") ?? 0, Number(row, "value_sum_squares") ?? 0,
                    CovariateSum: cuped ? Number(row, "covariate_sum") ?? 0 : null,
                    CovariateSumSquares: cuped ? Number(row, "covariate_sum_squares") ?? 0 : null,
                    CrossSum: cuped ? Number(row, "cross_sum") ?? 0 : null);
        }

        var kind = metric.Aggregation switch
        {
            MetricAggregation.Ratio => MetricKind.Ratio,
            MetricAggregation.Proportion => MetricKind.Proportion,
            _ => MetricKind.Mean,
        };
        return new MetricInput(metric.Name, kind, byVariant, cuped);
    }

    private static double? Number(IReadOnlyDictionary<string, object?>? row, string column) =>
        row is not null && row.TryGetValue(column, out var value) && value is not null
            ? Convert.ToDouble(value, CultureInfo.InvariantCulture)
            : null;
}
