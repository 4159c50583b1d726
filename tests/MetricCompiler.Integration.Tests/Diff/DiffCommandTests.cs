using System.Diagnostics;
using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests.Diff;

/// <summary>
/// <c>metricc diff --base REF</c> on a temporary git repository holding the demo project in a subfolder: the Markdown a
/// pull request gets for changed, added and removed metrics, and the located errors when there is nothing to compare.
/// </summary>
public sealed class DiffCommandTests : IDisposable
{
    private const string Commerce = "project_template/models/metrics/commerce.yml";
    private const string Engagement = "project_template/models/metrics/engagement.yml";
    private const string Reliability = "project_template/models/metrics/reliability.yml";
    private const string RevenueFilter = "    expr: revenue\n    filter: event_type = 'purchase'\n";

    private readonly string _repository = Path.Combine(Path.GetTempPath(), "metricc-diff-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The demo project lives in a subfolder, as in a repository that holds more than the metrics.</summary>
    private string Project => Path.Combine(_repository, "analytics");

    public DiffCommandTests()
    {
        DemoCopy.To(Project);
        Git("init", "-q");
        Commit("base");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_repository, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [Fact]
    public void Changed_added_and_removed_metrics_are_listed_with_sql_hunks_and_the_running_experiments_outlook()
    {
        Edit(Commerce, text => Replace(text, RevenueFilter, "    expr: revenue\n    filter: event_type = 'purchase' and revenue > 0\n") +
            "\n  - name: refunds\n    label: Refunds per user\n    source: events\n    agg: count\n    filter: event_type = 'refund'\n");
        Edit(Engagement, RemoveMetric("wau"));

        var (exit, markdown, err) = Diff("--as-of", "2026-01-13");

        Assert.True(exit == 0, err);
        Assert.Contains("**Nodes: 3 changed; metrics: 1 added, 1 removed, 2 changed; experiments: none.**", markdown);
        Assert.Contains("| metric `refunds` | added |", markdown);
        Assert.Contains("| metric `wau` | removed |", markdown);
        Assert.Contains("| metric `revenue` | changed |", markdown);
        Assert.Contains("| `fct_revenue` | metric_table | changed |", markdown);
        Assert.Contains("| `exp_homepage_cta__unit_metrics` | unit_metrics | changed |", markdown);
        Assert.DoesNotContain("exp_onboarding_flow__unit_metrics", markdown);

        // The hunk of the dashboard table: the old and the new aggregation, under a header naming its lines.
        var hunk = Section(markdown, "#### `fct_revenue` (metric_table)");
        Assert.Contains("--- a/compiled/fct_revenue.sql\n+++ b/compiled/fct_revenue.sql\n@@ -", hunk);
        Assert.Contains("\n-        sum(case when e.event_type = 'purchase' then e.revenue end) as revenue\n", hunk);
        Assert.Contains("\n+        sum(case when e.event_type = 'purchase' and e.revenue > 0 then e.revenue end) as revenue\n", hunk);

        Assert.Contains("- `average_order_value`: is computed from `revenue`, which changed", markdown);
        Assert.Contains("- `fct_revenue`: its SQL changed", markdown);
        Assert.Contains("- `homepage_cta`: secondary metric `revenue` changed", markdown);
        Assert.Contains("| `homepage_cta` | 2026-01-05 .. 2026-01-18 | **could change** | secondary metric `revenue` changed;", markdown);
        Assert.Contains("| `onboarding_flow` | 2026-01-12 .. 2026-01-25 | cannot change | nothing it reads changed |", markdown);

        // Deterministic: the same input gives the same bytes, on standard output and in --output.
        Assert.Equal(markdown, Diff("--as-of", "2026-01-13").Out);
        var file = Path.Combine(_repository, "diff.md");
        var written = Diff("--as-of", "2026-01-13", "--output", file);
        Assert.Equal(0, written.Exit);
        Assert.Equal(markdown, File.ReadAllText(file));
    }

    [Fact]
    public void A_changed_guardrail_could_change_the_decision_of_every_running_experiment_that_guards_with_it()
    {
        Edit(Reliability, text => Replace(text, "    filter: event_type = 'error'\n", "    filter: event_type = 'error' and page_load_ms is null\n"));

        var (exit, markdown, err) = Diff("--as-of", "2026-01-13");

        Assert.True(exit == 0, err);
        Assert.Contains("| `homepage_cta` | 2026-01-05 .. 2026-01-18 | **could change** | guardrail `errors` changed |", markdown);
        Assert.Contains("| `onboarding_flow` | 2026-01-12 .. 2026-01-25 | **could change** | guardrail `errors` changed |", markdown);
        Assert.Contains("+-- guardrail metric `errors`: count over events where event_type = 'error' and page_load_ms is null", markdown);
    }

    [Fact]
    public void A_changed_analysis_setting_or_exposure_is_an_experiment_change_that_could_change_its_decision()
    {
        Edit("project_template/models/experiments/homepage_cta.yml", text => Replace(
            Replace(text, "      alpha: 0.05\n", "      alpha: 0.01\n"),
            "      filter: experiment_id = 'homepage_cta'\n", "      filter: experiment_id = 'homepage_cta' and variant is not null\n"));

        var (exit, markdown, err) = Diff("--as-of", "2026-01-13");

        Assert.True(exit == 0, err);
        Assert.Contains("| experiment `homepage_cta` | changed |", markdown);
        Assert.Contains("| `exp_homepage_cta__exposures` | exposures | changed |", markdown);
        Assert.Contains("| `homepage_cta` | 2026-01-05 .. 2026-01-18 | **could change** | its design or analysis settings changed; its compiled SQL changed: `exp_homepage_cta__exposures`", markdown);
        Assert.Contains("| `onboarding_flow` | 2026-01-12 .. 2026-01-25 | cannot change | nothing it reads changed |", markdown);
        var settings = Section(markdown, "#### experiment `homepage_cta` (the settings its decision reads)");
        Assert.Contains("\n-alpha=0.05\n+alpha=0.01\n", settings);
    }

    [Fact]
    public void Experiments_outside_their_dates_are_not_running()
    {
        Edit(Reliability, text => Replace(text, "    filter: event_type = 'error'\n", "    filter: event_type = 'error' and page_load_ms is null\n"));

        var (_, markdown, _) = Diff("--as-of", "2026-03-01");

        Assert.Contains("### Running experiments on 2026-03-01\n\nNo experiment is running on that date.", markdown);
        Assert.Contains("- `onboarding_flow`: guardrail `errors` changed", markdown);
    }

    [Fact]
    public void A_definition_that_only_moved_in_its_file_is_not_a_change_of_its_sql()
    {
        Edit(Commerce, text => "# Commerce metrics, reviewed by the commerce analytics team.\n\n" + text);

        var (exit, markdown, err) = Diff("--as-of", "2026-01-13");

        Assert.True(exit == 0, err);
        Assert.Contains("No node's SQL changed.", markdown);
        Assert.Contains("Moved only (their YAML definition moved in its file; same SQL, new `defined at` line): `exp_homepage_cta__unit_metrics`, `fct_revenue`.", markdown);
        Assert.Contains("No metric, dashboard table or experiment is affected.", markdown);
        Assert.Contains("| `homepage_cta` | 2026-01-05 .. 2026-01-18 | cannot change |", markdown);
        Assert.DoesNotContain("```diff", markdown);
    }

    [Fact]
    public void No_change_says_so_and_exits_0()
    {
        var (exit, markdown, err) = Diff("--as-of", "2026-01-13");

        Assert.True(exit == 0, err);
        Assert.Contains("No changes: the base and the working tree compile to the same nodes, metrics and experiments.", markdown);
        Assert.DoesNotContain("###", markdown);
    }

    [Fact]
    public void Unknown_ref_and_a_folder_outside_git_are_bad_usage_with_a_clear_message()
    {
        var unknown = Diff("--base", "no-such-branch");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("error: --base `no-such-branch`: no such branch, tag or commit in the repository at", unknown.Err);

        var outside = Path.Combine(Path.GetTempPath(), "metricc-diff-tests", "outside-" + Guid.NewGuid().ToString("N"));
        DemoCopy.To(outside);
        try
        {
            var notGit = Run("diff", "--project-dir", outside, "--base", "HEAD");
            Assert.Equal(2, notGit.Exit);
            Assert.Contains("is not inside a git repository", notGit.Err);
            Assert.DoesNotContain("   at ", notGit.Err);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void An_invalid_base_reports_its_diagnostics_located_at_the_ref_and_exits_1()
    {
        Edit(Commerce, text => Replace(text, "    agg: proportion\n", "    agg: proportion\n    colour: blue\n"));
        Commit("a broken metric");
        Edit(Commerce, text => Replace(text, "    colour: blue\n", ""));

        var (exit, markdown, err) = Diff();

        Assert.Equal(1, exit);
        Assert.Equal("", markdown);
        Assert.Matches(@"HEAD:analytics/project_template/models/metrics/commerce\.yml:8:5: error MC1002: ", err);
        Assert.Contains("error: the base `HEAD` (", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void The_base_is_read_from_git_without_touching_the_repository()
    {
        Edit(Reliability, text => Replace(text, "    filter: event_type = 'error'\n", "    filter: event_type = 'error' and page_load_ms is null\n"));
        var status = Git("status", "--porcelain");
        var worktrees = Git("worktree", "list");

        Assert.Equal(0, Diff().Exit);

        Assert.Equal(status, Git("status", "--porcelain"));
        Assert.Equal(worktrees, Git("worktree", "list"));
        Assert.False(Directory.Exists(Path.Combine(Project, "target")), "diff compiles in memory and writes no target/ folder");
    }

    private (int Exit, string Out, string Err) Diff(params string[] extra)
    {
        var arguments = new List<string> { "diff", "--project-dir", Project };
        if (!extra.Contains("--base"))
            arguments.AddRange(["--base", "HEAD"]);
        arguments.AddRange(extra);
        return Run([.. arguments]);
    }

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section `{heading}` in:\n{markdown}");
        var next = markdown.IndexOf("\n#### ", start + heading.Length, StringComparison.Ordinal);
        return next < 0 ? markdown[start..] : markdown[start..next];
    }

    private static string Replace(string text, string old, string replacement)
    {
        Assert.Contains(old, text);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }

    /// <summary>Removes the metric <paramref name="name"/>: its lines up to the next metric.</summary>
    private static Func<string, string> RemoveMetric(string name) => text =>
    {
        var start = text.IndexOf($"  - name: {name}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no metric {name}");
        var end = text.IndexOf("  - name: ", start + 4, StringComparison.Ordinal);
        return text[..start] + (end < 0 ? "" : text[end..]);
    };

    private void Edit(string relativePath, Func<string, string> edit)
    {
        var path = Path.Combine(Project, relativePath);
        File.WriteAllText(path, edit(File.ReadAllText(path)));
    }

    private void Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.name=metricc tests", "-c", "user.email=tests@metricc.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message);
    }

    private string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = _repository, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} failed: {error}");
        return output;
    }
}
