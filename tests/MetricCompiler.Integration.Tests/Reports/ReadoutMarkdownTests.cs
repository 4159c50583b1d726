using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Execution.Reports;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>The Markdown readout from fixed records: its sections, its figures, escaping and determinism.</summary>
public sealed class ReadoutMarkdownTests
{
    private static string Render(string timeZone = "UTC") => ReadoutMarkdown.Render(ReportSamples.Readout(), ReportSamples.Definition(), timeZone);

    [Fact]
    public void Has_every_section_in_reading_order()
    {
        var md = Render();
        string[] headings =
        [
            "# Experiment readout: Checkout redesign",
            "## Decision: SHIP",
            "## Relative lift vs control (95% CI)",
            "## Metrics",
            "## Guardrails",
            "## Power",
            "## Population and sample ratio",
            "## Data quality",
        ];
        var positions = headings.Select(h => Regex.Match(md, "^" + Regex.Escape(h) + "$", RegexOptions.Multiline) is { Success: true } m ? m.Index : -1).ToList();
        Assert.All(headings.Zip(positions), p => Assert.True(p.Second >= 0, $"missing heading `{p.First}`"));
        Assert.Equal(positions.Order().ToList(), positions);
    }

    [Fact]
    public void States_who_what_and_when()
    {
        var md = Render();
        Assert.Contains("- **Experiment:** Checkout redesign (`checkout_redesign`)\n", md);
        Assert.Contains("- **Hypothesis:** A one-page checkout lifts conversion by 5% without slowing the page.\n", md);
        Assert.Contains("- **Owner:** checkout-team (DRI kim.ng)\n", md);
        Assert.Contains("- **Dates:** 2026-02-02 .. 2026-02-15 (14 days)\n", md);
        Assert.Contains("- **Time zone:** UTC\n", md);
        Assert.Contains("`control` (control, 33.3%): Three-page checkout", md);
        Assert.Contains("alpha 0.05, frequentist, Holm correction, CUPED on (14-day lookback), SRM threshold 0.001", md);
        Assert.Contains("- **Time zone:** America/New\\_York\n", Render("America/New_York"));
    }

    [Fact]
    public void Decision_comes_with_its_reasons_and_per_variant_verdicts()
    {
        var md = Render();
        Assert.Contains("## Decision: SHIP\n\n- ship `one_page`\n- primary metric `conversion` significantly better: +6.20% (adjusted p = 0.0060)\n", md);
        Assert.Contains("| `one_page` | SHIP | primary metric `conversion` significantly better", md);
        Assert.Contains("| `express` | NO-SHIP | guardrail `latency` breached: +9.40% moves the harmful way beyond its margin |", md);
    }

    [Fact]
    public void Metrics_table_has_means_lift_interval_and_both_p_values()
    {
        var md = Render();
        Assert.Contains("| Metric | Role | Variant | Control mean | Variant mean | Lift | 95% CI | p | Adjusted p | Result |", md);
        Assert.Contains("| Checkout conversion (`conversion`, CUPED) | primary | `one_page` | 0.25 | 0.2655 | **+6.20%** | [+2.10%, +10.30%] | 0.0030 | 0.0060 | better |", md);
        Assert.Contains("| Revenue per user (`revenue_per_user`) | secondary | `express` | 12.4 | 11.5196 | **-7.10%** | [-12.00%, -2.20%] | 0.0040 | 0.0120 | worse |", md);
        // Guardrails are outside the corrected family: no adjusted p.
        Assert.Contains("| Page load time (ms) (`latency`) | guardrail | `express` | 812.5 | 888.88 | **+9.40%** | [+6.00%, +12.80%] | <0.0001 | - | breached |", md);
        Assert.Equal(6, Rows(md, "| Metric |").Count);
    }

    [Fact]
    public void Guardrail_table_sets_the_harm_bound_against_the_margin()
    {
        var md = Render();
        Assert.Contains("| Page load time (ms) (`latency`) | `one_page` | increase | +1.20% | +3.00% | +5.00% | 0.0002 | passed (non-inferior) |", md);
        Assert.Contains("| Page load time (ms) (`latency`) | `express` | increase | +9.40% | +12.20% | +5.00% | 0.9999 | **breached** |", md);
    }

    [Fact]
    public void Power_population_and_data_quality_carry_their_figures()
    {
        var md = Render();
        Assert.Contains("| `conversion` | 5.0% | 31,000 | 9,987 | 6.4% | ~31 more day(s) |", md);
        Assert.Contains("| `control` (control) | 1 | 33.3% | 10,012 | 33.37% |", md);
        Assert.Contains("| `express` | 1 | 33.3% | 10,003 | 33.34% |", md);
        Assert.Contains("Sample ratio: **clean** (chi-square 0.0312, p = 0.9850, threshold 0.001).", md);
        Assert.Contains("- Units exposed to more than one variant (excluded): 37\n", md);
        Assert.Contains("- Units exposed to an undeclared variant (excluded): 4\n", md);
        Assert.Contains("- 37 unit(s) saw more than one variant and were excluded from the analysis\n", md);
        Assert.Contains("- Pre-exposure balance: 2 CUPED covariate(s) balanced (lowest p = 0.6600)", md);
    }

    [Fact]
    public void Text_forest_plot_has_one_row_per_metric_and_variant()
    {
        var md = Render();
        var plot = Regex.Match(md, "```text\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var rows = plot.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal) && l.Contains('o')).Where(l => l.Contains('[') || l.Contains('|')).ToList();
        Assert.Equal(6, rows.Count(l => l.Contains(" / one_page") || l.Contains(" / express")));
        Assert.Contains(plot.Split('\n'), l => l.Contains("Checkout conversion / one_page") && l.TrimEnd().EndsWith("better", StringComparison.Ordinal));
        Assert.Contains(plot.Split('\n'), l => l.Contains("Page load time (ms) / express") && l.Contains(':') && l.TrimEnd().EndsWith("WORSE", StringComparison.Ordinal));
        Assert.Contains("GUARDRAILS", plot);
    }

    [Fact]
    public void Yaml_text_is_html_and_markdown_escaped()
    {
        var readout = ReportSamples.Readout(name: "A & B <b>bold</b> | v2", hypothesis: ReportSamples.Hostile, conversionLabel: "Conv | rate <i>");
        var md = ReadoutMarkdown.Render(readout, ReportSamples.Definition(owner: "team <x> & | y"));

        Assert.DoesNotContain("<script>", md);
        Assert.DoesNotContain("<b>", md);
        // Inside the fenced text plot raw text is literal (and safe); everywhere else it is escaped.
        Assert.DoesNotContain("<i>", Regex.Replace(md, "```text\n.*?```", "", RegexOptions.Singleline));
        Assert.Contains("- **Hypothesis:** Users &lt;script&gt;alert('x')&lt;/script&gt; &amp; friends \\| pipes\n", md);
        Assert.Contains("# Experiment readout: A &amp; B &lt;b&gt;bold&lt;/b&gt; \\| v2\n", md);
        Assert.Contains("- **Owner:** team &lt;x&gt; &amp; \\| y\n", md);
        Assert.Contains("| Conv \\| rate &lt;i&gt; (`conversion`, CUPED) | primary |", md);
        AssertTablesAreWellFormed(md);
    }

    [Fact]
    public void Every_table_row_has_as_many_cells_as_its_header()
    {
        AssertTablesAreWellFormed(Render());
    }

    [Fact]
    public void Same_readout_gives_the_same_bytes_whatever_the_culture()
    {
        var first = Render();
        var again = ReadoutMarkdown.Render(ReportSamples.Readout(), ReportSamples.Definition());
        Assert.Equal(first, again);

        var previous = CultureInfo.CurrentCulture;
        var odd = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        odd.NumberFormat.NumberDecimalSeparator = ",";
        odd.NumberFormat.NumberGroupSeparator = ".";
        odd.NumberFormat.NegativeSign = "\u2212";
        odd.NumberFormat.PercentSymbol = "pct";
        try
        {
            CultureInfo.CurrentCulture = odd;
            Assert.Equal(first, Render());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Without_the_definition_the_owner_and_margins_are_marked_missing()
    {
        var md = ReadoutMarkdown.Render(ReportSamples.Readout(), experiment: null);
        Assert.Contains("- **Owner:** _not stated_\n", md);
        Assert.Contains("| Page load time (ms) (`latency`) | `express` | n/a | +9.40% | +12.20% | n/a | 0.9999 | **breached** |", md);
        AssertTablesAreWellFormed(md);
    }

    /// <summary>GFM splits a row on every pipe not escaped by a backslash.</summary>
    private static int Cells(string row) => Regex.Matches(row, @"(?<!\\)\|").Count - 1;

    private static List<string> Rows(string md, string headerStart)
    {
        var lines = md.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith(headerStart, StringComparison.Ordinal));
        Assert.True(start >= 0, $"no table starting `{headerStart}`");
        return lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|')).ToList();
    }

    private static void AssertTablesAreWellFormed(string md)
    {
        var outsidePlot = Regex.Replace(md, "```text\n.*?```", "", RegexOptions.Singleline);
        var lines = outsidePlot.Split('\n');
        var tables = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith('|') || (i > 0 && lines[i - 1].StartsWith('|')))
                continue;
            tables++;
            var width = Cells(lines[i]);
            Assert.Matches(@"^\|( -{3,} \|| -{3,}: \|)+$", lines[i + 1]);
            Assert.Equal(width, Cells(lines[i + 1]));
            for (var j = i + 2; j < lines.Length && lines[j].StartsWith('|'); j++)
                Assert.True(Cells(lines[j]) == width, $"row has {Cells(lines[j])} cells, header {width}: {lines[j]}");
        }

        Assert.True(tables >= 5, $"expected at least 5 tables, found {tables}");
    }
}
