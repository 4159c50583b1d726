using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// <c>metricc bench compile</c> runs on a small synthetic project (which must load without a diagnostic) and prints its
/// row, with the recompiles through the compile cache.
/// </summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_compile_prints_a_row_per_size()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["bench", "compile", "--metrics", "50,120", "--runs", "1"], output, error) == 0, error.ToString());
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("cached s", StringComparison.Ordinal) && l.Contains("1 edit s", StringComparison.Ordinal) && l.Contains("rerendered", StringComparison.Ordinal));
        var rows = lines.Where(l => l.TrimStart().StartsWith("50 ", StringComparison.Ordinal) || l.TrimStart().StartsWith("120 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(16, cells.Length);
            // the one-metric edit re-renders its source's staging and the nodes of the one experiment that analyses it
            Assert.Equal("5", cells[13]);
            Assert.True(double.Parse(cells[^1], System.Globalization.CultureInfo.InvariantCulture) > 0); // metricc compile ran as a child
        }

        Assert.Equal(2, CommandLine.Run(["bench", "compile", "--metrics", "5"], new StringWriter(), new StringWriter()));
    }
}

/// <summary>
/// <c>metricc bench run</c> at a tiny scale on SQLite: the table has the row with its ratios, the JSON parses and agrees
/// with it, the plot is written, and the build ran as a child process whose peak memory was read.
/// </summary>
public sealed class BenchRunCommandTests
{
    [Fact]
    public void Bench_run_prints_the_figures_and_ratios_and_writes_json_and_svg()
    {
        var root = Path.Combine(Path.GetTempPath(), "metricc-bench-run-test-" + Guid.NewGuid().ToString("N"));
        var output = new StringWriter();
        var error = new StringWriter();
        try
        {
            var exit = CommandLine.Run(["bench", "run", "--project-dir", DemoCopy.RepositoryRoot(), "--events", "3000", "--engines", "sqlite", "--repeat", "1", "--output", root], output, error);
            Assert.True(exit == 0, error.ToString() + output);
            var text = output.ToString();
            var row = Assert.Single(text.Split('\n'), l => l.StartsWith("sqlite ", StringComparison.Ordinal));
            var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(13, cells.Length);
            Assert.All(cells[^4..^1], c => Assert.EndsWith("x", c, StringComparison.Ordinal));
            Assert.EndsWith("%", cells[^1], StringComparison.Ordinal);
            Assert.Contains("build of the demo, sqlite", text, StringComparison.Ordinal); // the build's nodes, with their shares
            Assert.Contains("daily refresh of the demo, sqlite", text, StringComparison.Ordinal);

            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "bench-run.json")));
            var figures = Assert.Single(json.RootElement.GetProperty("rows").EnumerateArray());
            Assert.Equal("sqlite", figures.GetProperty("engine").GetString());
            Assert.InRange(figures.GetProperty("events").GetInt64(), 2_500, 3_500);
            var floor = figures.GetProperty("floor_seconds").GetDouble();
            var analysis = figures.GetProperty("analysis_seconds").GetDouble();
            Assert.True(floor > 0 && analysis > floor, $"floor {floor}, analysis {analysis}");
            Assert.Equal(analysis / floor, figures.GetProperty("analysis_over_floor").GetDouble(), 0.02 * analysis / floor); // the seconds are rounded to 1 µs
            Assert.Equal(figures.GetProperty("naive_seconds").GetDouble() / analysis, figures.GetProperty("naive_over_analysis").GetDouble(), 0.01);
            Assert.True(figures.GetProperty("analysis_full_staging_seconds").GetDouble() > floor);
            var build = figures.GetProperty("build_seconds").GetDouble();
            var refresh = figures.GetProperty("refresh_seconds").GetDouble();
            Assert.True(refresh > 0 && build > 0, $"build {build}, refresh {refresh}");
            Assert.Equal(refresh / build, figures.GetProperty("refresh_over_build").GetDouble(), 0.01);
            // The daily refresh staged incrementally: its nodes are the demo's, and the last day was delivered to it.
            var refreshed = figures.GetProperty("refresh_nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()).ToList();
            Assert.Contains("stg_events", refreshed);
            Assert.InRange(figures.GetProperty("build_peak_rss_bytes").GetInt64(), 20L << 20, 4L << 30); // a real .NET process's peak
            var nodes = figures.GetProperty("build_nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!, n => n.GetProperty("share").GetDouble());
            Assert.InRange(nodes.Values.Sum(), 0.95, 1.05);
            Assert.Contains("stg_events", nodes.Keys); // the demo's nodes, from the build's run_results.json
            Assert.Contains("exp_homepage_cta__unit_metrics", nodes.Keys);
            Assert.DoesNotContain("exp_bench_twenty__unit_metrics", nodes.Keys); // the build is of the demo alone
            var analysed = figures.GetProperty("analysis_nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()).ToList();
            Assert.Contains("exp_bench_twenty__unit_metrics", analysed);
            Assert.DoesNotContain("fct_dau", analysed); // the selection builds only what the experiment needs
            Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(root, "bench-run.svg")), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Seed_with_events_scales_the_demo_data()
    {
        var root = Path.Combine(Path.GetTempPath(), "metricc-seed-events-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            DemoCopy.To(root);
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.True(CommandLine.Run(["seed", "--project-dir", root, "--target", "sqlite", "--events", "5000"], output, error) == 0, error.ToString());
            var seeded = System.Text.RegularExpressions.Regex.Match(output.ToString(), @"Seeded (\d+) users, ([\d,]+) events");
            Assert.True(seeded.Success, output.ToString());
            Assert.Equal(DemoData.DemoDataOptions.ForEvents(5000).Users, int.Parse(seeded.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(long.Parse(seeded.Groups[2].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), 4_000, 6_000);
            Assert.Equal(2, CommandLine.Run(["seed", "--project-dir", root, "--target", "sqlite", "--events", "0"], new StringWriter(), new StringWriter()));
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Bench_run_refuses_bad_options()
    {
        Assert.Equal(2, CommandLine.Run(["bench", "run", "--events", "10"], new StringWriter(), new StringWriter()));
        Assert.Equal(2, CommandLine.Run(["bench", "run", "--engines", "oracle"], new StringWriter(), new StringWriter()));
        Assert.Equal(2, CommandLine.Run(["bench", "run", "--project-dir", Path.GetTempPath(), "--events", "3000", "--engines", "sqlite"], new StringWriter(), new StringWriter()));
    }
}
