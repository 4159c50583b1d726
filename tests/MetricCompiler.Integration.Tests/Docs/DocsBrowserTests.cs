using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Integration.Tests.Reports;

namespace MetricCompiler.Integration.Tests.Docs;

/// <summary>
/// The docs site of a real demo run (its readouts included) in headless Chromium: from <c>file://</c> URLs, and through
/// <c>metricc docs serve</c> run as its own process and stopped with Ctrl-C (SIGINT). Screenshots are kept under the
/// test output folder, <c>artifacts/docs/</c>.
/// </summary>
[Collection(DemoRunCollection.Name)]
public sealed class DocsBrowserTests(DemoRunFixture demo)
{
    public static string ArtifactFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "docs");

    private string Site => Path.Combine(demo.Root, "target", "docs");

    private void Generate()
    {
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["docs", "generate", "--project-dir", demo.Root], new StringWriter(), error) == 0, error.ToString());
    }

    [Fact]
    public void Site_renders_from_file_urls_with_search_readouts_and_lineage()
    {
        Generate();
        var root = new Uri(Path.Combine(Site, "index.html")).AbsoluteUri[..^"index.html".Length];

        // Search: the script reads the query from the URL's fragment and lists what matches, best first.
        var dom = HeadlessChromium.DumpUrl(root + "search.html#q=purchase");
        var names = Regex.Matches(dom, "<li class=\"result\" data-kind=\"([a-z]+)\" data-name=\"([^\"]+)\">").Select(m => m.Groups[2].Value).ToList();
        var index = JsonDocument.Parse(Regex.Match(File.ReadAllText(Path.Combine(Site, "search.html")), "<script type=\"application/json\" id=\"search-index\">(.*?)</script>").Groups[1].Value);
        var expected = index.RootElement.EnumerateArray()
            .Where(e => string.Join(" ", new[] { "n", "t", "d", "o", "k" }.Select(k => e.GetProperty(k).GetString())).Contains("purchase", StringComparison.OrdinalIgnoreCase))
            .Select(e => e.GetProperty("n").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count >= 4, string.Join(", ", expected));
        Assert.Equal(expected, names.Order(StringComparer.Ordinal));
        Assert.Equal(["purchased", "purchases"], names.Take(2));
        Assert.Contains($"{expected.Count} results for \u201cpurchase\u201d", dom);
        Assert.Contains("<a href=\"metrics/purchased.html\">purchased</a>", dom);
        Assert.Contains("0 results for \u201cno_such_thing\u201d", HeadlessChromium.DumpUrl(root + "search.html#q=no_such_thing"));

        // Experiments: the latest readout, copied into the site so its links work without target/.
        foreach (var readout in demo.Readouts)
        {
            var id = readout.ExperimentId;
            Assert.Equal(File.ReadAllText(Path.Combine(demo.Root, "target", "readouts", $"{id}.html")), File.ReadAllText(Path.Combine(Site, "readouts", $"{id}.html")));
            var page = HeadlessChromium.DumpUrl(root + $"experiments/{id}.html");
            var decision = Execution.Readout.DecisionPolicy.Name(readout.Decision).ToUpperInvariant().Replace('_', '-');
            Assert.Contains($"<strong class=\"decision\">{decision}</strong>", page);
            Assert.Contains($"<a class=\"readout\" href=\"../readouts/{id}.html\">HTML</a>", page);
            Assert.Equal(readout.Metrics.Count, Regex.Matches(page, "<tr class=\"metric\" data-metric=").Count);
            Assert.DoesNotContain("Not run yet", page);
        }

        var experiments = HeadlessChromium.DumpUrl(root + "experiments.html");
        Assert.Matches("<td class=\"decision\">SHIP</td>", experiments);
        Assert.Matches("<td class=\"decision\">NO-SHIP</td>", experiments);

        // Lineage: a box per node of the DAG, drawn in the browser; screenshot kept to look at.
        var lineage = HeadlessChromium.DumpUrl(root + "lineage.html");
        var nodes = Regex.Matches(lineage, "<a class=\"node [a-z-]+\" href=\"[^\"]+\" data-id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains("node:experiment_results", nodes);
        Assert.Contains("metric:purchased", nodes);
        Assert.Contains("source:events", nodes);
        // Every box the generated file holds is in the rendered page (DocsSiteTests checks the file has one per node).
        var inFile = Regex.Matches(File.ReadAllText(Path.Combine(Site, "lineage.html")), "<a class=\"node [a-z-]+\" href=\"[^\"]+\" data-id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.True(inFile.Count > 40, $"{inFile.Count} boxes");
        Assert.Equal(inFile.Order(StringComparer.Ordinal), nodes.Order(StringComparer.Ordinal));
        var metric = HeadlessChromium.DumpUrl(root + "metrics/purchased.html");
        Assert.Contains("<h1>Purchase conversion</h1>", metric);
        Assert.Contains("<section id=\"sql\">", metric);

        Screenshot(root + "lineage.html", "lineage.png", 2400, 1300);
        Screenshot(root + "search.html#q=purchase", "search_purchase.png", 1280, 900);
    }

    [Fact]
    public async Task Docs_serve_serves_the_site_to_chromium_and_stops_on_ctrl_c()
    {
        Generate();
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "metricc.exe" : "metricc"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "docs", "serve", "--project-dir", demo.Root, "--port", "0" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var first = await process.StandardOutput.ReadLineAsync(wait.Token);
            var url = Regex.Match(first ?? "", "at (http://127\\.0\\.0\\.1:[1-9][0-9]*/) ").Groups[1].Value;
            Assert.True(url.Length > 0, $"no URL in `{first}`");

            using var http = new HttpClient { BaseAddress = new Uri(url) };
            Assert.Equal(File.ReadAllText(Path.Combine(Site, "metrics", "dau.html")), await http.GetStringAsync("metrics/dau.html"));
            var dom = HeadlessChromium.DumpUrl(url + "search.html#q=dau");
            Assert.Matches("<li class=\"result\" data-kind=\"metric\" data-name=\"dau\">", dom);
            Assert.Contains("<a href=\"metrics/dau.html\">dau</a>", dom);
            // The header's search box submits ?q= to the search page, which reads it as well.
            Assert.Matches("<li class=\"result\" data-kind=\"metric\" data-name=\"revenue\">", HeadlessChromium.DumpUrl(url + "search.html?q=revenue"));
            var lineage = HeadlessChromium.DumpUrl(url + "lineage.html");
            Assert.Equal(Regex.Matches(File.ReadAllText(Path.Combine(Site, "lineage.html")), "<a class=\"node ").Count, Regex.Matches(lineage, "<a class=\"node ").Count);
            Screenshot(url + "experiments/onboarding_flow.html", "served_onboarding_flow.png", 1280, 1300);

            using (var client = new System.Net.Sockets.TcpClient())
            {
                await client.ConnectAsync(new Uri(url).Host, new Uri(url).Port);
                var stream = client.GetStream();
                await stream.WriteAsync("GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
                var response = await new StreamReader(stream).ReadToEndAsync();
                Assert.StartsWith("HTTP/1.1 400 ", response);
            }

            // Ctrl-C is SIGINT. A process started from a background job inherits SIGINT ignored (the shell's rule for
            // jobs, which .NET keeps); then the only way to stop it, as from a terminal's kill, is SIGTERM.
            var signal = IgnoresInterrupt(process.Id) ? "-TERM" : "-INT";
            using (var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("stopped", await process.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Whether the process ignores SIGINT (bit 2 of the <c>SigIgn</c> mask in /proc).</summary>
    private static bool IgnoresInterrupt(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
            return false;
        var mask = Regex.Match(File.ReadAllText(status), @"SigIgn:\s*([0-9a-fA-F]+)").Groups[1].Value;
        return (Convert.ToUInt64(mask, 16) & 0x2) != 0;
    }

    private static void Screenshot(string url, string name, int width, int height)
    {
        var png = Path.Combine(ArtifactFolder, name);
        HeadlessChromium.ScreenshotUrl(url, png, width, height);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 20_000, $"screenshot {png} is suspiciously small ({bytes.Length} bytes)");
        Assert.Equal(width, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
    }
}
