using MetricCompiler.Core.Model;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

public enum Decision
{
    Ship,
    NoShip,
    Inconclusive,

    /// <summary>The experiment itself is broken (sample ratio mismatch, units in undeclared variants): no verdict on the treatment.</summary>
    Invalid,
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
    public bool IsSignificantlyBetter => Comparison.Significant && Effect is { } lift && (DesiredDirection == Direction.Increase ? lift > 0 : lift < 0);

    public bool IsSignificantlyWorse => Comparison.Significant && Effect is { } lift && (DesiredDirection == Direction.Increase ? lift < 0 : lift > 0);

    /// <summary>
    /// The estimate whose sign the verdict reads: the posterior mean under the Bayesian method (an informative prior
    /// can pull it to the other side of zero from the observed lift), the observed absolute lift otherwise.
    /// </summary>
    private double? Effect => Comparison.PosteriorMean ?? Comparison.AbsoluteLift;

    /// <summary>The cap the metric's per-unit values were capped at (<c>cap:</c>), null when uncapped.</summary>
    public AppliedCap? Cap { get; init; }
}

/// <summary>
/// The caps a capped metric used, from its statistics rows: the rule (<c>p99</c> or a fixed value) and the cap on the
/// value (a ratio's numerator), on a ratio's denominator and on the CUPED covariate (null where not applicable, or
/// when no unit had a value to take a percentile of).
/// </summary>
public sealed record AppliedCap(string Rule, double? Value, double? Denominator, double? Covariate)
{
    public string Describe()
    {
        static string N(double? v) => v?.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) ?? "none";
        var parts = new List<string> { Denominator is null ? $"{Rule} = {N(Value)}" : $"{Rule}: numerator {N(Value)}, denominator {N(Denominator)}" };
        if (Covariate is not null)
            parts.Add($"covariate {N(Covariate)}");
        return string.Join(", ", parts);
    }
}

/// <summary>The verdict for one treatment variant, with the reasons a reviewer can check.</summary>
public sealed record VariantVerdict(string Variant, Decision Decision, IReadOnlyList<string> Reasons);

/// <summary>
/// Pre-exposure balance of a CUPED covariate: the same metric before exposure should not differ between variants.
/// A difference beyond the balance threshold flags biased assignment (or a leak of the treatment into the past).
/// </summary>
public sealed record BalanceCheck(string Metric, string Variant, double? ControlMean, double? VariantMean, double? PValue, bool Imbalanced);

/// <summary>One metric compared in one segment of a dimension (corrected across the dimension's segments).</summary>
public sealed record SegmentReadout(string Dimension, string Segment, string Metric, Comparison Comparison);

/// <summary>How far the primary metric is from its declared minimum detectable effect.</summary>
public sealed record PowerProjection(
    string Metric,
    double MinimumDetectableEffect,
    long RequiredPerVariant,
    long ObservedPerVariant,
    double? ReachableMde,
    double? AdditionalDays);

/// <summary>Everything the readout says about one experiment.</summary>
public sealed record ExperimentReadout(
    string ExperimentId,
    string? Name,
    string? Hypothesis,
    string Control,
    AnalysisSettings Settings,
    DecisionRules Rules,
    DateOnly Start,
    DateOnly End,
    SrmReadout Srm,
    IReadOnlyList<MetricReadout> Metrics,
    IReadOnlyList<BalanceCheck> Balance,
    IReadOnlyList<SegmentReadout> Segments,
    IReadOnlyList<PowerProjection> Power,
    IReadOnlyList<VariantVerdict> Verdicts,
    Decision Decision,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> Warnings,
    AssignmentAuditReadout? Assignment = null,
    HoldoutReadout? Holdout = null)
{
    /// <summary>
    /// What the staging of each source this experiment reads dropped and made null in this run (empty when the run
    /// did not stage them, e.g. `metricc run --select exp_x__readout` alone).
    /// </summary>
    public IReadOnlyList<StagingQuality> Staging { get; init; } = [];
}

/// <summary>
/// One staging node's data-quality counts, as in <c>run_results.json</c>: raw rows it dropped and values it made null,
/// each by reason (reasons with a zero count left out).
/// </summary>
public sealed record StagingQuality(string Node, IReadOnlyDictionary<string, long> Dropped, IReadOnlyDictionary<string, long> Nulled)
{
    /// <summary>"5,497 duplicates, 12 missing entity" (the audit's order, zero counts left out), or "none".</summary>
    public static string Describe(IReadOnlyDictionary<string, long> counts)
    {
        var shown = counts.Where(c => c.Value > 0).ToList();
        return shown.Count == 0
            ? "none"
            : string.Join(", ", shown.Select(c => $"{c.Value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} {c.Key.Replace('_', ' ')}"));
    }
}

/// <summary>What a holdout's readout compares: the held-out share of a namespace against everyone else.</summary>
public sealed record HoldoutReadout(string Namespace, double Start, double End)
{
    public string Describe() =>
        $"`{Core.Model.HoldoutVariants.Holdout}` is [{Start.ToString(System.Globalization.CultureInfo.InvariantCulture)}, {End.ToString(System.Globalization.CultureInfo.InvariantCulture)}) " +
        $"of namespace `{Namespace}`, held back from everything shipped in it; `{Core.Model.HoldoutVariants.Released}` is everyone else, " +
        "so each lift is the long-term effect of what shipped";
}
