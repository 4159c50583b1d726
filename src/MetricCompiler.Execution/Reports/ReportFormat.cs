using System.Globalization;
using System.Text;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Reports;

/// <summary>How one metric comparison reads in a report: the colour of its interval in the forest plot.</summary>
public enum LiftVerdict
{
    /// <summary>Significant and in the metric's desired direction.</summary>
    Better,

    /// <summary>Significant against the desired direction, or a breached guardrail.</summary>
    Worse,

    /// <summary>Anything else.</summary>
    NotSignificant,
}

/// <summary>
/// Formatting shared by the Markdown and HTML readouts: invariant culture everywhere, "n/a" for an undefined figure,
/// escaping of text that comes from YAML.
/// </summary>
internal static class ReportFormat
{
    public const string NotAvailable = "n/a";

    public static LiftVerdict Verdict(MetricReadout m)
    {
        if (m.Guardrail is { Status: GuardrailStatus.Breached } || m.IsSignificantlyWorse)
            return LiftVerdict.Worse;
        return m.IsSignificantlyBetter ? LiftVerdict.Better : LiftVerdict.NotSignificant;
    }

    public static string VerdictName(LiftVerdict verdict) => verdict switch
    {
        LiftVerdict.Better => "better",
        LiftVerdict.Worse => "worse",
        _ => "not-significant",
    };

    public static string DecisionLabel(Decision decision) => decision switch
    {
        Decision.Ship => "SHIP",
        Decision.NoShip => "NO-SHIP",
        Decision.Invalid => "INVALID",
        _ => "INCONCLUSIVE",
    };

    /// <summary>The result column of the metrics table (same words as the terminal readout).</summary>
    public static string Result(MetricReadout m)
    {
        if (m.Guardrail is { } g)
            return GuardrailStatusText(g.Status);
        if (m.IsSignificantlyBetter)
            return m.Comparison.ChanceToWin is { } win && m.Comparison.PValue is null ? $"better (chance to win {Percent(win, 1, signed: false)})" : "better";
        if (m.IsSignificantlyWorse)
            return "worse";
        return "not significant";
    }

    public static string GuardrailStatusText(string status) => status switch
    {
        GuardrailStatus.Breached => "breached",
        GuardrailStatus.Passed => "passed (non-inferior)",
        _ => "not proven",
    };

    public static string RoleName(MetricRole role) => role switch
    {
        MetricRole.Primary => "primary",
        MetricRole.Secondary => "secondary",
        _ => "guardrail",
    };

    public static string RoleHeading(MetricRole role) => role switch
    {
        MetricRole.Primary => "Primary",
        MetricRole.Secondary => "Secondary",
        _ => "Guardrails",
    };

    public static string CorrectionName(MultipleTestingCorrection correction) => correction switch
    {
        MultipleTestingCorrection.Holm => "Holm",
        MultipleTestingCorrection.BenjaminiHochberg => "Benjamini-Hochberg",
        _ => "none",
    };

    public static string MethodName(AnalysisMethod method) => method.ToString().ToLowerInvariant();

    /// <summary>"95% CI", "95% credible interval" or "95% confidence sequence", from alpha and the method.</summary>
    public static string IntervalName(AnalysisSettings settings, bool abbreviated)
    {
        var level = ((1 - settings.Alpha) * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
        return settings.Method switch
        {
            AnalysisMethod.Bayesian => $"{level} credible interval",
            AnalysisMethod.Sequential => $"{level} confidence sequence",
            _ => abbreviated ? $"{level} CI" : $"{level} confidence interval",
        };
    }

    public static string Percent(double? value, int decimals = 2, bool signed = true)
    {
        if (value is not { } v || !double.IsFinite(v))
            return NotAvailable;
        // Formatted like the decision's reasons (DecisionPolicy), so "+5.53%" reads the same in both.
        var text = (v * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (text.StartsWith('-') && text.Skip(1).All(c => c is '0' or '.'))
            text = text[1..]; // no "-0.00%"
        return (signed && !text.StartsWith('-') ? "+" : "") + text + "%";
    }

    /// <summary>A tick label: as few decimals as the value needs.</summary>
    public static string TickPercent(double value)
    {
        var scaled = Math.Round(value * 100, 6);
        if (scaled == 0)
            return "0%";
        return (scaled > 0 ? "+" : "") + scaled.ToString("0.##", CultureInfo.InvariantCulture) + "%";
    }

    public static string Interval(double? low, double? high, int decimals = 2) =>
        low is null && high is null ? NotAvailable : $"[{Percent(low, decimals)}, {Percent(high, decimals)}]";

    public static string P(double? value) =>
        value is { } v && double.IsFinite(v) ? (v < 0.0001 ? "<0.0001" : v.ToString("0.0000", CultureInfo.InvariantCulture)) : NotAvailable;

    /// <summary>A mean on the metric's own scale: four decimals for small values, two with thousands separators for large ones.</summary>
    public static string Number(double? value)
    {
        if (value is not { } v || !double.IsFinite(v))
            return NotAvailable;
        return v.ToString(Math.Abs(v) >= 100 ? "#,0.##" : "0.####", CultureInfo.InvariantCulture);
    }

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static int Days(ExperimentReadout r) => r.End.DayNumber - r.Start.DayNumber + 1;

    /// <summary>SVG user units: at most two decimals, invariant.</summary>
    public static string Coordinate(double value)
    {
        var rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0 : rounded).ToString("0.##", CultureInfo.InvariantCulture);
    }

    public static string DaysToMde(PowerProjection p) => p.AdditionalDays switch
    {
        null => NotAvailable,
        <= 0 => "reached",
        { } days => $"~{Math.Ceiling(days).ToString("0", CultureInfo.InvariantCulture)} more day(s)",
    };

    public static string SrmStatus(SrmReadout srm) => srm.Result is null ? "not computed" : srm.Result.Mismatch ? "MISMATCH" : "clean";

    /// <summary>Control first, then treatments in verdict order, then anything else the counts name (ordinal).</summary>
    public static IReadOnlyList<string> Variants(ExperimentReadout r, ExperimentDefinition? experiment)
    {
        var order = new List<string>();
        void Add(string name)
        {
            if (!order.Contains(name, StringComparer.Ordinal))
                order.Add(name);
        }

        if (experiment is not null)
        {
            foreach (var v in experiment.Variants.Where(v => v.IsControl))
                Add(v.Name);
            foreach (var v in experiment.Variants)
                Add(v.Name);
        }

        Add(r.Control);
        foreach (var v in r.Verdicts)
            Add(v.Variant);
        foreach (var v in r.Srm.Counts.Keys.Concat(r.Srm.Weights.Keys).Order(StringComparer.Ordinal))
            Add(v);
        return order;
    }

    /// <summary>Metric comparisons grouped by role (primary, secondary, guardrail), in readout order inside a role.</summary>
    public static IReadOnlyList<MetricReadout> OrderedMetrics(ExperimentReadout r) =>
        r.Metrics.Select((m, i) => (m, i)).OrderBy(p => p.m.Role).ThenBy(p => p.i).Select(p => p.m).ToList();

    /// <summary>The guardrail declared for a metric, if the definition is known.</summary>
    public static GuardrailDefinition? Guardrail(ExperimentDefinition? experiment, string metric) =>
        experiment?.Guardrails.FirstOrDefault(g => g.Metric.Name == metric);

    /// <summary>The margin as a signed relative lift: positive when an increase is harmful.</summary>
    public static double? SignedMargin(GuardrailDefinition? guardrail) =>
        guardrail is null ? null : guardrail.HarmfulDirection == Direction.Increase ? guardrail.Margin : -guardrail.Margin;

    /// <summary>Control characters (new lines of a YAML block scalar) become spaces; runs of spaces collapse.</summary>
    public static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            var ch = char.IsControl(c) ? ' ' : c;
            if (ch == ' ' && builder.Length > 0 && builder[^1] == ' ')
                continue;
            builder.Append(ch);
        }

        return builder.ToString().Trim();
    }

    public static string Html(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ when char.IsControl(c) && c != '\n' && c != '\t' => " ",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>Generated prose (reasons, warnings) with <c>`code`</c> spans: escaped, spans as &lt;code&gt;.</summary>
    public static string HtmlProse(string text)
    {
        var parts = OneLine(text).Split('`');
        var builder = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            var inCode = i % 2 == 1 && i < parts.Length - 1;
            if (inCode)
                builder.Append("<code>").Append(Html(parts[i])).Append("</code>");
            else
                builder.Append(i % 2 == 1 ? "`" : "").Append(Html(parts[i]));
        }

        return builder.ToString();
    }

    /// <summary>
    /// Free text in Markdown (names, hypothesis, owner, labels): HTML-escaped (GitHub renders inline HTML), Markdown
    /// punctuation escaped, and <c>|</c> escaped so a table cell cannot be split.
    /// </summary>
    public static string Markdown(string? text) => MarkdownEscape(OneLine(text));

    private static string MarkdownEscape(string line)
    {
        var builder = new StringBuilder(line.Length + 16);
        foreach (var c in line)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '~' => "\\" + c,
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>
    /// Generated prose in Markdown: <c>`code`</c> spans are kept (only <c>|</c> escaped inside them, as GFM tables
    /// require); the rest is escaped like free text.
    /// </summary>
    public static string MarkdownProse(string text)
    {
        var parts = OneLine(text).Split('`');
        var builder = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            var inCode = i % 2 == 1 && i < parts.Length - 1;
            if (inCode)
                builder.Append('`').Append(parts[i].Replace("|", "\\|", StringComparison.Ordinal)).Append('`');
            else
                builder.Append(i % 2 == 1 ? "\\`" : "").Append(MarkdownEscape(parts[i]));
        }

        return builder.ToString();
    }

    /// <summary>An identifier as a Markdown code span (a backtick inside is replaced, a pipe escaped).</summary>
    public static string MarkdownCode(string text) => "`" + OneLine(text).Replace('`', '\'').Replace("|", "\\|", StringComparison.Ordinal) + "`";
}
