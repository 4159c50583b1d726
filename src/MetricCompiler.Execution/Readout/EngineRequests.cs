using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

/// <summary>
/// How an experiment's YAML settings become statistics-engine requests. The readout and the A/A simulation both ask
/// the engine through here, so a simulated analysis is the readout's analysis.
/// </summary>
public static class EngineRequests
{
    public static InferenceMethod Method(AnalysisSettings settings) => settings.Method switch
    {
        AnalysisMethod.Sequential => InferenceMethod.Sequential,
        AnalysisMethod.Bayesian => InferenceMethod.Bayesian,
        _ => InferenceMethod.Frequentist,
    };

    public static Correction Correction(MultipleTestingCorrection correction) => correction switch
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

    /// <summary>
    /// The alpha a primary metric must clear for planning purposes. With a correction, the family is every primary and
    /// secondary metric against every treatment variant, and the Bonferroni bound alpha / m is used: the bar Holm sets
    /// for its first rejection, and never looser than Benjamini-Hochberg's. Conservative on purpose: power planned
    /// at the uncorrected alpha is lost to the correction at readout.
    /// </summary>
    public static double PlanningAlpha(BoundExperiment experiment)
    {
        var settings = experiment.Analysis;
        if (settings.Correction == MultipleTestingCorrection.None || settings.Method == AnalysisMethod.Bayesian)
            return settings.Alpha;
        var family = experiment.Metrics.Count(m => m.Role != MetricRole.Guardrail) * Math.Max(1, experiment.Variants.Count - 1);
        return settings.Alpha / Math.Max(1, family);
    }

    /// <summary>A request with the experiment's alpha, method, sequential tuning and prior, and the given correction.</summary>
    public static AnalysisRequest Request(BoundExperiment experiment, string control, IReadOnlyList<MetricInput> metrics, Correction correction)
    {
        var settings = experiment.Analysis;
        var prior = settings.Prior is { } p ? new BayesianPrior(p.Mean, p.Variance) : null;
        return new AnalysisRequest(control, metrics, settings.Alpha, correction, Method(settings), null, settings.SequentialTuning, prior,
            settings.Scale == TestScale.Absolute ? Scale.Absolute : Scale.Relative);
    }

    /// <summary>
    /// The readout's two analyses: primary and secondary metrics as one family under the experiment's correction, and
    /// guardrails on their own without correction (null when there are none).
    /// </summary>
    public static (AnalysisRequest Goal, AnalysisRequest? Guardrails) GoalAndGuardrails(
        BoundExperiment experiment, string control, IReadOnlyList<MetricInput> goal, IReadOnlyList<MetricInput> guardrails) =>
        (Request(experiment, control, goal, Correction(experiment.Analysis.Correction)),
         guardrails.Count == 0 ? null : Request(experiment, control, guardrails, Statistics.Correction.None));
}
