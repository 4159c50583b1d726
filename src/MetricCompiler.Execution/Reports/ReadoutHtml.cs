using System.Text;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;
using F = MetricCompiler.Execution.Reports.ReportFormat;

namespace MetricCompiler.Execution.Reports;

/// <summary>
/// The readout as one self-contained HTML page (<c>target/readouts/&lt;experiment&gt;.html</c>): inline CSS and SVG,
/// no script, font, image or link to fetch (a Content-Security-Policy forbids it), readable printed. Text from YAML is
/// HTML-escaped. Deterministic.
/// </summary>
public static class ReadoutHtml
{
    public static string Render(ExperimentReadout readout, ExperimentDefinition? experiment, string timeZone = ReadoutMarkdown.DefaultTimeZone)
    {
        var r = readout;
        var o = new StringBuilder();
        var title = r.Name ?? r.ExperimentId;
        var interval = F.IntervalName(r.Settings, abbreviated: true);
        var decisionClass = r.Decision switch { Decision.Ship => "ship", Decision.NoShip => "no-ship", Decision.Invalid => "no-ship", _ => "inconclusive" };

        o.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        o.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        o.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        o.Append($"<meta name=\"generator\" content=\"metricc {Artifacts.ArtifactWriter.Version}\">\n");
        o.Append($"<title>{X(title)} ({X(r.ExperimentId)}): {F.DecisionLabel(r.Decision)}</title>\n");
        o.Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<main>\n");

        o.Append("<header>\n<p class=\"eyebrow\">Experiment readout</p>\n");
        o.Append($"<h1>{X(title)}</h1>\n<p class=\"id\"><code>{X(r.ExperimentId)}</code> &#183; {F.Date(r.Start)} .. {F.Date(r.End)} ({X(timeZone)})</p>\n</header>\n");

        o.Append($"<section class=\"decision {decisionClass}\" id=\"decision\">\n");
        if (r.Holdout is { } holdout)
            o.Append($"<p class=\"holdout\">Holdout: {X(holdout.Describe())}.</p>\n");
        o.Append($"<p class=\"verdict\"><span class=\"label\">Decision</span> <strong>{F.DecisionLabel(r.Decision)}</strong></p>\n");
        List(o, r.Reasons, "no reasons recorded");
        if (r.Verdicts.Count > 1)
        {
            o.Append("<table class=\"verdicts\">\n<thead><tr><th>Variant</th><th>Decision</th><th>Reasons</th></tr></thead>\n<tbody>\n");
            foreach (var v in r.Verdicts)
                o.Append($"<tr><td><code>{X(v.Variant)}</code></td><td>{F.DecisionLabel(v.Decision)}</td><td>{string.Join("<br>", v.Reasons.Select(F.HtmlProse))}</td></tr>\n");
            o.Append("</tbody>\n</table>\n");
        }

        o.Append("</section>\n");

        o.Append("<dl class=\"facts\">\n");
        Fact(o, "Hypothesis", string.IsNullOrWhiteSpace(r.Hypothesis) ? "<em>not stated</em>" : X(F.OneLine(r.Hypothesis)));
        Fact(o, "Owner", string.IsNullOrWhiteSpace(experiment?.Owner) ? "<em>not stated</em>" : X(F.OneLine(experiment.Owner)));
        Fact(o, "Dates", $"{F.Date(r.Start)} .. {F.Date(r.End)} ({F.Days(r)} days)");
        Fact(o, "Time zone", X(timeZone));
        Fact(o, "Variants", string.Join("<br>", PopulationRow.Of(r, experiment).Select(row =>
        {
            var description = experiment?.Variants.FirstOrDefault(v => v.Name == row.Variant)?.Description;
            var text = $"<code>{X(row.Variant)}</code> ({(row.Variant == r.Control ? "control, " : "")}{row.Expected} of traffic)";
            return string.IsNullOrWhiteSpace(description) ? text : $"{text}: {X(F.OneLine(description))}";
        })));
        Fact(o, "Analysis", X(ReadoutMarkdown.Analysis(r)));
        o.Append("</dl>\n");

        o.Append($"<section id=\"lift\">\n<h2>Relative lift vs control</h2>\n<figure>\n{ForestPlotSvg.Render(r, experiment)}</figure>\n");
        o.Append($"<p class=\"note\">Each row is one metric for one treatment variant: the dot is the estimated relative lift, the bar its {X(F.IntervalName(r.Settings, abbreviated: false))}. ");
        o.Append("Colour shows the verdict after the multiple-testing correction; a dashed mark is a guardrail's tolerated harm.</p>\n</section>\n");

        o.Append("<section id=\"metrics\">\n<h2>Metrics</h2>\n<table>\n<thead><tr><th>Metric</th><th>Variant</th>");
        o.Append($"<th class=\"num\">Control mean</th><th class=\"num\">Variant mean</th><th class=\"num\">Lift</th><th class=\"num\">{X(interval)}</th>");
        o.Append("<th class=\"num\">p</th><th class=\"num\">Adjusted p</th><th>Result</th></tr></thead>\n<tbody>\n");
        MetricRole? role = null;
        foreach (var m in F.OrderedMetrics(r))
        {
            var c = m.Comparison;
            var verdict = F.Verdict(m);
            if (m.Role != role)
                o.Append($"<tr class=\"group\"><th colspan=\"9\">{F.RoleHeading(m.Role)}</th></tr>\n");
            role = m.Role;
            o.Append($"<tr class=\"metric\" data-metric=\"{X(m.Metric)}\" data-variant=\"{X(c.Variant)}\" data-role=\"{F.RoleName(m.Role)}\"><td>{MetricCell(m)}</td><td><code>{X(c.Variant)}</code></td>");
            o.Append($"<td class=\"num\">{F.Number(c.ControlMean)}</td><td class=\"num\">{F.Number(c.VariantMean)}</td>");
            o.Append($"<td class=\"num lift {F.VerdictName(verdict)}\">{F.Percent(c.RelativeLift)}</td><td class=\"num\">{F.Interval(c.RelativeCiLow, c.RelativeCiHigh)}</td>");
            o.Append($"<td class=\"num\">{F.P(c.PValue)}</td><td class=\"num\">{(m.Role == MetricRole.Guardrail ? "&#8211;" : F.P(c.AdjustedPValue))}</td>");
            o.Append($"<td><span class=\"pill {F.VerdictName(verdict)}\">{X(F.Result(m))}</span></td></tr>\n");
        }

        o.Append("</tbody>\n</table>\n");
        o.Append($"<p class=\"note\">Lift is relative to the control mean. Adjusted p applies the {X(F.CorrectionName(r.Settings.Correction))} correction across primary and secondary metrics; ");
        o.Append("guardrails are tested on their own, one-sided. CUPED marks metrics adjusted by their pre-exposure value.</p>\n</section>\n");

        o.Append("<section id=\"guardrails\">\n<h2>Guardrails</h2>\n");
        var guardrails = F.OrderedMetrics(r).Where(m => m.Guardrail is not null).ToList();
        if (guardrails.Count == 0)
        {
            o.Append("<p>No guardrails declared.</p>\n");
        }
        else
        {
            o.Append("<table>\n<thead><tr><th>Guardrail</th><th>Variant</th><th>Harmful direction</th><th class=\"num\">Lift</th>");
            o.Append("<th class=\"num\">Harm bound</th><th class=\"num\">Margin</th><th class=\"num\">Non-inferiority p</th><th>Status</th></tr></thead>\n<tbody>\n");
            foreach (var m in guardrails)
            {
                var g = m.Guardrail!;
                var declared = F.Guardrail(experiment, m.Metric);
                var pill = g.Status switch { GuardrailStatus.Breached => "worse", GuardrailStatus.Passed => "better", _ => "not-significant" };
                o.Append($"<tr class=\"guardrail\" data-metric=\"{X(m.Metric)}\" data-variant=\"{X(m.Comparison.Variant)}\" data-status=\"{X(g.Status)}\">");
                o.Append($"<td>{MetricCell(m)}</td><td><code>{X(m.Comparison.Variant)}</code></td><td>{(declared is null ? F.NotAvailable : declared.HarmfulDirection.ToString().ToLowerInvariant())}</td>");
                o.Append($"<td class=\"num\">{F.Percent(g.RelativeLift ?? m.Comparison.RelativeLift)}</td><td class=\"num\">{F.Percent(g.HarmBound)}</td>");
                o.Append($"<td class=\"num\">{F.Percent(F.SignedMargin(declared))}</td><td class=\"num\">{F.P(g.NonInferiorityPValue)}</td>");
                o.Append($"<td><span class=\"pill {pill}\">{X(F.GuardrailStatusText(g.Status))}</span></td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            o.Append($"<p class=\"note\">The harm bound is the one-sided {F.Percent(1 - r.Settings.Alpha, 0, signed: false)} bound of the relative change on the harmful side. ");
            o.Append("A guardrail <em>passes</em> when the bound stays within the margin, is <em>breached</em> when the change is significantly harmful beyond the margin, and is <em>not proven</em> otherwise.</p>\n");
        }

        o.Append("</section>\n");

        o.Append("<section id=\"power\">\n<h2>Power</h2>\n");
        if (r.Power.Count == 0)
        {
            o.Append(r.Settings.MinimumDetectableEffect is null
                ? "<p>No minimum detectable effect declared, so no power projection.</p>\n"
                : "<p>No power projection (the primary metric has no usable control baseline).</p>\n");
        }
        else
        {
            o.Append("<table>\n<thead><tr><th>Metric</th><th class=\"num\">MDE</th><th class=\"num\">Needed per variant</th><th class=\"num\">Has per variant</th>");
            o.Append("<th class=\"num\">Reachable MDE now</th><th class=\"num\">Days to reach MDE</th></tr></thead>\n<tbody>\n");
            foreach (var p in r.Power)
            {
                o.Append($"<tr><td><code>{X(p.Metric)}</code></td><td class=\"num\">{F.Percent(p.MinimumDetectableEffect, 1, signed: false)}</td>");
                o.Append($"<td class=\"num\">{F.Count(p.RequiredPerVariant)}</td><td class=\"num\">{F.Count(p.ObservedPerVariant)}</td>");
                o.Append($"<td class=\"num\">{F.Percent(p.ReachableMde, 1, signed: false)}</td><td class=\"num\">{F.DaysToMde(p)}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            o.Append($"<p class=\"note\">At power {F.Percent(r.Settings.Power, 0, signed: false)}; days are at the rate units arrived over the {F.Days(r)}-day window.</p>\n");
        }

        o.Append("</section>\n");

        var srmClass = r.Srm.Result is null ? "not-significant" : r.Srm.Result.Mismatch ? "worse" : "better";
        o.Append("<section id=\"population\">\n<h2>Population and sample ratio</h2>\n");
        o.Append("<table>\n<thead><tr><th>Variant</th><th class=\"num\">Weight</th><th class=\"num\">Expected share</th><th class=\"num\">Units analysed</th><th class=\"num\">Observed share</th></tr></thead>\n<tbody>\n");
        foreach (var row in PopulationRow.Of(r, experiment))
            o.Append($"<tr><td><code>{X(row.Variant)}</code>{(row.Variant == r.Control ? " (control)" : "")}</td><td class=\"num\">{row.Weight}</td><td class=\"num\">{row.Expected}</td><td class=\"num\">{row.Units}</td><td class=\"num\">{row.Observed}</td></tr>\n");
        o.Append("</tbody>\n</table>\n");
        o.Append($"<p class=\"srm\">Sample ratio: <span class=\"pill {srmClass}\">{F.SrmStatus(r.Srm)}</span> chi-square {F.Number(r.Srm.Result?.ChiSquare)}, ");
        o.Append($"p = {F.P(r.Srm.Result?.PValue)} (threshold {F.Invariant(r.Srm.Threshold)}).</p>\n");
        if (r.Assignment is { } audit)
        {
            // Generated prose: `code` spans become <code>, everything else is escaped (as for reasons and warnings).
            o.Append($"<p class=\"audit\">Assignment audit: {F.HtmlProse(AssignmentAuditText.Summary(audit))}.</p>\n<ul>\n");
            foreach (var line in AssignmentAuditText.Pairs(audit).Concat(AssignmentAuditText.Days(audit) is { } days ? [days] : []))
                o.Append($"<li>{F.HtmlProse(line)}</li>\n");
            foreach (var cause in audit.LikelyCauses)
                o.Append($"<li>Likely cause: {F.HtmlProse(cause)}</li>\n");
            o.Append("</ul>\n");
        }

        o.Append("</section>\n");

        o.Append("<section id=\"data-quality\">\n<h2>Data quality</h2>\n<ul>\n");
        o.Append($"<li>Units exposed to more than one variant (excluded): <strong>{F.Count(r.Srm.MultipleVariantUnits)}</strong></li>\n");
        o.Append($"<li>Units exposed to an undeclared variant (excluded): <strong>{F.Count(r.Srm.UndeclaredVariantUnits)}</strong></li>\n");
        foreach (var q in r.Staging)
            o.Append($"<li>Staging <code>{X(q.Node)}</code>: dropped from raw rows: {X(StagingQuality.Describe(q.Dropped))}; values made null: {X(StagingQuality.Describe(q.Nulled))}</li>\n");
        if (r.Balance.Count > 0)
        {
            var flagged = r.Balance.Where(b => b.Imbalanced).ToList();
            o.Append(flagged.Count == 0
                ? $"<li>Pre-exposure balance: {r.Balance.Count} CUPED covariate(s) balanced (lowest p = {F.P(r.Balance.Min(b => b.PValue))})</li>\n"
                : $"<li>Pre-exposure balance: <strong>imbalanced</strong> {string.Join(", ", flagged.Select(b => $"<code>{X(b.Metric)}</code> / <code>{X(b.Variant)}</code> (p = {F.P(b.PValue)})"))}</li>\n");
        }

        o.Append("</ul>\n<h3>Warnings</h3>\n");
        List(o, r.Warnings, "none", "warnings");
        o.Append("</section>\n");

        if (r.Segments.Count > 0)
        {
            o.Append("<section id=\"segments\">\n<h2>Segments</h2>\n<p class=\"note\">Each dimension is corrected across its segments, metrics and variants.</p>\n<table>\n");
            o.Append("<thead><tr><th>Dimension</th><th>Segment</th><th>Metric</th><th>Variant</th><th class=\"num\">Units (control / variant)</th>");
            o.Append($"<th class=\"num\">Lift</th><th class=\"num\">{X(interval)}</th><th class=\"num\">Adjusted p</th><th>Significant</th></tr></thead>\n<tbody>\n");
            foreach (var s in r.Segments)
            {
                var c = s.Comparison;
                o.Append($"<tr><td>{X(s.Dimension)}</td><td>{X(s.Segment)}</td><td><code>{X(s.Metric)}</code></td><td><code>{X(c.Variant)}</code></td>");
                o.Append($"<td class=\"num\">{F.Count(c.ControlN)} / {F.Count(c.VariantN)}</td><td class=\"num\">{F.Percent(c.RelativeLift)}</td>");
                o.Append($"<td class=\"num\">{F.Interval(c.RelativeCiLow, c.RelativeCiHigh)}</td><td class=\"num\">{F.P(c.AdjustedPValue)}</td><td>{(c.Significant ? "<strong>yes</strong>" : "no")}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n</section>\n");
        }

        o.Append($"<footer>metricc {Artifacts.ArtifactWriter.Version} &#183; figures from <code>target/results/{X(r.ExperimentId)}.json</code></footer>\n");
        o.Append("</main>\n</body>\n</html>\n");
        return o.ToString();
    }

    private static string MetricCell(MetricReadout m)
    {
        var notes = new List<string>();
        if (m.Label != m.Metric)
            notes.Add(X(m.Metric));
        if (m.Cuped)
            notes.Add("CUPED");
        var label = $"<span class=\"metric-label\">{X(F.OneLine(m.Label))}</span>";
        return notes.Count == 0 ? label : $"{label}<span class=\"metric-id\">{string.Join(" &#183; ", notes)}</span>";
    }

    private static void Fact(StringBuilder o, string term, string html) => o.Append($"<dt>{term}</dt><dd>{html}</dd>\n");

    private static void List(StringBuilder o, IReadOnlyList<string> items, string empty, string? cssClass = null)
    {
        o.Append(cssClass is null ? "<ul>\n" : $"<ul class=\"{cssClass}\">\n");
        if (items.Count == 0)
            o.Append($"<li>{empty}</li>\n");
        foreach (var item in items)
            o.Append($"<li>{F.HtmlProse(item)}</li>\n");
        o.Append("</ul>\n");
    }

    private static string X(string? text) => F.Html(text);

    private const string Css = """
        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #f6f8fa; color: #1f2328; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
        main { max-width: 1100px; margin: 24px auto; padding: 28px 32px 20px; background: #ffffff; border: 1px solid #d1d9e0; border-radius: 8px; }
        header .eyebrow { margin: 0; font-size: 12px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; color: #59636e; }
        h1 { margin: 2px 0 2px; font-size: 26px; line-height: 1.25; }
        header .id { margin: 0; color: #59636e; }
        h2 { margin: 30px 0 10px; padding-bottom: 6px; font-size: 18px; border-bottom: 1px solid #d1d9e0; }
        h3 { margin: 16px 0 6px; font-size: 14px; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; background: #eff2f5; padding: 0.1em 0.35em; border-radius: 4px; }
        .decision { margin: 20px 0; padding: 14px 20px; border: 1px solid; border-left-width: 6px; border-radius: 6px; }
        .decision.ship { border-color: #1a7f37; background: #f1fbf4; }
        .decision.no-ship { border-color: #cf222e; background: #fff5f5; }
        .decision.inconclusive { border-color: #9a6700; background: #fffbeb; }
        .decision .verdict { margin: 0 0 6px; font-size: 22px; }
        .decision .verdict .label { font-size: 13px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; color: #59636e; margin-right: 6px; }
        .decision.ship strong { color: #1a7f37; }
        .decision.no-ship strong { color: #cf222e; }
        .decision.inconclusive strong { color: #9a6700; }
        .decision ul { margin: 0; padding-left: 20px; }
        .decision table { margin-top: 10px; background: #ffffff; }
        dl.facts { display: grid; grid-template-columns: 110px 1fr; gap: 6px 18px; margin: 18px 0 0; }
        dl.facts dt { color: #59636e; font-weight: 600; }
        dl.facts dd { margin: 0; }
        figure { margin: 0; overflow-x: auto; }
        svg.forest-plot { display: block; width: 100%; max-width: 1000px; height: auto; }
        table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
        th, td { padding: 6px 8px; border-bottom: 1px solid #e1e4e8; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; color: #59636e; font-weight: 600; vertical-align: bottom; }
        .num { text-align: right; white-space: nowrap; }
        td.lift { font-weight: 600; }
        td.lift.better { color: #1a7f37; }
        td.lift.worse { color: #cf222e; }
        .metric-label { font-weight: 500; }
        .metric-id { display: block; font-size: 12px; color: #59636e; }
        tr.group th { background: #ffffff; padding-top: 12px; font-size: 11px; letter-spacing: 0.06em; text-transform: uppercase; }
        .pill { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
        .pill.better { background: #dafbe1; color: #116329; }
        .pill.worse { background: #ffebe9; color: #a40e26; }
        .pill.not-significant { background: #eff2f5; color: #59636e; }
        .note { color: #59636e; font-size: 12.5px; margin: 8px 0 0; }
        ul.warnings li { margin: 2px 0; }
        footer { margin-top: 30px; padding-top: 10px; border-top: 1px solid #d1d9e0; color: #59636e; font-size: 12px; }
        @media print { body { background: #ffffff; } main { margin: 0; max-width: none; border: 0; padding: 0; } section, table, figure { break-inside: avoid; } }

        """;
}
