using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricCompiler.Statistics;

/// <summary>A guardrail named in a `metricc stats` request: which metric, which way is harm, and the tolerated margin.</summary>
public sealed record GuardrailSpec(string Metric, HarmDirection Harm, double Margin);

/// <summary>
/// `metricc stats` end to end: the request of <see cref="StatsJson"/> plus an optional <c>guardrails</c> array. As in a
/// readout, guardrail metrics are kept out of the multiple-testing family of the other metrics and checked one-sided
/// for non-inferiority on the relative change (<see cref="Guardrails.Evaluate(MetricInput, string, string, HarmDirection, double, double, InferenceMethod, double)"/>;
/// always-valid one-sided bounds when the request's method is sequential); the output gains a <c>guardrails</c> array.
/// </summary>
public static class StatsContract
{
    public static string Execute(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new StatsInputException($"not valid JSON: {e.Message}");
        }

        var specs = new List<GuardrailSpec>();
        if (root is JsonObject obj && obj["guardrails"] is { } guardrailsNode)
        {
            specs = ParseGuardrails(guardrailsNode);
            obj.Remove("guardrails");
        }

        var request = StatsJson.ParseRequest(root?.ToJsonString() ?? json);
        var names = request.Metrics.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            if (!names.Contains(specs[i].Metric))
                throw new StatsInputException($"guardrails[{i}].metric", $"no metric named '{specs[i].Metric}' in metrics");
        }

        if (specs.Count == 0)
            return StatsJson.WriteResult(ExperimentAnalyzer.Analyze(request));

        var guarded = specs.Select(s => s.Metric).ToHashSet(StringComparer.Ordinal);
        var goal = ExperimentAnalyzer.Analyze(request with { Metrics = request.Metrics.Where(m => !guarded.Contains(m.Name)).ToList() });
        var guard = ExperimentAnalyzer.Analyze(request with { Metrics = request.Metrics.Where(m => guarded.Contains(m.Name)).ToList(), Correction = Correction.None, Srm = null });
        var combined = new AnalysisResult(goal.Srm,
            request.Metrics.SelectMany(m => goal.Comparisons.Concat(guard.Comparisons).Where(c => c.Metric == m.Name)).ToList(),
            [.. goal.Warnings, .. guard.Warnings]);

        var output = JsonNode.Parse(StatsJson.WriteResult(combined))!.AsObject();
        var results = new JsonArray();
        foreach (var spec in specs)
        {
            var metric = request.Metrics.First(m => m.Name == spec.Metric);
            foreach (var variant in metric.Variants.Keys.Where(v => v != request.Control))
            {
                var result = Guardrails.Evaluate(metric, request.Control, variant, spec.Harm, spec.Margin, request.Alpha, request.Method, request.SequentialTuning);
                results.Add(new JsonObject
                {
                    ["metric"] = result.Metric,
                    ["variant"] = result.Variant,
                    ["harmful_direction"] = spec.Harm == HarmDirection.Increase ? "increase" : "decrease",
                    ["margin"] = spec.Margin,
                    ["status"] = result.Status,
                    ["relative_lift"] = Finite(result.RelativeLift),
                    ["harm_bound"] = Finite(result.HarmBound),
                    ["harm_p_value"] = Finite(result.HarmPValue),
                    ["non_inferiority_p_value"] = Finite(result.NonInferiorityPValue),
                    ["always_valid"] = result.AlwaysValid,
                });
            }
        }

        output["guardrails"] = results;
        return output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static List<GuardrailSpec> ParseGuardrails(JsonNode node)
    {
        if (node is not JsonArray array)
            throw new StatsInputException("guardrails", "expected an array");
        var specs = new List<GuardrailSpec>();
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"guardrails[{i}]";
            if (array[i] is not JsonObject item)
                throw new StatsInputException(path, "expected an object with metric, harmful_direction and margin");
            foreach (var key in item.Select(p => p.Key))
            {
                if (key is not ("metric" or "harmful_direction" or "margin"))
                    throw new StatsInputException($"{path}.{key}", "unknown field (expected metric, harmful_direction, margin)");
            }

            var metric = item["metric"] is JsonValue m && m.TryGetValue<string>(out var name) && name.Length > 0
                ? name
                : throw new StatsInputException($"{path}.metric", "expected a metric name");
            var harm = item["harmful_direction"] is JsonValue h && h.TryGetValue<string>(out var direction)
                ? direction switch
                {
                    "increase" => HarmDirection.Increase,
                    "decrease" => HarmDirection.Decrease,
                    _ => throw new StatsInputException($"{path}.harmful_direction", "expected increase or decrease"),
                }
                : throw new StatsInputException($"{path}.harmful_direction", "expected increase or decrease");
            // Guardrails.Evaluate needs a positive margin; a missing or zero one used to pass here and then throw
            // ArgumentOutOfRangeException (an unhandled error in `metricc stats`).
            var margin = item["margin"] is JsonValue v && v.TryGetValue<double>(out var number) && number > 0 && double.IsFinite(number)
                ? number
                : throw new StatsInputException($"{path}.margin", "expected a positive number (a relative change: 0.05 = 5%)");
            specs.Add(new GuardrailSpec(metric, harm, margin));
        }

        return specs;
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
