using System.Text.Json;
using System.Text.RegularExpressions;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Reports;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>The demo project seeded and run once, shared by the tests that read its readouts.</summary>
public sealed class DemoRunFixture : IDisposable
{
    public DemoRunFixture()
    {
        DemoCopy.To(Root);
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["seed", "--project-dir", Root], new StringWriter(), error) == 0, error.ToString());
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(Root));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Readouts = outcome.Readouts;
        var load = ProjectLoader.Load(Root);
        Assert.True(load.Succeeded);
        Project = load.Project!;
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "metricc-demo-reports", Guid.NewGuid().ToString("N"));

    public IReadOnlyList<ExperimentReadout> Readouts { get; }

    public ProjectDefinition Project { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The demo run, shared by every test class that reads its artifacts (readouts and the docs site).</summary>
[CollectionDefinition(Name)]
public sealed class DemoRunCollection : ICollectionFixture<DemoRunFixture>
{
    public const string Name = "demo run";
}

/// <summary>
/// The readouts of a real demo run: written next to the JSON by <c>metricc run</c>, and the HTML rendered by headless
/// Chromium. Screenshots (and the HTML and Markdown they show) are kept under the test output folder, <c>artifacts/readouts/</c>.
/// </summary>
[Collection(DemoRunCollection.Name)]
public sealed class DemoReadoutReportTests(DemoRunFixture demo)
{
    /// <summary>tests/MetricCompiler.Integration.Tests/bin/&lt;configuration&gt;/net10.0/artifacts/readouts</summary>
    public static string ArtifactFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "readouts");

    [Fact]
    public void Run_writes_markdown_and_html_next_to_the_json()
    {
        foreach (var readout in demo.Readouts)
        {
            var id = readout.ExperimentId;
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(demo.Root, "target", "results", $"{id}.json")));
            var decision = json.RootElement.GetProperty("decision").GetString()!.ToUpperInvariant().Replace('_', '-');
            var md = File.ReadAllText(Path.Combine(demo.Root, "target", "readouts", $"{id}.md"));
            var html = File.ReadAllText(Path.Combine(demo.Root, "target", "readouts", $"{id}.html"));

            Assert.Contains($"## Decision: {decision}\n", md);
            Assert.Contains($"<strong>{decision}</strong>", html);
            foreach (var metric in json.RootElement.GetProperty("metrics").EnumerateArray())
            {
                var lift = metric.GetProperty("relative_lift").GetDouble();
                var cell = (lift >= 0 ? "+" : "") + (lift * 100).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "%";
                Assert.Contains(cell, md);
                Assert.Contains($"data-metric=\"{metric.GetProperty("metric").GetString()}\" data-variant=\"{metric.GetProperty("variant").GetString()}\"", html);
            }
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(demo.Root, "target"), "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(
            demo.Readouts.SelectMany(r => new[] { $"{r.ExperimentId}.html", $"{r.ExperimentId}.md" }).Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(demo.Root, "target", "readouts")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("homepage_cta", "SHIP")]
    [InlineData("onboarding_flow", "NO-SHIP")]
    public void Html_readout_renders_in_headless_chromium(string experimentId, string decision)
    {
        var readout = demo.Readouts.Single(r => r.ExperimentId == experimentId);
        var definition = demo.Project.FindExperiment(experimentId)!;
        Directory.CreateDirectory(ArtifactFolder);
        var page = Path.Combine(ArtifactFolder, $"{experimentId}.html");
        // The files the run wrote (with the project's time zone), kept next to their screenshots.
        File.Copy(Path.Combine(demo.Root, "target", "readouts", $"{experimentId}.html"), page, overwrite: true);
        File.Copy(Path.Combine(demo.Root, "target", "readouts", $"{experimentId}.md"), Path.ChangeExtension(page, ".md"), overwrite: true);

        var dom = HeadlessChromium.DumpDom(page);
        AssertEveryReadoutItem(dom, readout, ProjectLoader.Load(demo.Root).Bound!.Time.ZoneId, demo.Root);

        Assert.Matches(new Regex($"<section class=\"decision [a-z-]+\" id=\"decision\">\\s*<p class=\"verdict\"><span class=\"label\">Decision</span> <strong>{decision}</strong>"), dom);
        Assert.Contains(definition.Owner!, dom);
        var svg = Regex.Match(dom, "<svg .*?</svg>", RegexOptions.Singleline);
        Assert.True(svg.Success, "no <svg> in the rendered page");
        Assert.Equal(readout.Metrics.Count(m => m.Comparison.RelativeLift is not null), Regex.Matches(svg.Value, "<g class=\"interval\"").Count);
        Assert.Equal(definition.Guardrails.Count * (definition.Variants.Count - 1), Regex.Matches(svg.Value, "<line class=\"margin\"").Count);
        foreach (var metric in readout.Metrics)
        {
            Assert.Contains($">{System.Net.WebUtility.HtmlEncode(metric.Label)}<", svg.Value);
            Assert.Contains($"<span class=\"metric-label\">{System.Net.WebUtility.HtmlEncode(metric.Label)}</span>", dom);
        }

        var png = Path.Combine(ArtifactFolder, $"{experimentId}.png");
        HeadlessChromium.Screenshot(page, png, height: 3000);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 20_000, $"screenshot {png} is suspiciously small ({bytes.Length} bytes)");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
        // IHDR: width and height, big-endian, right after the signature and chunk header.
        Assert.Equal(1280, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
    }

    /// <summary>
    /// What issue 11 lists for every readout, as the browser shows it: hypothesis, owner, dates, population and time
    /// zone; SRM status and data quality; the guardrail table, the decision and its reasons; power and days to the MDE.
    /// (The forest plot is asserted by the caller.)
    /// </summary>
    private static void AssertEveryReadoutItem(string dom, ExperimentReadout readout, string timeZone, string projectRoot)
    {
        static string Text(string text) => Regex.Replace(text, "\\s+", " ").Trim().Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
        static string Count(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        string Section(string id) => Regex.Match(dom, $"<section[^>]* id=\"{id}\">.*?</section>", RegexOptions.Singleline) is { Success: true } m
            ? m.Value
            : throw new Xunit.Sdk.XunitException($"no section `{id}` in the rendered readout");

        Assert.Contains($"<dt>Hypothesis</dt><dd>{Text(readout.Hypothesis!)}</dd>", dom);
        Assert.Contains($"<dt>Dates</dt><dd>{readout.Start:yyyy-MM-dd} .. {readout.End:yyyy-MM-dd} ({readout.End.DayNumber - readout.Start.DayNumber + 1} days)</dd>", dom);
        Assert.Contains($"<dt>Time zone</dt><dd>{Text(timeZone)}</dd>", dom);

        var decision = Section("decision");
        Assert.NotEmpty(readout.Reasons);
        foreach (var reason in readout.Reasons)
            Assert.Contains($"<li>{Regex.Replace(Text(reason), "`([^`]*)`", "<code>$1</code>")}</li>", decision);

        var population = Section("population");
        foreach (var (variant, units) in readout.Srm.Counts)
            Assert.Matches($"<tr><td><code>{variant}</code>[^<]*</td>(<td class=\"num\">[^<]*</td>){{2}}<td class=\"num\">{Count(units)}</td>", population);
        Assert.Matches($"Sample ratio: <span class=\"pill [a-z-]+\">{(readout.Srm.Result!.Mismatch ? "MISMATCH" : "clean")}</span> chi-square", population);

        if (readout.Assignment is { } audit)
        {
            // The audit's prose is generated: its `code` spans render as <code>, no backtick is left on the page.
            Assert.Contains("<p class=\"audit\">Assignment audit: ", population);
            Assert.DoesNotContain("`", population);
            Assert.NotEmpty(audit.LikelyCauses);
            foreach (var cause in audit.LikelyCauses)
                Assert.Contains($"<li>Likely cause: {Regex.Replace(Text(cause), "`([^`]*)`", "<code>$1</code>")}</li>", population);
        }

        var quality = Section("data-quality");
        Assert.Contains($"Units exposed to more than one variant (excluded): <strong>{Count(readout.Srm.MultipleVariantUnits)}</strong>", quality);
        Assert.Contains($"Units exposed to an undeclared variant (excluded): <strong>{Count(readout.Srm.UndeclaredVariantUnits)}</strong>", quality);
        // What staging dropped from the raw events (run_results.json's counts) is in the readout's data-quality section.
        using (var runResults = JsonDocument.Parse(File.ReadAllText(Path.Combine(projectRoot, "target", "run_results.json"))))
        {
            var staging = runResults.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("node").GetString() == "stg_events");
            var dropped = staging.GetProperty("dropped").EnumerateObject().Where(d => d.Value.GetInt64() > 0).ToList();
            Assert.NotEmpty(dropped);
            var line = Regex.Match(quality, "<li>Staging <code>stg_events</code>: dropped from raw rows: ([^;]*);").Groups[1].Value;
            foreach (var d in dropped)
                Assert.Contains($"{Count(d.Value.GetInt64())} {d.Name.Replace('_', ' ')}", line);
        }

        var guardrails = Section("guardrails");
        var expected = readout.Metrics.Where(m => m.Guardrail is not null).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, Regex.Matches(guardrails, "<tr class=\"guardrail\"").Count);
        foreach (var m in expected)
            Assert.Contains($"<tr class=\"guardrail\" data-metric=\"{m.Metric}\" data-variant=\"{m.Comparison.Variant}\" data-status=\"{m.Guardrail!.Status}\">", guardrails);

        var power = Section("power");
        Assert.NotEmpty(readout.Power);
        foreach (var p in readout.Power)
        {
            var days = p.AdditionalDays switch
            {
                null => "n/a",
                <= 0 => "reached",
                { } d => $"~{Math.Ceiling(d).ToString("0", System.Globalization.CultureInfo.InvariantCulture)} more day(s)",
            };
            Assert.Matches($"<tr><td><code>{p.Metric}</code></td>.*<td class=\"num\">{Count(p.RequiredPerVariant)}</td><td class=\"num\">{Count(p.ObservedPerVariant)}</td>.*<td class=\"num\">{Regex.Escape(days)}</td></tr>", power);
        }
    }

    [Fact]
    public void Hostile_yaml_text_stays_text_in_the_browser_and_three_variants_fit()
    {
        var readout = ReportSamples.Readout(name: "Checkout <b>redesign</b> & co", hypothesis: ReportSamples.Hostile);
        Directory.CreateDirectory(ArtifactFolder);
        var page = Path.Combine(ArtifactFolder, "checkout_redesign_sample.html");
        File.WriteAllText(page, ReadoutHtml.Render(readout, ReportSamples.Definition(owner: "team <i>x</i> & y")));
        File.WriteAllText(Path.ChangeExtension(page, ".md"), ReadoutMarkdown.Render(readout, ReportSamples.Definition(owner: "team <i>x</i> & y")));

        var dom = HeadlessChromium.DumpDom(page);

        Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", dom);
        Assert.DoesNotContain("<i>", dom);
        Assert.Contains("<h1>Checkout &lt;b&gt;redesign&lt;/b&gt; &amp; co</h1>", dom);
        Assert.Contains("Users &lt;script&gt;alert('x')&lt;/script&gt; &amp; friends | pipes", dom);
        Assert.Contains("team &lt;i&gt;x&lt;/i&gt; &amp; y", dom);
        Assert.Equal(6, Regex.Matches(dom, "<g class=\"interval\"").Count);
        HeadlessChromium.Screenshot(page, Path.Combine(ArtifactFolder, "checkout_redesign_sample.png"));
    }
}
