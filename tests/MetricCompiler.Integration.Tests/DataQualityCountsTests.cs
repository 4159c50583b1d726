using System.Text.Json.Nodes;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The data-quality counts the run reports itself, each in run_results.json: per source, rows without an entity id,
/// with a time that does not parse, and duplicate keys (`dropped` of the staging node); per experiment's exposures,
/// units in a variant the YAML does not declare and units in several variants (`excluded_units` of the SRM node).
/// </summary>
public sealed class DataQualityCountsTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public void Dispose() => _project.Dispose();

    [Fact]
    public void Every_data_quality_count_is_in_run_results()
    {
        _project.Execute("""
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            insert into raw_exposures values ('u1','checkout','control','2026-01-06 10:00:00'), ('u2','checkout','treatment','2026-01-06 11:00:00'),
                                             ('u3','checkout','control','2026-01-07 10:00:00'), ('u3','checkout','treatment','2026-01-07 12:00:00'),
                                             ('u4','checkout','treatment_v2','2026-01-07 11:00:00');
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            insert into raw_events values ('e1','u1','purchase','2026-01-08 10:00:00', 10, null), ('e2','u2','purchase','2026-01-08 10:00:00', 20, null),
                                          ('e2','u2','purchase','2026-01-08 10:00:00', 20, null), ('e3', null,'purchase','2026-01-08 10:00:00', 5, null),
                                          ('e4','u1','page_view','not a time', null, 700);
            """);
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root));
        Assert.True(outcome.ExitCode == 0, outcome.Error);

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(_project.Root, "target", "run_results.json")))!["results"]!.AsArray();
        JsonNode Node(string name) => results.Single(r => (string?)r!["node"] == name)!;
        var dropped = Node("stg_events")["dropped"]!;
        Assert.Equal((1L, 1L, 1L), ((long)dropped["missing_entity"]!, (long)dropped["missing_or_unparsable_time"]!, (long)dropped["duplicates"]!));
        var excluded = Node("exp_checkout__srm")["excluded_units"]!;
        Assert.Equal((1L, 1L), ((long)excluded["undeclared_variant"]!, (long)excluded["multiple_variants"]!));
        Assert.Null(Node("stg_events")["excluded_units"]);
    }
}
