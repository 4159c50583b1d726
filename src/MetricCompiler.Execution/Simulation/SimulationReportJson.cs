using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// The report as one stable JSON object (snake_case keys, always the same keys, figures rounded to 6 decimals):
/// the same seed gives byte-identical output.
/// </summary>
public static class SimulationReportJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Serialize(SimulationReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var document = new JsonObject
        {
            ["experiment"] = r.Experiment,
            ["runs"] = r.Runs,
            ["seed"] = r.Seed,
            ["alpha"] = r.Alpha,
            ["correction"] = r.Correction,
            ["method"] = r.Method,
            ["lift"] = r.Lift,
            ["lifted_metrics"] = new JsonArray(r.LiftedMetrics.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
            ["units"] = r.Units,
            ["control_share"] = Round(r.ControlShare),
            ["metrics"] = new JsonArray(r.Metrics.Select(m => (JsonNode)new JsonObject
            {
                ["metric"] = m.Metric,
                ["role"] = m.Role.ToString().ToLowerInvariant(),
                ["kind"] = m.Kind.ToString().ToLowerInvariant(),
                ["cuped"] = m.Cuped,
                ["lifted"] = m.Lifted,
                ["runs"] = m.Runs,
                ["untestable_runs"] = m.UntestableRuns,
                ["false_positive_rate"] = Round(m.FalsePositiveRate),
                ["power"] = Round(m.Power),
                ["standard_error"] = Round(m.StandardError),
                ["within_3_se"] = m.Within3Se,
                ["readout_significant_rate"] = Round(m.ReadoutSignificantRate),
                ["ci_coverage"] = Round(m.CiCoverage),
                ["coverage_standard_error"] = Round(m.CoverageStandardError),
                ["coverage_within_3_se"] = m.CoverageWithin3Se,
            }).ToArray()),
            ["family"] = r.Family is not { } f ? null : new JsonObject
            {
                ["metrics"] = new JsonArray(f.Metrics.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
                ["correction"] = f.Correction,
                ["error_rate"] = Round(f.ErrorRate),
                ["standard_error"] = Round(f.StandardError),
                ["at_most_alpha"] = f.AtMostAlpha,
            },
            ["guardrail_monitoring"] = r.Monitoring is not { } g ? null : new JsonObject
            {
                ["looks"] = g.Looks,
                ["readout_test"] = g.ReadoutMethod,
                ["guardrails"] = new JsonArray(g.Guardrails.Select(a => (JsonNode)new JsonObject
                {
                    ["metric"] = a.Metric,
                    ["harmful_direction"] = a.HarmfulDirection,
                    ["margin"] = a.Margin,
                    ["runs"] = a.Runs,
                    ["fixed_horizon_harm_rate"] = Round(a.FixedHorizonHarmRate),
                    ["always_valid_harm_rate"] = Round(a.AlwaysValidHarmRate),
                    ["fixed_horizon_breach_rate"] = Round(a.FixedHorizonBreachRate),
                    ["always_valid_breach_rate"] = Round(a.AlwaysValidBreachRate),
                    ["standard_error"] = Round(a.StandardError),
                    ["always_valid_at_most_alpha"] = a.AlwaysValidAtMostAlpha,
                }).ToArray()),
            },
            ["warnings"] = new JsonArray(r.Warnings.Select(w => (JsonNode)JsonValue.Create(w)).ToArray()),
        };
        return document.ToJsonString(Indented);
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;
}
