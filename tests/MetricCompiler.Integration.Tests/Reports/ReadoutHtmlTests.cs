using System.Text.RegularExpressions;
using System.Xml.Linq;
using MetricCompiler.Execution.Artifacts;
using MetricCompiler.Execution.Reports;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>The HTML readout from fixed records: self-contained, escaped, complete and deterministic.</summary>
public sealed class ReadoutHtmlTests : IDisposable
{
    private readonly string _target = Path.Combine(Path.GetTempPath(), "metricc-reports", Guid.NewGuid().ToString("N"));

    private static string Render(string timeZone = "UTC") => ReadoutHtml.Render(ReportSamples.Readout(), ReportSamples.Definition(), timeZone);

    [Fact]
    public void Is_one_self_contained_file()
    {
        var html = Render();
        Assert.StartsWith("<!DOCTYPE html>\n", html);
        Assert.EndsWith("</html>\n", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"\s(src|href)\s*=", html);
        // The only URL is the SVG namespace name, which is never fetched.
        Assert.Equal(["http://www.w3.org/2000/svg"], Regex.Matches(html, @"https?://[^""'\s<>]+").Select(m => m.Value).Distinct());
        Assert.Contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"", html);
        Assert.Contains("<style>", html);
    }

    [Fact]
    public void Contains_every_section_and_figure()
    {
        var html = Render("Europe/Paris");
        Assert.Contains("<h1>Checkout redesign</h1>", html);
        Assert.Contains("<code>checkout_redesign</code> &#183; 2026-02-02 .. 2026-02-15 (Europe/Paris)", html);
        Assert.Contains("<dt>Owner</dt><dd>checkout-team (DRI kim.ng)</dd>", html);
        Assert.Contains("<dt>Time zone</dt><dd>Europe/Paris</dd>", html);
        Assert.Contains("<dt>Dates</dt><dd>2026-02-02 .. 2026-02-15 (14 days)</dd>", html);
        Assert.Contains("<section class=\"decision ship\" id=\"decision\">", html);
        Assert.Contains("<strong>SHIP</strong>", html);
        Assert.Contains("<li>ship <code>one_page</code></li>", html);
        foreach (var id in new[] { "lift", "metrics", "guardrails", "power", "population", "data-quality" })
            Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Single(Regex.Matches(html, "<svg "));
        Assert.Equal(6, Regex.Matches(html, "<g class=\"interval\"").Count);
        Assert.Equal(6, Regex.Matches(html, "<tr class=\"metric\"").Count);
        Assert.Equal(2, Regex.Matches(html, "<tr class=\"guardrail\"").Count);
        Assert.Contains("<td class=\"num lift better\">+6.20%</td><td class=\"num\">[+2.10%, +10.30%]</td><td class=\"num\">0.0030</td><td class=\"num\">0.0060</td>", html);
        Assert.Contains("<td class=\"num\">+12.20%</td><td class=\"num\">+5.00%</td><td class=\"num\">0.9999</td><td><span class=\"pill worse\">breached</span>", html);
        Assert.Contains("<td class=\"num\">31,000</td><td class=\"num\">9,987</td><td class=\"num\">6.4%</td><td class=\"num\">~31 more day(s)</td>", html);
        Assert.Contains("<span class=\"pill better\">clean</span> chi-square 0.0312, p = 0.9850 (threshold 0.001)", html);
        Assert.Contains("Units exposed to more than one variant (excluded): <strong>37</strong>", html);
        Assert.Contains("Units exposed to an undeclared variant (excluded): <strong>4</strong>", html);
        Assert.Contains("<li>4 unit(s) were exposed to a variant not declared in the YAML and were excluded</li>", html);
    }

    [Fact]
    public void Yaml_text_is_html_escaped()
    {
        var readout = ReportSamples.Readout(name: "A & B <b>bold</b>", hypothesis: ReportSamples.Hostile, conversionLabel: "Conv <i>rate</i> & co");
        var html = ReadoutHtml.Render(readout, ReportSamples.Definition(owner: "team <x> & \"y\""), "<tz>");

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<i>", html);
        Assert.DoesNotContain("<x>", html);
        Assert.DoesNotContain("<tz>", html);
        Assert.Contains("<dd>Users &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends | pipes</dd>", html);
        Assert.Contains("<h1>A &amp; B &lt;b&gt;bold&lt;/b&gt;</h1>", html);
        Assert.Contains("<title>A &amp; B &lt;b&gt;bold&lt;/b&gt; (checkout_redesign): SHIP</title>", html);
        Assert.Contains("<dd>team &lt;x&gt; &amp; &quot;y&quot;</dd>", html);
        Assert.Contains("<span class=\"metric-label\">Conv &lt;i&gt;rate&lt;/i&gt; &amp; co</span>", html);
        // The embedded plot is still well-formed XML with the hostile label in it.
        var svg = XElement.Parse(Regex.Match(html, "<svg .*?</svg>", RegexOptions.Singleline).Value);
        Assert.Contains(svg.Descendants().Where(e => (string?)e.Attribute("class") == "label"), l => l.Value.StartsWith("Conv <i>rate</i> & co", StringComparison.Ordinal));
    }

    [Fact]
    public void Same_readout_gives_the_same_bytes()
    {
        Assert.Equal(Render(), Render());
        Assert.Equal(Render(), ReadoutHtml.Render(ReportSamples.Readout(), ReportSamples.Definition()));
    }

    [Fact]
    public void Decision_styles_follow_the_decision()
    {
        var readout = ReportSamples.Readout();
        Assert.Contains("<section class=\"decision no-ship\"", ReadoutHtml.Render(readout with { Decision = Execution.Readout.Decision.NoShip }, null));
        var inconclusive = ReadoutHtml.Render(readout with { Decision = Execution.Readout.Decision.Inconclusive }, null);
        Assert.Contains("<section class=\"decision inconclusive\"", inconclusive);
        Assert.Contains("<strong>INCONCLUSIVE</strong>", inconclusive);
    }

    [Fact]
    public void Artifact_writer_puts_both_readouts_next_to_the_json_atomically()
    {
        var writer = new ArtifactWriter(_target);
        var readout = ReportSamples.Readout();
        var analysedAt = new DateTime(2026, 2, 16, 8, 0, 0, DateTimeKind.Utc);

        var json = writer.WriteReadout(readout, analysedAt, ReportSamples.Definition(), "Europe/Paris");

        Assert.Equal(Path.Combine(_target, "results", "checkout_redesign.json"), json);
        Assert.Equal(ReadoutJson.Serialize(readout, analysedAt), File.ReadAllText(json));
        var folder = Path.Combine(_target, "readouts");
        Assert.Equal(ReadoutMarkdown.Render(readout, ReportSamples.Definition(), "Europe/Paris"), File.ReadAllText(Path.Combine(folder, "checkout_redesign.md")));
        Assert.Equal(ReadoutHtml.Render(readout, ReportSamples.Definition(), "Europe/Paris"), File.ReadAllText(Path.Combine(folder, "checkout_redesign.html")));
        Assert.Equal(["checkout_redesign.html", "checkout_redesign.md"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(_target, "*.tmp", SearchOption.AllDirectories));

        // Rewritten in place; without a definition (and time zone) the defaults apply.
        writer.WriteReadout(readout, analysedAt);
        Assert.Contains("- **Time zone:** UTC\n", File.ReadAllText(Path.Combine(folder, "checkout_redesign.md")));
        Assert.Contains("<dt>Owner</dt><dd><em>not stated</em></dd>", File.ReadAllText(Path.Combine(folder, "checkout_redesign.html")));
        Assert.Empty(Directory.GetFiles(_target, "*.tmp", SearchOption.AllDirectories));
    }

    public void Dispose()
    {
        if (Directory.Exists(_target))
            Directory.Delete(_target, recursive: true);
    }
}
