using System.Globalization;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Execution.Simulation;

/// <summary>The report as a table a person reads: one line per metric, then the family and how to read it.</summary>
public static class SimulationReportText
{
    public static void Write(TextWriter o, SimulationReport r)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(r);
        var liftText = r.LiftedMetrics.Count == 0
            ? "A/A"
            : $"lift {Signed(r.Lift)} on {string.Join(", ", r.LiftedMetrics.Select(m => $"`{m}`"))}";
        o.WriteLine($"Simulation of {r.Experiment}: {N(r.Runs)} random splits ({liftText}) of {N(r.Units)} analysed units, A gets {Pct(r.ControlShare, 0)}; seed {r.Seed}");
        o.WriteLine($"alpha {F(r.Alpha)}, {r.Method}, correction {r.Correction}");
        o.WriteLine();

        var header = new[] { "metric", "role", "runs", "measure", "rate", "expected", "ok", "readout sig", "CI coverage", "ok" };
        var rows = new List<string[]> { header };
        foreach (var m in r.Metrics)
        {
            var name = m.Metric + (m.Cuped ? " (cuped)" : "") + (m.Lifted ? " *" : "");
            if (m.Runs == 0)
            {
                rows.Add([name, Role(m.Role), "0", "untestable", "n/a", "", "", "n/a", "n/a", ""]);
                continue;
            }

            var coverageOk = m.CoverageWithin3Se == true ? "yes" : "NO";
            rows.Add(m.Lifted
                ?
                [
                    name, Role(m.Role), N(m.Runs), "power", Pct(m.Power, 1), $"(SE {Pct(m.StandardError, 1)})", "",
                    Pct(m.ReadoutSignificantRate, 1), Pct(m.CiCoverage, 1), coverageOk,
                ]
                :
                [
                    name, Role(m.Role), N(m.Runs), "false pos.", Pct(m.FalsePositiveRate, 1),
                    $"{Pct(r.Alpha, 1)} +/- {Pct(3 * m.StandardError, 1)}", m.Within3Se == true ? "yes" : "NO",
                    Pct(m.ReadoutSignificantRate, 1), Pct(m.CiCoverage, 1), coverageOk,
                ]);
        }

        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(row => row[i].Length)).ToArray();
        foreach (var (row, index) in rows.Select((row, index) => (row, index)))
        {
            o.WriteLine("  " + string.Join("  ", row.Select((cell, i) => i is 2 or 4 or 7 or 8 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
            if (index == 0)
                o.WriteLine("  " + string.Join("  ", widths.Select(w => new string('-', w))));
        }

        o.WriteLine();
        if (r.Family is { } family)
        {
            var verdict = family.AtMostAlpha ? "at most" : "ABOVE";
            var note = family.Correction == "none" ? "; no correction, so the family is not held to alpha" : "";
            o.WriteLine($"Family ({string.Join(", ", family.Metrics)}; correction {family.Correction}): at least one significant in {Pct(family.ErrorRate, 1)} of runs " +
                $"({verdict} alpha {Pct(r.Alpha, 1)} + 3 SE{note})");
        }

        if (r.Monitoring is { } monitoring)
        {
            var readout = monitoring.ReadoutMethod == "always_valid" ? "always valid (method sequential)" : "fixed horizon";
            o.WriteLine($"Guardrails monitored at {monitoring.Looks} looks (one a day; the readout's test: {readout}); runs with a false alarm at any look:");
            foreach (var g in monitoring.Guardrails)
            {
                if (g.AlwaysValidHarmRate is null)
                {
                    o.WriteLine($"  {g.Metric}: a quantile guardrail, not monitored (each look would re-sort every arm)");
                    continue;
                }

                var verdict = g.AlwaysValidAtMostAlpha == true ? "at most" : "ABOVE";
                o.WriteLine($"  {g.Metric} ({g.HarmfulDirection} harmful, margin {Pct(g.Margin, 1)}): significantly harmful: fixed horizon {Pct(g.FixedHorizonHarmRate, 1)}, " +
                    $"always valid {Pct(g.AlwaysValidHarmRate, 1)} ({verdict} alpha {Pct(r.Alpha, 1)} + 3 SE); breached: {Pct(g.FixedHorizonBreachRate, 1)} vs {Pct(g.AlwaysValidBreachRate, 1)}");
            }
        }

        foreach (var m in r.Metrics.Where(m => m.UntestableRuns > 0))
            o.WriteLine($"`{m.Metric}`: the test was undefined in {N(m.UntestableRuns)} run(s) (see warnings)");
        foreach (var warning in r.Warnings)
            o.WriteLine($"warning: {warning}");
        o.WriteLine("rate: share of runs with p < alpha (lifted metrics *: significant in the lift's direction); expected: alpha +/- 3 binomial SE.");
        o.WriteLine("readout sig: the same share after the family's correction, as the readout flags it. CI coverage: intervals containing");
        o.WriteLine($"the true effect (0, or the injected lift), expected {Pct(1 - r.Alpha, 1)}. Guardrails: the readout's two-sided test, uncorrected.");
    }

    private static string Role(MetricRole role) => role.ToString().ToLowerInvariant();

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Signed(double value) => (value >= 0 ? "+" : "") + Pct(value, 1);

    private static string Pct(double? value, int decimals) =>
        value is { } v && double.IsFinite(v) ? (v * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%" : "n/a";
}
