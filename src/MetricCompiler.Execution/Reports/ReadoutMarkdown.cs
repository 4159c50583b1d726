using System.Text;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using F = MetricCompiler.Execution.Reports.ReportFormat;

namespace MetricCompiler.Execution.Reports;

/// <summary>
/// The readout as GitHub-flavoured Markdown (<c>target/readouts/&lt;experiment&gt;.md</c>), for a PR comment or a wiki
/// page: decision first, then the lift plot (as text: GitHub strips inline SVG), metrics, guardrails, power, population
/// and data quality. Text from YAML is escaped (HTML and Markdown, <c>|</c> in tables). Deterministic.
/// </summary>
public static class ReadoutMarkdown
{
    public const string DefaultTimeZone = "UTC";

    public static string Render(ExperimentReadout readout, ExperimentDefinition? experiment, string timeZone = DefaultTimeZone)
    {
        var r = readout;
        var o = new StringBuilder();
        var title = F.Markdown(r.Name ?? r.ExperimentId);
        var interval = F.IntervalName(r.Settings, abbreviated: true);
        o.Append($"# Experiment readout: {title}\n\n");

        o.Append($"- **Experiment:** {title} ({F.MarkdownCode(r.ExperimentId)})\n");
        o.Append($"- **Hypothesis:** {(string.IsNullOrWhiteSpace(r.Hypothesis) ? "_not stated_" : F.Markdown(r.Hypothesis))}\n");
        o.Append($"- **Owner:** {(string.IsNullOrWhiteSpace(experiment?.Owner) ? "_not stated_" : F.Markdown(experiment.Owner))}\n");
        o.Append($"- **Dates:** {F.Date(r.Start)} .. {F.Date(r.End)} ({F.Days(r)} days)\n");
        o.Append($"- **Time zone:** {F.Markdown(timeZone)}\n");
        o.Append($"- **Variants:** {string.Join("; ", Variants(r, experiment))}\n");
        o.Append($"- **Analysis:** {F.Markdown(Analysis(r))}\n\n");

        if (r.Holdout is { } holdout)
            o.Append($"Holdout: {F.MarkdownProse(holdout.Describe())}.\n\n");
        o.Append($"## Decision: {F.DecisionLabel(r.Decision)}\n\n");
        Bullets(o, r.Reasons, "no reasons recorded");
        if (r.Verdicts.Count > 1)
        {
            o.Append("| Variant | Decision | Reasons |\n| --- | --- | --- |\n");
            foreach (var v in r.Verdicts)
                o.Append($"| {F.MarkdownCode(v.Variant)} | {F.DecisionLabel(v.Decision)} | {string.Join("<br>", v.Reasons.Select(F.MarkdownProse))} |\n");
            o.Append('\n');
        }

        o.Append($"## Relative lift vs control ({interval})\n\n");
        o.Append("```text\n").Append(ForestPlotText.Render(r, experiment)).Append("```\n\n");

        o.Append("## Metrics\n\n");
        o.Append($"| Metric | Role | Variant | Control mean | Variant mean | Lift | {interval} | p | Adjusted p | Result |\n");
        o.Append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        foreach (var m in F.OrderedMetrics(r))
        {
            var c = m.Comparison;
            o.Append($"| {MetricCell(m)} | {F.RoleName(m.Role)} | {F.MarkdownCode(c.Variant)} | {F.Number(c.ControlMean)} | {F.Number(c.VariantMean)} | ");
            o.Append($"{Bold(F.Percent(c.RelativeLift), F.Verdict(m) != LiftVerdict.NotSignificant)} | {F.Interval(c.RelativeCiLow, c.RelativeCiHigh)} | {F.P(c.PValue)} | ");
            o.Append($"{(m.Role == MetricRole.Guardrail ? "-" : F.P(c.AdjustedPValue))} | {F.Markdown(F.Result(m))} |\n");
        }

        o.Append('\n');
        o.Append($"Lift is relative to the control mean; p-values test the absolute difference; adjusted p applies the {F.CorrectionName(r.Settings.Correction)} correction ");
        o.Append("across primary and secondary metrics (guardrails are tested on their own, one-sided).\n\n");

        o.Append("## Guardrails\n\n");
        var guardrails = F.OrderedMetrics(r).Where(m => m.Guardrail is not null).ToList();
        if (guardrails.Count == 0)
        {
            o.Append("No guardrails declared.\n\n");
        }
        else
        {
            o.Append("| Guardrail | Variant | Harmful direction | Lift | Harm bound | Margin | Non-inferiority p | Status |\n");
            o.Append("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
            foreach (var m in guardrails)
            {
                var g = m.Guardrail!;
                var declared = F.Guardrail(experiment, m.Metric);
                o.Append($"| {MetricCell(m)} | {F.MarkdownCode(m.Comparison.Variant)} | {(declared is null ? F.NotAvailable : declared.HarmfulDirection.ToString().ToLowerInvariant())} | ");
                o.Append($"{F.Percent(g.RelativeLift ?? m.Comparison.RelativeLift)} | {F.Percent(g.HarmBound)} | {F.Percent(F.SignedMargin(declared))} | {F.P(g.NonInferiorityPValue)} | ");
                o.Append($"{Bold(F.GuardrailStatusText(g.Status), g.Status == Statistics.GuardrailStatus.Breached)} |\n");
            }

            o.Append('\n');
            o.Append($"The harm bound is the one-sided {F.Percent(1 - r.Settings.Alpha, 0, signed: false)} bound of the relative change on the harmful side: ");
            o.Append("*passed* when it stays within the margin, *breached* when the change is significantly harmful beyond the margin, *not proven* otherwise.\n\n");
        }

        o.Append("## Power\n\n");
        if (r.Power.Count == 0)
        {
            o.Append(r.Settings.MinimumDetectableEffect is null
                ? "No minimum detectable effect declared, so no power projection.\n\n"
                : "No power projection (the primary metric has no usable control baseline).\n\n");
        }
        else
        {
            o.Append($"| Metric | MDE | Needed per variant | Has per variant | Reachable MDE now | Days to reach MDE |\n");
            o.Append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
            foreach (var p in r.Power)
            {
                o.Append($"| {F.MarkdownCode(p.Metric)} | {F.Percent(p.MinimumDetectableEffect, 1, signed: false)} | {F.Count(p.RequiredPerVariant)} | {F.Count(p.ObservedPerVariant)} | ");
                o.Append($"{F.Percent(p.ReachableMde, 1, signed: false)} | {F.DaysToMde(p)} |\n");
            }

            o.Append('\n');
            o.Append($"At power {F.Percent(r.Settings.Power, 0, signed: false)}; days are at the rate units arrived over the {F.Days(r)}-day window.\n\n");
        }

        o.Append("## Population and sample ratio\n\n");
        o.Append("| Variant | Weight | Expected share | Units analysed | Observed share |\n| --- | ---: | ---: | ---: | ---: |\n");
        foreach (var row in PopulationRow.Of(r, experiment))
            o.Append($"| {F.MarkdownCode(row.Variant)}{(row.Variant == r.Control ? " (control)" : "")} | {row.Weight} | {row.Expected} | {row.Units} | {row.Observed} |\n");
        o.Append('\n');
        o.Append($"Sample ratio: **{F.SrmStatus(r.Srm)}** (chi-square {F.Number(r.Srm.Result?.ChiSquare)}, p = {F.P(r.Srm.Result?.PValue)}, threshold {F.Invariant(r.Srm.Threshold)}).\n\n");
        if (r.Assignment is { } audit)
        {
            o.Append($"Assignment audit: {AssignmentAuditText.Summary(audit)}.\n\n");
            foreach (var line in AssignmentAuditText.Pairs(audit).Concat(AssignmentAuditText.Days(audit) is { } days ? [days] : []))
                o.Append($"- {line}\n");
            foreach (var cause in audit.LikelyCauses)
                o.Append($"- Likely cause: {cause}\n");
            o.Append('\n');
        }


        o.Append("## Data quality\n\n");
        o.Append($"- Units exposed to more than one variant (excluded): {F.Count(r.Srm.MultipleVariantUnits)}\n");
        o.Append($"- Units exposed to an undeclared variant (excluded): {F.Count(r.Srm.UndeclaredVariantUnits)}\n");
        foreach (var q in r.Staging)
            o.Append($"- Staging {F.MarkdownCode(q.Node)}: dropped from raw rows: {F.Markdown(StagingQuality.Describe(q.Dropped))}; values made null: {F.Markdown(StagingQuality.Describe(q.Nulled))}\n");
        if (r.Balance.Count > 0)
        {
            var flagged = r.Balance.Where(b => b.Imbalanced).ToList();
            o.Append(flagged.Count == 0
                ? $"- Pre-exposure balance: {r.Balance.Count} CUPED covariate(s) balanced (lowest p = {F.P(r.Balance.Min(b => b.PValue))})\n"
                : $"- Pre-exposure balance: **imbalanced** {string.Join(", ", flagged.Select(b => $"{F.MarkdownCode(b.Metric)} / {F.MarkdownCode(b.Variant)} (p = {F.P(b.PValue)})"))}\n");
        }

        o.Append('\n');
        o.Append("Warnings:\n\n");
        Bullets(o, r.Warnings, "none");

        if (r.Segments.Count > 0)
        {
            // Collapsed: a segment table is long, and a PR comment should stay short.
            o.Append("## Segments\n\n");
            o.Append($"<details><summary>{r.Segments.Count} segment comparisons; each dimension is corrected across its segments, metrics and variants</summary>\n\n");
            o.Append($"| Dimension | Segment | Metric | Variant | Units (control / variant) | Lift | {interval} | Adjusted p | Significant |\n");
            o.Append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
            foreach (var s in r.Segments)
            {
                var c = s.Comparison;
                o.Append($"| {F.Markdown(s.Dimension)} | {F.Markdown(s.Segment)} | {F.MarkdownCode(s.Metric)} | {F.MarkdownCode(c.Variant)} | {F.Count(c.ControlN)} / {F.Count(c.VariantN)} | ");
                o.Append($"{F.Percent(c.RelativeLift)} | {F.Interval(c.RelativeCiLow, c.RelativeCiHigh)} | {F.P(c.AdjustedPValue)} | {(c.Significant ? "**yes**" : "no")} |\n");
            }

            o.Append("\n</details>\n\n");
        }

        o.Append($"<sub>metricc {Artifacts.ArtifactWriter.Version}; figures from {F.MarkdownCode($"target/results/{r.ExperimentId}.json")}.</sub>\n");
        return o.ToString();
    }

    internal static string Analysis(ExperimentReadout r)
    {
        var s = r.Settings;
        var cuped = s.Cuped.Enabled ? $"CUPED on ({s.Cuped.LookbackDays}-day lookback)" : "CUPED off";
        return $"alpha {F.Invariant(s.Alpha)}, {F.MethodName(s.Method)}, {F.CorrectionName(s.Correction)} correction, {cuped}, SRM threshold {F.Invariant(s.SrmThreshold)}";
    }

    private static IEnumerable<string> Variants(ExperimentReadout r, ExperimentDefinition? experiment) =>
        PopulationRow.Of(r, experiment).Select(row =>
        {
            var description = experiment?.Variants.FirstOrDefault(v => v.Name == row.Variant)?.Description;
            var text = $"{F.MarkdownCode(row.Variant)} ({(row.Variant == r.Control ? "control, " : "")}{row.Expected})";
            return string.IsNullOrWhiteSpace(description) ? text : $"{text}: {F.Markdown(description)}";
        });

    private static string MetricCell(MetricReadout m)
    {
        var notes = new List<string>();
        if (m.Label != m.Metric)
            notes.Add(F.MarkdownCode(m.Metric));
        if (m.Cuped)
            notes.Add("CUPED");
        if (m.Cap is { } cap)
            notes.Add($"capped at {cap.Describe()}");
        return notes.Count == 0 ? F.Markdown(m.Label) : $"{F.Markdown(m.Label)} ({string.Join(", ", notes)})";
    }

    private static string Bold(string text, bool bold) => bold ? $"**{text}**" : text;

    private static void Bullets(StringBuilder o, IReadOnlyList<string> items, string empty)
    {
        if (items.Count == 0)
            o.Append($"- {empty}\n");
        foreach (var item in items)
            o.Append($"- {F.MarkdownProse(item)}\n");
        o.Append('\n');
    }
}

/// <summary>One variant's line in the population table.</summary>
internal sealed record PopulationRow(string Variant, string Weight, string Expected, string Units, string Observed)
{
    public static IReadOnlyList<PopulationRow> Of(ExperimentReadout r, ExperimentDefinition? experiment)
    {
        var srm = r.Srm;
        var totalUnits = srm.Counts.Values.Sum();
        var totalWeight = srm.Weights.Values.Sum();
        return F.Variants(r, experiment).Select(v =>
        {
            double? weight = srm.Weights.TryGetValue(v, out var w) ? w : null;
            long? units = srm.Counts.TryGetValue(v, out var n) ? n : null;
            return new PopulationRow(
                v,
                weight is { } x ? F.Invariant(x) : F.NotAvailable,
                weight is { } y && totalWeight > 0 ? F.Percent(y / totalWeight, 1, signed: false) : F.NotAvailable,
                units is { } u ? F.Count(u) : F.NotAvailable,
                units is { } c && totalUnits > 0 ? F.Percent((double)c / totalUnits, 2, signed: false) : F.NotAvailable);
        }).ToList();
    }
}
