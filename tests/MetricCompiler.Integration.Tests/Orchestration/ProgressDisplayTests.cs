using MetricCompiler.Cli.Output;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;
using Spectre.Console;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>
/// The live display, tested by what it draws (no real terminal): the state model counts and lists what runs, the view
/// draws it, and the command line draws it on a console it is given instead of printing plain lines.
/// </summary>
public sealed class ProgressDisplayTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    private IReadOnlyList<PlanNode> Nodes() => Planner.Plan(ProjectLoader.Load(_project.Root).Bound!).Nodes;

    /// <summary>A Spectre console writing to <paramref name="writer"/>, as a terminal would get it.</summary>
    private static IAnsiConsole Console(StringWriter writer, bool ansi = false)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = ansi ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        return console;
    }

    private static string Draw(ProgressSnapshot snapshot, TimeSpan elapsed)
    {
        var writer = new StringWriter();
        Console(writer).Write(ProgressView.Render("build", snapshot, elapsed));
        return writer.ToString();
    }

    [Fact]
    public void The_state_counts_done_nodes_and_lists_the_running_ones_with_their_time()
    {
        var nodes = Nodes();
        var state = new ProgressState();
        state.Started(nodes.Count, "dev");
        state.NodeStarted(nodes.Count, nodes[0], TimeSpan.FromSeconds(1));
        state.NodeStarted(nodes.Count, nodes[1], TimeSpan.FromSeconds(2));
        state.NodeFinished(nodes.Count, nodes[0], new NodeResult(nodes[0].Name, NodeResult.Success, 1.5, 1234, null));
        state.NodeStarted(nodes.Count, nodes[2], TimeSpan.FromSeconds(3));

        var snapshot = state.Snapshot();
        Assert.Equal(nodes.Count, snapshot.Total);
        Assert.Equal(1, snapshot.Done);
        Assert.Equal([nodes[1].Name, nodes[2].Name], snapshot.Running.Select(r => r.Name));

        var frame = Draw(snapshot, TimeSpan.FromSeconds(65));
        Assert.Contains($"1 of {nodes.Count} nodes done, 2 running, elapsed 01:05", frame);
        Assert.Contains($"running {nodes[1].KindName} {nodes[1].Name} (01:03)", frame);
        Assert.Contains($"running {nodes[2].KindName} {nodes[2].Name} (01:02)", frame);
        Assert.Contains($"OK {nodes[0].KindName} {nodes[0].Name} [1,234 rows in 1.50s]", frame);
        Assert.Contains("nodes: 1 success", frame);
        Assert.DoesNotContain($"running {nodes[0].KindName} {nodes[0].Name} ", frame);
    }

    [Fact]
    public void A_failure_stays_on_the_last_frame()
    {
        var nodes = Nodes();
        var state = new ProgressState();
        state.Started(nodes.Count, "dev");
        state.NodeStarted(nodes.Count, nodes[0], TimeSpan.Zero);
        state.NodeFinished(nodes.Count, nodes[0], new NodeResult(nodes[0].Name, NodeResult.Error, 0.2, null, "no such column: revenue"));
        for (var i = 1; i < nodes.Count; i++)
            state.NodeFinished(nodes.Count, nodes[i], new NodeResult(nodes[i].Name, NodeResult.Skipped, 0, null, "not run"));
        state.Note("`stg_events`: retrying after a transient error");
        state.Finish();

        var frame = Draw(state.Snapshot(), TimeSpan.FromSeconds(3));
        Assert.Contains($"{nodes.Count} of {nodes.Count} nodes done, finished, elapsed 00:03", frame);
        Assert.Contains($"failed {nodes[0].Name}: no such column: revenue", frame);
        Assert.Contains($"nodes: 1 error, {nodes.Count - 1} skipped", frame);
        Assert.Contains("note: `stg_events`: retrying after a transient error", frame);
        Assert.DoesNotContain("running ", frame);
        Assert.Equal(ProgressState.Recent, frame.Split('\n').Count(l => l.TrimStart().StartsWith("SKIP ", StringComparison.Ordinal) || l.TrimStart().StartsWith("ERROR ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0, 10, "[------------------------------] 0%")]
    [InlineData(5, 10, "[###############---------------] 50%")]
    [InlineData(10, 10, "[##############################] 100%")]
    public void The_bar_fills_with_the_nodes_done(int done, int total, string expected)
    {
        var snapshot = new ProgressSnapshot(total, done, "dev", [], new Dictionary<string, int>(), new Dictionary<string, int>(), [], [], [], false);
        Assert.Contains(expected, Draw(snapshot, TimeSpan.Zero));
    }

    [Fact]
    public void On_a_terminal_run_draws_the_live_display_instead_of_lines()
    {
        ShopRun.SeedRawTables(_project);
        var screen = new StringWriter();

        var (exit, output, err) = ShopRun.Cli(() => Console(screen, ansi: true), "run", "--project-dir", _project.Root);

        Assert.True(exit == 0, err);
        var total = Nodes().Count;
        Assert.Contains('\u001b', screen.ToString());
        var drawn = System.Text.RegularExpressions.Regex.Replace(screen.ToString(), @"\u001b\[[0-9;?]*[A-Za-z]", "");
        Assert.Contains($"{total} of {total} nodes done, finished", drawn);
        Assert.Contains("running ", drawn);
        Assert.Contains("metricc run on dev: ", drawn);
        Assert.DoesNotContain(" START ", output + drawn);
        Assert.Contains("Decision: ", output);
        Assert.Contains("Done. ", output);
    }

    [Fact]
    public void Quiet_and_json_never_draw_the_live_display()
    {
        ShopRun.SeedRawTables(_project);
        var screen = new StringWriter();
        Assert.Equal(0, ShopRun.Cli(() => Console(screen, ansi: true), "run", "--project-dir", _project.Root, "--quiet").Exit);
        Assert.Equal(0, ShopRun.Cli(() => Console(screen, ansi: true), "run", "--project-dir", _project.Root, "--log-format", "json").Exit);
        Assert.Equal("", screen.ToString());
    }

    public void Dispose() => _project.Dispose();
}
