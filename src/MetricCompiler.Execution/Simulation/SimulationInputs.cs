using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>One row of an <c>exp_&lt;id&gt;__statistics</c> table (one metric, one arm); a SQL null sum is null.</summary>
public sealed record StatisticsRow(
    long N,
    double? ValueSum,
    double? ValueSumSquares,
    double? DenominatorSum = null,
    double? DenominatorSumSquares = null,
    double? CovariateSum = null,
    double? CovariateSumSquares = null,
    double? CrossSum = null)
{
    /// <summary>The row as the warehouse returns it (the statistics table's column names), for <see cref="ReadoutBuilder.ToInput"/>.</summary>
    public IReadOnlyDictionary<string, object?> ToRow(string metric, string variant) => new Dictionary<string, object?>(10, StringComparer.OrdinalIgnoreCase)
    {
        ["metric"] = metric,
        ["variant"] = variant,
        ["n"] = N,
        ["value_sum"] = ValueSum,
        ["value_sum_squares"] = ValueSumSquares,
        ["denominator_sum"] = DenominatorSum,
        ["denominator_sum_squares"] = DenominatorSumSquares,
        ["covariate_sum"] = CovariateSum,
        ["covariate_sum_squares"] = CovariateSumSquares,
        ["cross_sum"] = CrossSum,
    };
}

/// <summary>
/// How a split's statistics become engine input and which analyses the readout asks for. The input mapping is the
/// readout's own (<see cref="ReadoutBuilder.ToInput"/>); the requests mirror <see cref="ReadoutBuilder"/>'s (any change
/// to how the readout builds its requests belongs here too).
/// </summary>
public static class SimulationInputs
{
    public static MetricKind Kind(MetricDefinition metric) => metric.Aggregation switch
    {
        MetricAggregation.Ratio => MetricKind.Ratio,
        MetricAggregation.Proportion => MetricKind.Proportion,
        _ => MetricKind.Mean,
    };

    public static InferenceMethod Method(AnalysisSettings settings) => settings.Method switch
    {
        AnalysisMethod.Sequential => InferenceMethod.Sequential,
        AnalysisMethod.Bayesian => InferenceMethod.Bayesian,
        _ => InferenceMethod.Frequentist,
    };

    public static Correction Correction(AnalysisSettings settings) => settings.Correction switch
    {
        MultipleTestingCorrection.Holm => Statistics.Correction.Holm,
        MultipleTestingCorrection.BenjaminiHochberg => Statistics.Correction.BenjaminiHochberg,
        _ => Statistics.Correction.None,
    };

    /// <summary>The correction's name as the YAML spells it.</summary>
    public static string CorrectionName(MultipleTestingCorrection correction) => correction switch
    {
        MultipleTestingCorrection.BenjaminiHochberg => "bh",
        _ => correction.ToString().ToLowerInvariant(),
    };

    /// <summary>The engine input of one metric from its statistics rows, in arm order, exactly as the readout builds it.</summary>
    public static MetricInput Input(MetricDefinition metric, ExperimentDefinition experiment, IReadOnlyList<(string Arm, StatisticsRow Row)> arms) =>
        ReadoutBuilder.ToInput(metric, experiment, arms.Select(a => a.Arm).ToList(), arms.Select(a => a.Row.ToRow(metric.Name, a.Arm)));

    /// <summary>
    /// The readout's two analyses: primary and secondary metrics as one family under the experiment's correction, and
    /// guardrails on their own without correction (null when there are none); alpha, method, sequential tuning and prior
    /// are the experiment's.
    /// </summary>
    public static (AnalysisRequest Goal, AnalysisRequest? Guardrails) Requests(
        ExperimentDefinition experiment, string control, IReadOnlyList<MetricInput> goal, IReadOnlyList<MetricInput> guardrails)
    {
        var settings = experiment.Analysis;
        var method = Method(settings);
        var prior = settings.Prior is { } p ? new BayesianPrior(p.Mean, p.Variance) : null;
        AnalysisRequest Request(IReadOnlyList<MetricInput> metrics, Correction correction) =>
            new(control, metrics, settings.Alpha, correction, method, null, settings.SequentialTuning, prior);
        return (Request(goal, Correction(settings)), guardrails.Count == 0 ? null : Request(guardrails, Statistics.Correction.None));
    }
}
