using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Execution.Artifacts;

/// <summary>The readout of one experiment as JSON (<c>target/results/&lt;experiment&gt;.json</c>).</summary>
public static class ReadoutJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Serialize(ExperimentReadout r, DateTime analysedAt)
    {
        var document = new JsonObject
        {
            ["experiment_id"] = r.ExperimentId,
            ["name"] = r.Name,
            ["hypothesis"] = r.Hypothesis,
            ["window"] = new JsonObject
            {
                ["start"] = r.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["end"] = r.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            },
            ["analysed_at"] = analysedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["control"] = r.Control,
            ["settings"] = new JsonObject
            {
                ["alpha"] = r.Settings.Alpha,
                ["correction"] = EngineRequests.CorrectionName(r.Settings.Correction),
                ["method"] = r.Settings.Method.ToString().ToLowerInvariant(),
                ["cuped"] = r.Settings.Cuped.Enabled,
                ["cuped_lookback_days"] = r.Settings.Cuped.LookbackDays,
                ["srm_threshold"] = r.Settings.SrmThreshold,
                ["sequential_tuning"] = r.Settings.Method == Core.Model.AnalysisMethod.Sequential ? r.Settings.SequentialTuning : null,
                ["prior"] = r.Settings.Prior is { } prior ? new JsonObject { ["mean"] = prior.Mean, ["variance"] = prior.Variance } : null,
                ["minimum_detectable_effect"] = r.Settings.MinimumDetectableEffect,
                ["power"] = r.Settings.Power,
            },
            ["decision_rules"] = new JsonObject
            {
                ["ship_when_primary"] = r.Rules.Primary.ToString().ToLowerInvariant(),
                ["guardrails"] = r.Rules.Guardrails == Core.Model.GuardrailRule.NoBreach ? "no_breach" : "non_inferior",
                ["require_srm_clean"] = r.Rules.RequireCleanSrm,
            },
            ["decision"] = DecisionPolicy.Name(r.Decision),
            ["reasons"] = Strings(r.Reasons),
            ["verdicts"] = new JsonArray(r.Verdicts.Select(v => (JsonNode)new JsonObject
            {
                ["variant"] = v.Variant,
                ["decision"] = DecisionPolicy.Name(v.Decision),
                ["reasons"] = Strings(v.Reasons),
            }).ToArray()),
            ["srm"] = new JsonObject
            {
                ["counts"] = Map(r.Srm.Counts, c => JsonValue.Create(c)),
                ["weights"] = Map(r.Srm.Weights, w => JsonValue.Create(w)),
                ["chi_square"] = r.Srm.Result?.ChiSquare,
                ["p_value"] = r.Srm.Result?.PValue,
                ["mismatch"] = r.Srm.Result?.Mismatch,
                ["excluded_multiple_variant_units"] = r.Srm.MultipleVariantUnits,
                ["excluded_undeclared_variant_units"] = r.Srm.UndeclaredVariantUnits,
            },
            ["staging_quality"] = new JsonArray(r.Staging.Select(q => (JsonNode)new JsonObject
            {
                ["node"] = q.Node,
                ["dropped"] = new JsonObject(q.Dropped.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => KeyValuePair.Create(d.Key, (JsonNode?)JsonValue.Create(d.Value)))),
                ["nulled"] = new JsonObject(q.Nulled.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => KeyValuePair.Create(d.Key, (JsonNode?)JsonValue.Create(d.Value)))),
            }).ToArray()),
            ["holdout"] = r.Holdout is not { } held ? null : new JsonObject
            {
                ["namespace"] = held.Namespace,
                ["range"] = new JsonArray(held.Start, held.End),
            },
            ["assignment_audit"] = r.Assignment is not { } audit ? null : new JsonObject
            {
                ["seed"] = audit.Seed,
                ["hash_version"] = audit.HashVersion,
                ["units_checked"] = audit.UnitsChecked,
                ["mismatched"] = audit.Mismatched,
                ["several_variants"] = audit.SeveralVariants,
                ["mismatches"] = new JsonArray(audit.Mismatches.Select(m => (JsonNode)new JsonObject { ["assigned"] = m.Expected, ["logged"] = m.Logged, ["units"] = m.Units }).ToArray()),
                ["days"] = new JsonArray(audit.Days.Select(d => (JsonNode)new JsonObject { ["day"] = d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), ["units"] = d.Units, ["mismatched"] = d.Mismatched }).ToArray()),
                ["likely_causes"] = Strings(audit.LikelyCauses),
            },
            ["metrics"] = new JsonArray(r.Metrics.Select(m => (JsonNode)new JsonObject
            {
                ["metric"] = m.Metric,
                ["label"] = m.Label,
                ["role"] = m.Role.ToString().ToLowerInvariant(),
                ["desired_direction"] = m.DesiredDirection.ToString().ToLowerInvariant(),
                ["variant"] = m.Comparison.Variant,
                ["cuped"] = m.Cuped,
                ["control_n"] = m.Comparison.ControlN,
                ["variant_n"] = m.Comparison.VariantN,
                ["control_mean"] = m.Comparison.ControlMean,
                ["variant_mean"] = m.Comparison.VariantMean,
                ["absolute_lift"] = m.Comparison.AbsoluteLift,
                ["relative_lift"] = m.Comparison.RelativeLift,
                ["std_error"] = m.Comparison.StdError,
                ["ci_low"] = m.Comparison.CiLow,
                ["ci_high"] = m.Comparison.CiHigh,
                ["relative_ci_low"] = m.Comparison.RelativeCiLow,
                ["relative_ci_high"] = m.Comparison.RelativeCiHigh,
                ["p_value"] = m.Comparison.PValue,
                ["adjusted_p_value"] = m.Comparison.AdjustedPValue,
                ["significant"] = m.Comparison.Significant,
                ["chance_to_win"] = m.Comparison.ChanceToWin,
                ["cuped_theta"] = m.Comparison.CupedTheta,
                ["variance_reduction"] = m.Comparison.VarianceReduction,
                ["covariates"] = m.Comparison.Regression is { } regression ? new JsonArray(regression.Covariates.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()) : null,
                ["cap"] = m.Cap is null ? null : new JsonObject
                {
                    ["rule"] = m.Cap.Rule,
                    ["value"] = m.Cap.Value,
                    ["denominator"] = m.Cap.Denominator,
                    ["covariate"] = m.Cap.Covariate,
                },
                ["guardrail"] = m.Guardrail is null ? null : new JsonObject
                {
                    ["status"] = m.Guardrail.Status,
                    ["harm_bound"] = m.Guardrail.HarmBound,
                    ["non_inferiority_p_value"] = m.Guardrail.NonInferiorityPValue,
                },
            }).ToArray()),
            ["balance"] = new JsonArray(r.Balance.Select(b => (JsonNode)new JsonObject
            {
                ["metric"] = b.Metric,
                ["variant"] = b.Variant,
                ["control_covariate_mean"] = b.ControlMean,
                ["variant_covariate_mean"] = b.VariantMean,
                ["p_value"] = b.PValue,
                ["imbalanced"] = b.Imbalanced,
            }).ToArray()),
            ["segments"] = new JsonArray(r.Segments.Select(s => (JsonNode)new JsonObject
            {
                ["dimension"] = s.Dimension,
                ["segment"] = s.Segment,
                ["metric"] = s.Metric,
                ["variant"] = s.Comparison.Variant,
                ["control_n"] = s.Comparison.ControlN,
                ["variant_n"] = s.Comparison.VariantN,
                ["relative_lift"] = s.Comparison.RelativeLift,
                ["relative_ci_low"] = s.Comparison.RelativeCiLow,
                ["relative_ci_high"] = s.Comparison.RelativeCiHigh,
                ["p_value"] = s.Comparison.PValue,
                ["adjusted_p_value"] = s.Comparison.AdjustedPValue,
                ["significant"] = s.Comparison.Significant,
            }).ToArray()),
            ["power"] = new JsonArray(r.Power.Select(p => (JsonNode)new JsonObject
            {
                ["metric"] = p.Metric,
                ["minimum_detectable_effect"] = p.MinimumDetectableEffect,
                ["required_per_variant"] = p.RequiredPerVariant,
                ["observed_per_variant"] = p.ObservedPerVariant,
                ["reachable_mde"] = p.ReachableMde,
                ["additional_days"] = p.AdditionalDays,
            }).ToArray()),
            ["warnings"] = Strings(r.Warnings),
        };
        return Sanitize(document).ToJsonString(Indented) + "\n";
    }

    /// <summary>JSON has no NaN or infinity: an undefined figure is written as null.</summary>
    private static JsonNode Sanitize(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    if (o[key] is JsonValue v && v.TryGetValue<double>(out var d) && !double.IsFinite(d))
                        o[key] = null;
                    else if (o[key] is { } child)
                        Sanitize(child);
                }

                break;
            case JsonArray a:
                foreach (var child in a.OfType<JsonNode>())
                    Sanitize(child);
                break;
        }

        return node;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static JsonObject Map<T>(IReadOnlyDictionary<string, T> values, Func<T, JsonNode?> convert)
    {
        var result = new JsonObject();
        foreach (var (key, value) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
            result[key] = convert(value);
        return result;
    }
}
