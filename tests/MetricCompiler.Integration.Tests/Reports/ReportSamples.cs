using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>
/// A readout built from fixed records (no warehouse, no engine): two treatment variants, a primary, a secondary and a
/// guardrail metric, one of each verdict, a breached guardrail, excluded units and a power projection.
/// </summary>
public static class ReportSamples
{
    public const string Hostile = "Users <script>alert('x')</script> & friends | pipes";

    public static ExperimentDefinition Definition(string? owner = "checkout-team (DRI kim.ng)", string? name = "Checkout redesign", string? hypothesis = null)
    {
        var at = SourceLocation.None;
        return new ExperimentDefinition(
            "checkout_redesign",
            name,
            hypothesis ?? "A one-page checkout lifts conversion by 5% without slowing the page.",
            owner,
            new ExposureDefinition(new NameReference("exposures", at), "variant", null, at),
            [
                new VariantDefinition("control", 1, true, "Three-page checkout", at),
                new VariantDefinition("one_page", 1, false, "One-page checkout", at),
                new VariantDefinition("express", 1, false, "Express pay button", at),
            ],
            new DateOnly(2026, 2, 2),
            new DateOnly(2026, 2, 15),
            [new NameReference("conversion", at)],
            [new NameReference("revenue_per_user", at)],
            [new GuardrailDefinition(new NameReference("latency", at), Direction.Increase, 0.05, at)],
            Settings,
            DecisionRules.Default,
            [],
            at,
            new Dictionary<string, SourceLocation>());
    }

    public static AnalysisSettings Settings { get; } = new(0.05, MultipleTestingCorrection.Holm, AnalysisMethod.Frequentist, new CupedSettings(true, 14), 0.001, 0.05, 0.8, 5000, null, 0.001, []);

    public static ExperimentReadout Readout(string? name = "Checkout redesign", string? hypothesis = null, string conversionLabel = "Checkout conversion")
    {
        var metrics = new List<MetricReadout>
        {
            Metric("conversion", conversionLabel, MetricRole.Primary, Direction.Increase, "one_page", 0.25, 0.2655, 0.062, 0.021, 0.103, 0.003, 0.006, true, cuped: true),
            Metric("conversion", conversionLabel, MetricRole.Primary, Direction.Increase, "express", 0.25, 0.2475, -0.01, -0.05, 0.03, 0.62, 0.62, false, cuped: true),
            Metric("revenue_per_user", "Revenue per user", MetricRole.Secondary, Direction.Increase, "one_page", 12.40, 12.586, 0.015, -0.02, 0.05, 0.41, 0.82, false),
            Metric("revenue_per_user", "Revenue per user", MetricRole.Secondary, Direction.Increase, "express", 12.40, 11.5196, -0.071, -0.12, -0.022, 0.004, 0.012, true),
            Metric("latency", "Page load time (ms)", MetricRole.Guardrail, Direction.Decrease, "one_page", 812.5, 822.25, 0.012, -0.01, 0.034, 0.28, null, false,
                new GuardrailResult("latency", "one_page", 0.012, 0.030, 0.0002, GuardrailStatus.Passed)),
            Metric("latency", "Page load time (ms)", MetricRole.Guardrail, Direction.Decrease, "express", 812.5, 888.875, 0.094, 0.06, 0.128, 0.00001, null, true,
                new GuardrailResult("latency", "express", 0.094, 0.122, 0.9999, GuardrailStatus.Breached)),
        };
        var srm = new SrmReadout(
            new Dictionary<string, long> { ["control"] = 10_012, ["one_page"] = 9_987, ["express"] = 10_003 },
            new Dictionary<string, double> { ["control"] = 1, ["one_page"] = 1, ["express"] = 1 },
            new SrmResult(0.0312, 0.985, false, 2),
            0.001,
            37,
            4);
        VariantVerdict[] verdicts =
        [
            new("one_page", Decision.Ship, ["primary metric `conversion` significantly better: +6.20% (adjusted p = 0.0060)", "no guardrail breached; sample ratio clean"]),
            new("express", Decision.NoShip, ["guardrail `latency` breached: +9.40% moves the harmful way beyond its margin"]),
        ];
        return new ExperimentReadout(
            "checkout_redesign",
            name,
            hypothesis ?? "A one-page checkout lifts conversion by 5% without slowing the page.",
            "control",
            Settings,
            DecisionRules.Default,
            new DateOnly(2026, 2, 2),
            new DateOnly(2026, 2, 15),
            srm,
            metrics,
            [new BalanceCheck("conversion", "one_page", 0.24, 0.241, 0.71, false), new BalanceCheck("conversion", "express", 0.24, 0.239, 0.66, false)],
            [],
            [new PowerProjection("conversion", 0.05, 31_000, 9_987, 0.064, 30.3)],
            verdicts,
            Decision.Ship,
            ["ship `one_page`", .. verdicts[0].Reasons],
            ["37 unit(s) saw more than one variant and were excluded from the analysis", "4 unit(s) were exposed to a variant not declared in the YAML and were excluded"]);
    }

    private static MetricReadout Metric(string metric, string label, MetricRole role, Direction direction, string variant, double controlMean, double variantMean,
        double lift, double low, double high, double p, double? adjusted, bool significant, GuardrailResult? guardrail = null, bool cuped = false)
    {
        var comparison = new Comparison(metric, variant, controlMean, variantMean, variantMean - controlMean, lift, 0.01, p, adjusted,
            low * controlMean, high * controlMean, low, high, significant, 10_000, 10_000);
        return new MetricReadout(metric, label, role, direction, cuped, comparison, guardrail);
    }
}
