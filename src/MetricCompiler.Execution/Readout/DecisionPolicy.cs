using System.Globalization;
using MetricCompiler.Core.Model;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Readout;

/// <summary>
/// Decides per treatment variant under the experiment's <see cref="DecisionRules"/>. First the experiment must be valid:
/// with <c>require_srm_clean</c> (the default) a sample ratio mismatch or units exposed to a variant the YAML does not
/// declare make it <see cref="Decision.Invalid"/>, whatever the metrics say: a broken assignment gives no reason to ship
/// and none to roll back. Otherwise, by default a variant ships when
/// every primary metric is significantly better, no guardrail is breached and the sample ratio is clean; it does not
/// ship (roll back) when a guardrail is breached or a primary metric is significantly worse; anything else is
/// inconclusive. The experiment ships the first variant that ships.
/// </summary>
public static class DecisionPolicy
{
    public static VariantVerdict Decide(string variant, IReadOnlyList<MetricReadout> metrics, SrmReadout srm, DecisionRules? rules = null)
    {
        rules ??= DecisionRules.Default;
        var reasons = new List<string>();
        var mine = metrics.Where(m => m.Comparison.Variant == variant).ToList();
        var primaries = mine.Where(m => m.Role == MetricRole.Primary).ToList();
        var guarded = mine.Where(m => m.Guardrail is not null).ToList();
        var breached = guarded.Where(m => m.Guardrail!.Status == GuardrailStatus.Breached).ToList();
        var worse = primaries.Where(m => m.IsSignificantlyWorse).ToList();

        var invalid = Invalidity(srm);
        if (invalid.Count > 0 && rules.RequireCleanSrm)
        {
            reasons.Add("do not trust these results: neither ship nor roll back on them; fix the assignment and rerun");
            reasons.AddRange(invalid);
            return new VariantVerdict(variant, Decision.Invalid, reasons);
        }

        foreach (var warning in invalid)
            reasons.Add($"warning: {warning} (ignored: require_srm_clean is false)");

        foreach (var guardrail in breached)
            reasons.Add($"guardrail `{guardrail.Metric}` breached: {Percent(guardrail.Comparison.RelativeLift)} moves the harmful way beyond its margin");
        foreach (var metric in worse)
            reasons.Add($"primary metric `{metric.Metric}` is significantly worse ({Percent(metric.Comparison.RelativeLift)}, {Evidence(metric)})");
        if (breached.Count > 0 || worse.Count > 0)
            return new VariantVerdict(variant, Decision.NoShip, reasons);

        var better = primaries.Where(m => m.IsSignificantlyBetter).ToList();
        var notBetter = primaries.Except(better).ToList();
        var primaryOk = primaries.Count > 0 && (rules.Primary == PrimaryRule.All ? notBetter.Count == 0 : better.Count > 0);
        var unproven = guarded.Where(m => m.Guardrail!.Status != GuardrailStatus.Passed).ToList();
        var guardrailsOk = rules.Guardrails == GuardrailRule.NoBreach || unproven.Count == 0;

        if (primaryOk && guardrailsOk)
        {
            foreach (var metric in better)
                reasons.Add($"primary metric `{metric.Metric}` significantly better: {Percent(metric.Comparison.RelativeLift)} ({Evidence(metric)})");
            reasons.Add(srm.Result is { Mismatch: true } ? "no guardrail breached" : "no guardrail breached; sample ratio clean");
            if (unproven.Count > 0)
                reasons.Add($"note: non-inferiority not yet shown for guardrail {string.Join(", ", unproven.Select(m => $"`{m.Metric}`"))}");
            return new VariantVerdict(variant, Decision.Ship, reasons);
        }

        foreach (var metric in notBetter)
            reasons.Add($"primary metric `{metric.Metric}` not significantly better ({Percent(metric.Comparison.RelativeLift)}, {Evidence(metric)})");
        if (!guardrailsOk)
            reasons.Add($"non-inferiority not shown for guardrail {string.Join(", ", unproven.Select(m => $"`{m.Metric}`"))} (rule: guardrails must be non-inferior)");
        return new VariantVerdict(variant, Decision.Inconclusive, reasons);
    }

    /// <summary>Why the experiment cannot be trusted at all: sample ratio mismatch, units in undeclared variants.</summary>
    private static List<string> Invalidity(SrmReadout srm)
    {
        var problems = new List<string>();
        if (srm.Result is { Mismatch: true } result)
            problems.Add($"sample ratio mismatch (SRM, p = {P(result.PValue)} < {srm.Threshold.ToString(CultureInfo.InvariantCulture)}): assignment is biased, results cannot be trusted");
        if (srm.UndeclaredVariantUnits > 0)
            problems.Add($"data quality: {srm.UndeclaredVariantUnits.ToString("N0", CultureInfo.InvariantCulture)} exposed unit(s) carry a variant the YAML does not declare");
        return problems;
    }

    public static (Decision Decision, IReadOnlyList<string> Reasons) Combine(IReadOnlyList<VariantVerdict> verdicts)
    {
        // Validity is a property of the experiment, so every variant shares it; it is stated once.
        if (verdicts.FirstOrDefault(v => v.Decision == Decision.Invalid) is { } invalid)
            return (Decision.Invalid, ["INVALID experiment", .. invalid.Reasons]);
        var shipping = verdicts.Where(v => v.Decision == Decision.Ship).ToList();
        if (shipping.Count > 0)
            return (Decision.Ship, [$"ship `{shipping[0].Variant}`", .. shipping[0].Reasons]);
        var reasons = verdicts.SelectMany(v => v.Reasons.Select(r => verdicts.Count > 1 ? $"{v.Variant}: {r}" : r)).ToList();
        if (verdicts.Count > 0 && verdicts.All(v => v.Decision == Decision.NoShip))
            return (Decision.NoShip, [$"roll back {string.Join(" and ", verdicts.Select(v => $"`{v.Variant}`"))}", .. reasons]);
        return (Decision.Inconclusive, reasons);
    }

    public static string Name(Decision decision) => decision switch
    {
        Decision.Ship => "ship",
        Decision.NoShip => "no_ship",
        Decision.Invalid => "invalid",
        _ => "inconclusive",
    };

    /// <summary>The evidence behind a verdict: adjusted p for frequentist methods, chance to win for Bayesian.</summary>
    private static string Evidence(MetricReadout metric) =>
        metric.Comparison.ChanceToWin is { } chance && metric.Comparison.AdjustedPValue is null
            ? $"chance to win {Percent(chance, signed: false)}"
            : $"adjusted p = {P(metric.Comparison.AdjustedPValue)}";

    internal static string Percent(double? value, bool signed = true) =>
        value is { } v && double.IsFinite(v)
            ? (signed && v >= 0 ? "+" : "") + (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%"
            : "n/a";

    internal static string P(double? value) =>
        value is { } v && double.IsFinite(v) ? (v < 0.0001 ? "<0.0001" : v.ToString("0.0000", CultureInfo.InvariantCulture)) : "n/a";
}
