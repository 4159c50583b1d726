using MetricCompiler.Core.Model;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

public enum Decision
{
    Ship,
    NoShip,
    Inconclusive,
}

/// <summary>Units per variant against the declared weights, and units left out of the analysis.</summary>
public sealed record SrmReadout(
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyDictionary<string, double> Weights,
    SrmResult? Result,
    double Threshold,
    long MultipleVariantUnits,
    long UndeclaredVariantUnits);

/// <summary>One metric compared between one variant and control.</summary>
public sealed record MetricReadout(
    string Metric,
    string Label,
    MetricRole Role,
    Direction DesiredDirection,
    bool Cuped,
    Comparison Comparison,
    GuardrailResult? Guardrail)
{
    /// <summary>Significant and in the desired direction.</summary>
    public bool IsSignificantlyBetter =>
        Comparison.Significant && Comparison.AbsoluteLift is { } lift && (DesiredDirection == Direction.Increase ? lift > 0 : lift < 0);

    public bool IsSignificantlyWorse =>
        Comparison.Significant && Comparison.AbsoluteLift is { } lift && (DesiredDirection == Direction.Increase ? lift < 0 : lift > 0);
}

/// <summary>The verdict for one treatment variant, with the reasons a reviewer can check.</summary>
public sealed record VariantVerdict(string Variant, Decision Decision, IReadOnlyList<string> Reasons);

/// <summary>Everything the readout says about one experiment.</summary>
public sealed record ExperimentReadout(
    string ExperimentId,
    string? Name,
    string? Hypothesis,
    string Control,
    AnalysisSettings Settings,
    DateOnly Start,
    DateOnly End,
    SrmReadout Srm,
    IReadOnlyList<MetricReadout> Metrics,
    IReadOnlyList<VariantVerdict> Verdicts,
    Decision Decision,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> Warnings);
