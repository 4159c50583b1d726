using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;

namespace MetricCompiler.Compiler.Tests.Loading;

/// <summary>
/// Input a hostile or careless user writes: each case once threw out of the loader (or hung, or read outside the
/// project); each must now end in a located diagnostic with a stable code.
/// </summary>
public sealed class HostileInputTests
{
    private static Diagnostic SingleError(LoadResult result, string code)
    {
        Assert.False(result.Succeeded);
        var errors = result.Diagnostics.Where(d => d.Code == code).ToList();
        Assert.True(errors.Count > 0, $"expected {code}, got:\n" + string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var error = errors[0];
        Assert.True(error.Location.Line > 0, error.Format());
        Assert.False(string.IsNullOrEmpty(error.Location.File));
        return error;
    }

    [Theory]
    [InlineData("version: 1\nsources:\n  - {name: events, table")]
    [InlineData("version: 1\nsources:\n  - {name: events, table: raw_events\n  - {name: b")]
    [InlineData("version: 1\nmetrics:\n  - {name: x, agg: count, source: e\n")]
    public void Truncated_flow_mapping_in_a_block_list_is_a_yaml_syntax_error(string text)
    {
        using var project = new TempProject(("metrics.yml", text));
        var error = SingleError(project.Load(), "MC1001");
        Assert.Equal("metrics.yml", error.Location.File);
    }

    [Fact]
    public void Non_scalar_target_name_is_a_shape_error()
    {
        using var project = new TempProject(("metrics.yml", "version: 1\ntargets:\n  [a, b]: {adapter: sqlite}\n"));
        var error = SingleError(project.Load(), "MC1003");
        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void Non_scalar_target_setting_key_is_a_shape_error()
    {
        using var project = new TempProject(("metrics.yml", "version: 1\ntargets:\n  dev:\n    adapter: sqlite\n    {x: 1}: y\n"));
        var error = SingleError(project.Load(), "MC1003");
        Assert.Equal(5, error.Location.Line);
    }

    [Theory]
    [InlineData("lookback_days: 14", "lookback_days: 2147483647")]
    [InlineData("lookback_days: 14", "lookback_days: 100000")]
    [InlineData("end: 2026-01-18", "end: 9999-12-31")]
    [InlineData("start: 2026-01-05", "start: 0001-01-01")]
    public void Values_at_the_edge_of_their_type_are_out_of_range(string from, string to)
    {
        var text = Fixtures.Project.Replace("    start: 2026-01-05", "    analysis:\n      cuped: {lookback_days: 14}\n    start: 2026-01-05").Replace(from, to);
        Assert.Contains(to, text);
        using var project = new TempProject(("metrics.yml", text));
        var error = SingleError(project.Load(), "MC3004");
        var line = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml")).ToList().FindIndex(l => l.Contains(to)) + 1;
        Assert.Equal(line, error.Location.Line);
    }

    [Fact]
    public void A_very_long_metric_name_is_an_invalid_name()
    {
        var name = new string('a', 10_000);
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("name: purchases\n", $"name: {name}\n").Replace("metric: purchases", $"metric: {name}").Replace("denominator: purchases", $"denominator: {name}")));
        var error = SingleError(project.Load(), "MC1009");
        Assert.Contains("characters", error.Message);
        Assert.True(error.Format().Length < 400, "the message must not repeat a 10,000-character name");
    }

    [Fact]
    public void An_experiment_id_whose_tables_would_pass_the_identifier_limit_is_an_invalid_name()
    {
        var id = new string('e', 30);
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("id: checkout", $"id: {id}")));
        SingleError(project.Load(), "MC1009");
        using var fits = new TempProject(("metrics.yml", Fixtures.Project.Replace("id: checkout", $"id: {new string('e', 29)}")));
        Assert.True(fits.Load().Succeeded);
    }
}

/// <summary>Input built to make the loader hang, exhaust memory or read outside the project.</summary>
public sealed class DenialOfServiceTests
{
    private static string Include(string pattern) => Fixtures.Project.Replace("name: shop\n", $"name: shop\ninclude:\n  - {pattern}\n");

    private static Diagnostic Error(LoadResult result, string code)
    {
        Assert.False(result.Succeeded);
        var error = result.Diagnostics.FirstOrDefault(d => d.Code == code);
        Assert.True(error is not null, $"expected {code}, got:\n" + string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        Assert.True(error!.Location.Line > 0, error.Format());
        return error;
    }

    /// <summary>Ten levels of nine aliases: about a kilobyte that stands for 9^10 nodes, here used as a mapping key.</summary>
    public static string AliasBomb(int levels = 10)
    {
        var text = new System.Text.StringBuilder("version: 1\nbomb:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < levels; i++)
            text.Append($"  l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]\n");
        text.Append($"  ? *l{levels - 1}\n  : boom\n");
        return text.ToString();
    }

    [Fact]
    public void An_alias_bomb_stops_at_the_node_limit_with_a_located_error()
    {
        using var project = new TempProject(("metrics.yml", AliasBomb()));
        var error = Error(project.Load(), "MC1012");
        Assert.Contains("aliases", error.Message);
        Assert.InRange(error.Location.Line, 3, 13);
    }

    [Fact]
    public void A_few_aliases_are_still_fine()
    {
        var text = Fixtures.Project.Replace("{name: control, weight: 0.5, control: true}", "&c {name: control, weight: 0.5, control: true}");
        using var project = new TempProject(("metrics.yml", text));
        Assert.True(project.Load().Succeeded);
    }

    [Fact]
    public void Deep_nesting_stops_at_the_depth_limit()
    {
        using var project = new TempProject(("metrics.yml", "version: 1\nsources: " + new string('[', 100_000) + new string(']', 100_000) + "\n"));
        var error = Error(project.Load(), "MC1012");
        Assert.Contains("nests deeper", error.Message);
    }

    [Fact]
    public void An_include_that_is_a_fifo_is_refused_without_blocking()
    {
        if (!OperatingSystem.IsLinux())
            return;
        using var project = new TempProject(("metrics.yml", Include("models/pipe.yml")));
        Directory.CreateDirectory(Path.Combine(project.Root, "models"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(project.Root, "models", "pipe.yml")))
            mkfifo.WaitForExit();
        var error = Error(project.Load(), "MC1010");
        Assert.Contains("FIFO", error.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/etc/passwd")]
    public void An_include_symlinked_outside_the_project_is_refused(string target)
    {
        using var project = new TempProject(("metrics.yml", Include("models/*.yml")));
        Directory.CreateDirectory(Path.Combine(project.Root, "models"));
        File.CreateSymbolicLink(Path.Combine(project.Root, "models", "leak.yml"), target);
        var error = Error(project.Load(), "MC1010");
        Assert.Contains("outside the project folder", error.Message);
        Assert.Equal("models/leak.yml", error.Location.File);
    }

    [Fact]
    public void An_include_through_a_symlinked_folder_outside_the_project_is_refused()
    {
        using var outside = new TempProject(("other.yml", "metrics: []\n"));
        using var project = new TempProject(("metrics.yml", Include("shared/*.yml")));
        Directory.CreateSymbolicLink(Path.Combine(project.Root, "shared"), outside.Root);
        Error(project.Load(), "MC1010");
    }

    [Fact]
    public void A_symlink_inside_the_project_is_followed()
    {
        using var project = new TempProject(("metrics.yml", Include("models/*.yml")), ("real/extra.yml", "metrics:\n  - {name: visits, source: events, agg: count}\n"));
        Directory.CreateDirectory(Path.Combine(project.Root, "models"));
        File.CreateSymbolicLink(Path.Combine(project.Root, "models", "extra.yml"), Path.Combine(project.Root, "real", "extra.yml"));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        Assert.NotNull(result.Project!.FindMetric("visits"));
    }

    [Fact]
    public void A_folder_symlink_loop_ends()
    {
        using var project = new TempProject(("metrics.yml", Include("\"**/*.yml\"")), ("models/a.yml", "metrics:\n  - {name: visits, source: events, agg: count}\n"));
        Directory.CreateSymbolicLink(Path.Combine(project.Root, "models", "loop"), Path.Combine(project.Root, "models"));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        Assert.Single(result.Project!.Metrics, m => m.Name == "visits");
    }

    [Theory]
    [InlineData("../shared/*.yml")]
    [InlineData("/etc/*.yml")]
    public void An_include_pattern_that_leaves_the_project_is_an_error(string pattern)
    {
        using var project = new TempProject(("metrics.yml", Include(pattern)));
        var error = Error(project.Load(), "MC1010");
        Assert.Equal(4, error.Location.Line);
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_located_at_its_first_bad_byte()
    {
        using var project = new TempProject(("metrics.yml", Include("models/latin1.yml")));
        Directory.CreateDirectory(Path.Combine(project.Root, "models"));
        File.WriteAllBytes(Path.Combine(project.Root, "models", "latin1.yml"), [.. "metrics:\n  - name: caf"u8, 0xE9, .. "\n"u8]);
        var error = Error(project.Load(), "MC1011");
        Assert.Equal(new SourceLocation("models/latin1.yml", 2, 14), error.Location);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        using var project = new TempProject();
        File.WriteAllBytes(Path.Combine(project.Root, "metrics.yml"), [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(Fixtures.Project)]);
        Assert.True(project.Load().Succeeded);
    }
}

/// <summary>Places where docs/spec.md and docs/diagnostics.md once disagreed with the loader.</summary>
public sealed class DocumentedBoundsTests
{
    [Theory]
    [InlineData("margin: 0.1", "margin: 0")]
    [InlineData("margin: 0.1", "margin: -0.05")]
    public void A_guardrail_margin_that_is_not_positive_is_out_of_range(string from, string to)
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace(from, to)));
        var result = project.Load();
        Assert.Contains(result.Diagnostics, d => d.Code == "MC3004" && d.Message.Contains("margin must be positive"));
        var docs = File.ReadAllText(Path.Combine(TempProject.RepositoryRoot(), "docs", "diagnostics.md"));
        Assert.DoesNotContain("margin` of 0 passes validation", docs);
        Assert.Contains("`margin: 0` too", docs);
    }

    [Fact]
    public void The_spec_says_parent_includes_are_refused()
    {
        var spec = File.ReadAllText(Path.Combine(TempProject.RepositoryRoot(), "docs", "spec.md"));
        Assert.Contains("(`../shared/*.yml`) is an error (`MC1010`)", spec);
    }
}
