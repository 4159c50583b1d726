using MetricCompiler.Execution.Reports;
using System.Globalization;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Cli.Output;

/// <summary>The readout a person reads in a terminal or a CI log: decision first, then SRM, then every metric.</summary>
public static class ReadoutPrinter
{
    public static void Print(TextWriter o, ExperimentReadout r)
    {
        var rule = new string('=', 100);
        o.WriteLine();
        o.WriteLine(rule);
        o.WriteLine($"Experiment {r.ExperimentId}{(r.Name is null ? "" : $": {r.Name}")}   ({r.Start:yyyy-MM-dd} .. {r.End:yyyy-MM-dd})");
        o.WriteLine(rule);
        if (r.Holdout is { } holdout)
            o.WriteLine($"Holdout: {holdout.Describe()}");
        o.WriteLine($"Decision: {DecisionPolicy.Name(r.Decision).ToUpperInvariant().Replace('_', '-')}");
        foreach (var reason in r.Reasons)
            o.WriteLine($"  - {reason}");
        o.WriteLine();

        var srm = r.Srm;
        var total = srm.Counts.Values.Sum();
        var counts = string.Join(", ", srm.Counts.Select(c =>
            $"{c.Key} {c.Value.ToString("N0", CultureInfo.InvariantCulture)} ({Pct(total == 0 ? 0 : (double)c.Value / total, 1)} vs {Pct(srm.Weights[c.Key], 0)} expected)"));
        var verdict = srm.Result is null ? "not computed" : srm.Result.Mismatch ? "MISMATCH" : "ok";
        o.WriteLine($"Sample ratio: {counts}");
        o.WriteLine($"  chi-square {F(srm.Result?.ChiSquare, "0.###")}, p = {P(srm.Result?.PValue)} (threshold {srm.Threshold.ToString(CultureInfo.InvariantCulture)}): {verdict}");
        if (srm.MultipleVariantUnits > 0 || srm.UndeclaredVariantUnits > 0)
            o.WriteLine($"  excluded: {srm.MultipleVariantUnits} unit(s) exposed to several variants, {srm.UndeclaredVariantUnits} to undeclared variants");
        if (r.Assignment is { } audit)
        {
            o.WriteLine($"Assignment audit: {AssignmentAuditText.Summary(audit)}");
            foreach (var line in AssignmentAuditText.Pairs(audit))
                o.WriteLine($"  {line}");
            if (AssignmentAuditText.Days(audit) is { } days)
                o.WriteLine($"  {days}");
            foreach (var cause in audit.LikelyCauses)
                o.WriteLine($"  likely cause: {cause}");
        }

        o.WriteLine();

        var s = r.Settings;
        o.WriteLine($"Metrics (alpha {s.Alpha.ToString(CultureInfo.InvariantCulture)}, {s.Method.ToString().ToLowerInvariant()}, correction {EngineRequests.CorrectionName(s.Correction)}, CUPED {(s.Cuped.Enabled ? $"on, {s.Cuped.LookbackDays}-day lookback" : "off")}):");
        var header = new[] { "metric", "role", "variant", "control", "variant", "abs lift", "rel lift [CI]", "p", "p adj", "result" };
        var rows = new List<string[]> { header };
        foreach (var m in r.Metrics)
        {
            var c = m.Comparison;
            rows.Add(
            [
                m.Metric + (m.Cuped ? " (cuped)" : ""),
                m.Role.ToString().ToLowerInvariant(),
                c.Variant,
                F(c.ControlMean, "0.####"),
                F(c.VariantMean, "0.####"),
                Signed(c.AbsoluteLift, "0.####"),
                $"{Pct(c.RelativeLift, 2, signed: true)} [{Pct(c.RelativeCiLow, 2, signed: true)}, {Pct(c.RelativeCiHigh, 2, signed: true)}]",
                P(c.PValue),
                m.Role == MetricRole.Guardrail ? "-" : P(c.AdjustedPValue),
                Result(m),
            ]);
        }

        Table(o, rows, rightAligned: [3, 4, 5, 6, 7, 8]);

        foreach (var capped in r.Metrics.Where(m => m.Cap is not null).DistinctBy(m => m.Metric))
            o.WriteLine($"  cap: `{capped.Metric}` values capped at {capped.Cap!.Describe()}");
        foreach (var adjusted in r.Metrics.Where(m => m.Comparison.Regression is { Covariates.Count: > 1 }))
            o.WriteLine($"  covariates: `{adjusted.Metric}` ({adjusted.Comparison.Variant}) adjusted by {string.Join(", ", adjusted.Comparison.Regression!.Covariates)}: " +
                $"variance reduction {Pct(adjusted.Comparison.VarianceReduction, 1, signed: false)}");

        if (r.Balance.Count > 0)
        {
            var flagged = r.Balance.Where(b => b.Imbalanced).ToList();
            o.WriteLine(flagged.Count == 0
                ? $"  pre-exposure balance: {r.Balance.Count} CUPED covariate(s) balanced (lowest p = {P(r.Balance.Min(b => b.PValue))})"
                : $"  pre-exposure balance: IMBALANCED {string.Join(", ", flagged.Select(b => $"{b.Metric}/{b.Variant} (p = {P(b.PValue)})"))}");
        }

        foreach (var power in r.Power)
            o.WriteLine($"  power: `{power.Metric}` needs {power.RequiredPerVariant:N0} units per variant for a {Pct(power.MinimumDetectableEffect, 1)} MDE; has {power.ObservedPerVariant:N0} (reachable MDE {Pct(power.ReachableMde, 1)})");

        if (r.Segments.Count > 0)
        {
            o.WriteLine();
            o.WriteLine($"Segments (each dimension corrected across its segments, metrics and variants):");
            var segmentRows = new List<string[]> { new[] { "dimension", "segment", "metric", "variant", "n", "rel lift [CI]", "p adj", "" } };
            foreach (var segment in r.Segments)
            {
                var c = segment.Comparison;
                segmentRows.Add(
                [
                    segment.Dimension, segment.Segment, segment.Metric, c.Variant, $"{c.ControlN:N0}/{c.VariantN:N0}",
                    $"{Pct(c.RelativeLift, 2, signed: true)} [{Pct(c.RelativeCiLow, 2, signed: true)}, {Pct(c.RelativeCiHigh, 2, signed: true)}]",
                    P(c.AdjustedPValue), c.Significant ? "significant" : "",
                ]);
            }

            Table(o, segmentRows, rightAligned: [4, 5, 6]);
        }

        foreach (var warning in r.Warnings)
            o.WriteLine($"  warning: {warning}");
    }

    private static void Table(TextWriter o, List<string[]> rows, int[] rightAligned)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length)).ToArray();
        foreach (var (row, index) in rows.Select((row, index) => (row, index)))
        {
            o.WriteLine("  " + string.Join("  ", row.Select((cell, i) => rightAligned.Contains(i) ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
            if (index == 0)
                o.WriteLine("  " + string.Join("  ", widths.Select(w => new string('-', w))));
        }
    }

    private static string Result(MetricReadout m)
    {
        if (m.Guardrail is { } g)
            return g.Status switch
            {
                "breached" => "GUARDRAIL BREACHED",
                "passed" => "guardrail ok (non-inferior)",
                _ => "guardrail not proven",
            };
        if (m.IsSignificantlyBetter) return m.Comparison.ChanceToWin is { } win && m.Comparison.PValue is null ? $"better (chance to win {Pct(win, 1)})" : "better";
        if (m.IsSignificantlyWorse) return "WORSE";
        return "no significant change";
    }

    private static string F(double? v, string format) => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Signed(double? v, string format) =>
        v is { } x && double.IsFinite(x) ? (x >= 0 ? "+" : "") + x.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Pct(double? v, int decimals, bool signed = false)
    {
        if (v is not { } x || !double.IsFinite(x))
            return "n/a";
        var text = (x * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";
        return signed && x >= 0 ? "+" + text : text;
    }

    private static string P(double? v) =>
        v is { } x && double.IsFinite(x) ? (x < 0.0001 ? "<0.0001" : x.ToString("0.0000", CultureInfo.InvariantCulture)) : "n/a";
}
