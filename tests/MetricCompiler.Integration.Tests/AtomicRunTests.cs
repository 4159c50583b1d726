using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>A failed run must leave every table of the previous run whole, and no temporary table behind.</summary>
public sealed class AtomicRunTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public AtomicRunTests()
    {
        _project.Execute("""
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            insert into raw_exposures values ('u1','checkout','control','2026-01-06 10:00:00'), ('u2','checkout','treatment','2026-01-06 11:00:00'),
                                             ('u3','checkout','control','2026-01-07 10:00:00'), ('u4','checkout','treatment','2026-01-07 11:00:00');
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            insert into raw_events values ('e1','u1','purchase','2026-01-08 10:00:00', 10, null), ('e2','u2','purchase','2026-01-08 10:00:00', 20, null),
                                          ('e3','u3','page_view','2026-01-08 10:00:00', null, 700), ('e4','u4','purchase','2026-01-09 10:00:00', 15, null);
            """);
    }

    [Fact]
    public void Failed_run_leaves_previous_results_whole()
    {
        var runner = new ProjectRunner(SilentObserver.Instance);
        Assert.Equal(0, runner.Run(new RunRequest(_project.Root)).ExitCode);
        var before = Snapshot();

        // New data arrives, and the exposures source now declares a column its table lacks: the run must fail mid-DAG,
        // after staging of `events` was rebuilt.
        _project.Execute("insert into raw_events values ('e5','u1','purchase','2026-01-10 10:00:00', 99, null)");
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("      - {name: variant, type: string}", "      - {name: variant, type: string}\n      - {name: campaign, type: string}"));
        var outcome = runner.Run(new RunRequest(_project.Root));

        Assert.Equal(ExitCodes.Failure, outcome.ExitCode);
        Assert.Contains("no such column", outcome.Error);
        Assert.Contains(outcome.Results, r => r.Status == NodeResult.Error);
        Assert.Contains(outcome.Results, r => r.Status == NodeResult.Success); // staging was rebuilt before the failure ...
        Assert.Equal(before, Snapshot());                                        // ... but nothing was swapped in
        Assert.Empty(_project.Query("select name from sqlite_master where name like '%__mc_build'"));
        Assert.Contains("\"status\": \"error\"", File.ReadAllText(Path.Combine(_project.Root, "target", "run_results.json")));
    }

    [Fact]
    public void Successful_rerun_replaces_every_table()
    {
        var runner = new ProjectRunner(SilentObserver.Instance);
        Assert.Equal(0, runner.Run(new RunRequest(_project.Root)).ExitCode);
        _project.Execute("insert into raw_events values ('e5','u1','purchase','2026-01-10 10:00:00', 99, null)");
        Assert.Equal(0, runner.Run(new RunRequest(_project.Root)).ExitCode);

        Assert.Equal(109.0, _project.Scalar("select revenue from exp_checkout__unit_metrics where unit_id = 'u1'"));
        Assert.Empty(_project.Query("select name from sqlite_master where name like '%__mc%'"));
    }

    [Fact]
    public void Selecting_a_node_whose_upstream_was_never_built_fails_before_building_anything()
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root, Select: ["exp_checkout__statistics"]));

        Assert.Equal(ExitCodes.Failure, outcome.ExitCode);
        Assert.Contains("+exp_checkout__statistics", outcome.Error);
        Assert.Empty(_project.Query("select name from sqlite_master where name like 'exp_%'"));
    }

    private string Snapshot()
    {
        var tables = _project.Query("select name from sqlite_master where type = 'table' and name not like 'raw_%' order by name")
            .Select(r => (string)r["name"]!).ToList();
        return string.Join("\n", tables.Select(t =>
            $"{t}: " + string.Join(";", _project.Query($"select * from \"{t}\"").Select(r => string.Join(",", r.Where(kv => kv.Key != "analysed_at").Select(kv => $"{kv.Key}={kv.Value}"))).Order())));
    }

    public void Dispose() => _project.Dispose();
}
