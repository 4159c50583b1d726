using System.Text.Json.Nodes;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>What <c>run</c> and <c>build</c> print for people and for orchestrators: plain lines, <c>--quiet</c>, <c>--log-format json</c>.</summary>
public sealed class RunOutputTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public RunOutputTests() => ShopRun.SeedRawTables(_project);

    private int ManifestNodes() => JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "manifest.json")))!["nodes"]!.AsObject().Count;

    [Fact]
    public void Redirected_output_is_plain_lines_with_every_node_and_the_readout()
    {
        var (exit, output, err) = ShopRun.Cli("run", "--project-dir", _project.Root);

        Assert.True(exit == 0, err);
        var total = ManifestNodes();
        Assert.Contains($"1 of {total} START", output);
        Assert.Contains($"{total} of {total} OK", output);
        Assert.Contains("Decision: ", output);
        Assert.Contains("Done. ", output);
        Assert.DoesNotContain('\u001b', output);
    }

    [Fact]
    public void Quiet_prints_only_the_decisions_and_the_summary()
    {
        var (exit, output, err) = ShopRun.Cli("run", "--project-dir", _project.Root, "--quiet");

        Assert.True(exit == 0, err);
        Assert.Equal("", err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var decision = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "results", "checkout.json")))!["decision"]!.GetValue<string>();
        Assert.Equal([$"Decision checkout: {decision.ToUpperInvariant().Replace('_', '-')}", .. lines[1..]], lines);
        Assert.Matches(@"^Done\. \d+ node\(s\) built", lines[^1]);
        Assert.DoesNotContain("START", output);
        Assert.DoesNotContain("=====", output);
    }

    [Fact]
    public void Quiet_still_prints_a_failed_node_and_the_error()
    {
        _project.Execute("drop table raw_events; create table raw_events (event_id text, user_id text, event_type text, occurred_at text, load_ms real)");
        var (exit, output, err) = ShopRun.Cli("run", "--project-dir", _project.Root, "-q");

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("ERROR", output);
        Assert.DoesNotContain(" OK ", output);
        Assert.Contains("error: node `", err);
    }

    [Fact]
    public void Json_log_is_one_event_per_line_in_order_with_every_node_of_the_manifest()
    {
        var (exit, output, err) = ShopRun.Cli("run", "--project-dir", _project.Root, "--log-format", "json");

        Assert.True(exit == 0, err);
        var events = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!.AsObject()).ToList();
        Assert.All(events, e => Assert.True(e["time"]!.GetValue<string>().EndsWith('Z')));
        var names = events.Select(e => e["event"]!.GetValue<string>()).ToList();
        var total = ManifestNodes();

        Assert.Equal("run_started", names.First(n => n != "log"));
        Assert.Equal(total, events.First(e => (string)e["event"]! == "run_started")["nodes"]!.GetValue<int>());
        Assert.Equal("run_finished", names[^1]);
        Assert.Equal(0, events[^1]["exit_code"]!.GetValue<int>());
        Assert.Equal(total, events[^1]["nodes"]!["success"]!.GetValue<int>());
        var finished = events.Where(e => (string)e["event"]! == "node_finished").ToList();
        Assert.Equal(total, finished.Count);
        Assert.Equal(total, names.Count(n => n == "node_started"));
        foreach (var node in finished)
        {
            var name = node["node"]!.GetValue<string>();
            Assert.True(events.FindIndex(e => (string)e["event"]! == "node_started" && (string)e["node"]! == name) < events.IndexOf(node), name);
            Assert.Equal("success", node["status"]!.GetValue<string>());
            Assert.NotNull(node["rows"]);
            Assert.True(node["execution_seconds"]!.GetValue<double>() >= 0);
        }

        var decision = Assert.Single(events, e => (string)e["event"]! == "experiment_decision");
        Assert.True(names.IndexOf("experiment_decision") > names.LastIndexOf("node_finished"));
        var readout = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "results", "checkout.json")))!;
        Assert.Equal(readout["decision"]!.GetValue<string>(), decision["decision"]!.GetValue<string>());
        Assert.Equal("readouts/checkout.html", decision["readouts"]!["html"]!.GetValue<string>());
    }

    [Fact]
    public void Json_log_of_a_failed_run_and_of_bad_usage_ends_with_their_exit_codes()
    {
        _project.Execute("drop table raw_events");
        var (exit, output, _) = ShopRun.Cli("run", "--project-dir", _project.Root, "--log-format", "json");
        var events = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal("run_finished", events[^1]["event"]!.GetValue<string>());
        Assert.Equal(1, events[^1]["exit_code"]!.GetValue<int>());
        Assert.Contains("source table `raw_events`", events[^1]["error"]!.GetValue<string>());

        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("source: events, agg: count", "source: evnts, agg: count"));
        (exit, output, _) = ShopRun.Cli("run", "--project-dir", _project.Root, "--log-format", "json");
        events = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(ExitCodes.Failure, exit);
        var diagnostic = Assert.Single(events, e => (string)e["event"]! == "diagnostic");
        Assert.Equal("MC2002", diagnostic["code"]!.GetValue<string>());
        Assert.Matches(@"^metrics\.yml:\d+:\d+$", diagnostic["location"]!.GetValue<string>());
        Assert.Equal(["diagnostic", "run_finished"], events.Select(e => e["event"]!.GetValue<string>()));

        (exit, output, _) = ShopRun.Cli("run", "--project-dir", _project.Root, "--log-format", "json", "--threads", "0");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal(2, JsonNode.Parse(output.Trim())!["exit_code"]!.GetValue<int>());
    }

    [Fact]
    public void Run_results_carry_each_nodes_outcome_and_each_experiments_decision()
    {
        Assert.Equal(0, ShopRun.Cli("run", "--project-dir", _project.Root, "-q").Exit);
        var run = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "run_results.json")))!;
        var nodes = run["results"]!.AsArray().Where(r => (string)r!["resource_type"]! == "node").ToList();
        Assert.Equal(ManifestNodes(), nodes.Count);
        Assert.All(nodes, n =>
        {
            Assert.Equal("success", n!["status"]!.GetValue<string>());
            Assert.NotNull(n["rows"]);
            Assert.NotNull(n["execution_seconds"]);
            Assert.True(n.AsObject().ContainsKey("message"));
        });

        var experiment = Assert.Single(run["experiments"]!.AsArray())!;
        var readout = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "results", "checkout.json")))!;
        Assert.Equal("checkout", experiment["experiment_id"]!.GetValue<string>());
        Assert.Equal(readout["decision"]!.GetValue<string>(), experiment["decision"]!.GetValue<string>());
        Assert.Equal(readout["reasons"]!.ToJsonString(), experiment["reasons"]!.ToJsonString());
        Assert.Null(experiment["previous_decision"]);
        Assert.True(experiment["decision_changed"]!.GetValue<bool>());
        foreach (var path in experiment["readouts"]!.AsObject().Select(p => p.Value!.GetValue<string>()))
            Assert.True(File.Exists(ShopRun.Target(_project, path)), path);

        // The second run replaces a readout with the same decision: not a change.
        Assert.Equal(0, ShopRun.Cli("run", "--project-dir", _project.Root, "-q").Exit);
        experiment = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "run_results.json")))!["experiments"]![0]!;
        Assert.Equal(experiment["decision"]!.GetValue<string>(), experiment["previous_decision"]!.GetValue<string>());
        Assert.False(experiment["decision_changed"]!.GetValue<bool>());
    }

    [Fact]
    public void A_failed_node_is_in_run_results_with_its_error_and_no_experiment()
    {
        _project.Execute("drop table raw_events; create table raw_events (event_id text, user_id text, event_type text, occurred_at text, load_ms real)");
        Assert.Equal(ExitCodes.Failure, ShopRun.Cli("run", "--project-dir", _project.Root, "-q").Exit);
        var run = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "run_results.json")))!;
        Assert.Equal("error", run["status"]!.GetValue<string>());
        var failed = Assert.Single(run["results"]!.AsArray(), r => (string)r!["status"]! == "error")!;
        Assert.False(string.IsNullOrWhiteSpace(failed["message"]!.GetValue<string>()));
        Assert.Empty(run["experiments"]!.AsArray());
    }

    public void Dispose() => _project.Dispose();
}
