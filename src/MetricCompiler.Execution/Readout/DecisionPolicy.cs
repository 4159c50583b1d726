using MetricCompiler.Core.Model;

namespace MetricCompiler.Execution.Readout;

/// <summary>
/// The default decision rule. A variant ships when every primary metric is significantly better, no guardrail is
/// breached and the sample ratio is clean. It does not ship (roll back) when a guardrail is breached or a primary
/// metric is significantly worse. Anything else is inconclusive. The experiment ships the best shipping variant.
/// </summary>
public static class DecisionPolicy
{
    public static VariantVerdict Decide(string variant, IReadOnlyList<MetricReadout> metrics, SrmReadout srm)
    {
        var reasons = new List<string>();
        var mine = metrics.Where(m => m.Comparison.Variant == variant).ToList();
        var primaries = mine.Where(m => m.Role == MetricRole.Primary).ToList();
        var breached = mine.Where(m => m.Guardrail?.Status == "breached").ToList();
        var worse = primaries.Where(m => m.IsSignificantlyWorse).ToList();

        foreach (var guardrail in breached)
            reasons.Add($"guardrail `{guardrail.Metric}` breached: {Percent(guardrail.Comparison.RelativeLift)} moves the harmful way beyond its margin");
        foreach (var metric in worse)
            reasons.Add($"primary metric `{metric.Metric}` is significantly worse ({Percent(metric.Comparison.RelativeLift)}, adjusted p = {P(metric.Comparison.AdjustedPValue)})");
        if (breached.Count > 0 || worse.Count > 0)
            return new VariantVerdict(variant, Decision.NoShip, reasons);

        if (srm.Result is { Mismatch: true } result)
        {
            reasons.Add($"sample ratio mismatch (p = {P(result.PValue)} < {srm.Threshold}): assignment is biased, results cannot be trusted");
            return new VariantVerdict(variant, Decision.Inconclusive, reasons);
        }

        var notBetter = primaries.Where(m => !m.IsSignificantlyBetter).ToList();
        if (primaries.Count > 0 && notBetter.Count == 0)
        {
            foreach (var metric in primaries)
                reasons.Add($"primary metric `{metric.Metric}` significantly better: {Percent(metric.Comparison.RelativeLift)} (adjusted p = {P(metric.Comparison.AdjustedPValue)})");
            reasons.Add("no guardrail breached; sample ratio clean");
            var unproven = mine.Where(m => m.Guardrail?.Status == "not_proven").Select(m => $"`{m.Metric}`").ToList();
            if (unproven.Count > 0)
                reasons.Add($"note: non-inferiority not yet shown for guardrail {string.Join(", ", unproven)}");
            return new VariantVerdict(variant, Decision.Ship, reasons);
        }

        foreach (var metric in notBetter)
            reasons.Add($"primary metric `{metric.Metric}` not significantly better ({Percent(metric.Comparison.RelativeLift)}, adjusted p = {P(metric.Comparison.AdjustedPValue)})");
        return new VariantVerdict(variant, Decision.Inconclusive, reasons);
    }

    public static (Decision Decision, IReadOnlyList<string> Reasons) Combine(IReadOnlyList<VariantVerdict> verdicts)
    {
        var shipping = verdicts.Where(v => v.Decision == Decision.Ship).ToList();
        if (shipping.Count > 0)
            return (Decision.Ship, [$"ship `{shipping[0].Variant}`", .. shipping[0].Reasons]);
        if (verdicts.Count > 0 && verdicts.All(v => v.Decision == Decision.NoShip))
            return (Decision.NoShip, verdicts.SelectMany(v => v.Reasons.Select(r => verdicts.Count > 1 ? $"{v.Variant}: {r}" : r)).ToList());
        return (Decision.Inconclusive, verdicts.SelectMany(v => v.Reasons.Select(r => verdicts.Count > 1 ? $"{v.Variant}: {r}" : r)).ToList());
    }

    public static string Name(Decision decision) => decision switch
    {
        Decision.Ship => "ship",
        Decision.NoShip => "no_ship",
        _ => "inconclusive",
    };

    internal static string Percent(double? value) =>
        value is { } v ? (v >= 0 ? "+" : "") + (v * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "%" : "n/a";

    internal static string P(double? value) =>
        value is { } v ? (v < 0.0001 ? "<0.0001" : v.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)) : "n/a";
}
