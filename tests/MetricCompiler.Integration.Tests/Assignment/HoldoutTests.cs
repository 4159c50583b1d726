using MetricCompiler.Assignment;
using MetricCompiler.Execution.Running;
using MetricCompiler.Integration.Tests.MetricLayer;

namespace MetricCompiler.Integration.Tests.Assignment;

/// <summary>
/// Holdouts (issue 13): a share of a namespace held back from everything shipped in it is analysed against everyone
/// else, with the same metrics and statistics. On every engine the suite runs, each eligible unit's variant is the one
/// its namespace position gives (GrowthBook's hash, computed independently here with the assignment library), and the
/// readout's means are the plain means of the hand-made data per group.
/// </summary>
public sealed class HoldoutTests : IDisposable
{
    private const int Users = 1500;
    private static readonly NamespaceRange Held = new("growth", 0, 0.2);

    /// <summary>Held-out users buy less often (nothing shipped reaches them): every third one buys, else every second.</summary>
    private static readonly (string User, bool HeldOut, int Purchases)[] People = Enumerable.Range(0, Users).Select(i =>
    {
        var user = $"user-{i:D4}";
        var held = Held.Contains(user);
        return (user, held, held ? (i % 3 == 0 ? 1 : 0) : (i % 2 == 0 ? 1 : 0));
    }).ToArray();

    private readonly EngineProject _project = new("""
        sources:
          - name: users
            table: raw_users
            entity: user_id
            event_time: signup_at
            columns:
              - {name: user_id, type: string}
              - {name: signup_at, type: timestamp}
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            columns:
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
        metrics:
          - {name: purchases, source: events, agg: count, filter: "event_type = 'purchase'"}
        experiments:
          - id: growth_holdout
            holdout: {namespace: growth, range: [0, 0.2]}
            exposure: {source: users}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [purchases]
        """,
        new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at")],
            People.Select((p, i) => new object?[] { p.User, $"2026-01-{6 + (i % 10):D2} 09:00:00" }).ToList()),
        new RawTable("raw_events", [EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at")],
            People.Where(p => p.Purchases > 0).Select(p => new object?[] { p.User, "purchase", "2026-01-17 12:00:00" }).ToList()));

    [Fact]
    public void The_holdout_is_its_namespace_share_and_is_compared_with_everyone_else_on_every_engine()
    {
        var held = People.Where(p => p.HeldOut).ToList();
        var released = People.Where(p => !p.HeldOut).ToList();
        Assert.InRange(held.Count, 0.15 * Users, 0.25 * Users);
        foreach (var engine in EngineProject.Engines)
        {
            var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root, engine));
            Assert.True(outcome.ExitCode == 0, $"{engine}: {outcome.Error}");

            var variants = _project.Rows(engine, "select unit_id, variant, assignment_status from exp_growth_holdout__exposures")
                .ToDictionary(r => (string)r["unit_id"]!, r => (string?)r["variant"]);
            Assert.Equal(Users, variants.Count);
            Assert.All(People, p => Assert.Equal(p.HeldOut ? "holdout" : "released", variants[p.User]));

            var readout = Assert.Single(outcome.Readouts);
            Assert.Equal("holdout", readout.Control);
            Assert.Equal(held.Count, readout.Srm.Counts["holdout"]);
            Assert.Equal(0.2, readout.Srm.Weights["holdout"], 12);
            var comparison = Assert.Single(readout.Metrics).Comparison;
            Assert.Equal("released", comparison.Variant);
            Assert.Equal(held.Average(p => p.Purchases), comparison.ControlMean!.Value, 9);
            Assert.Equal(released.Average(p => p.Purchases), comparison.VariantMean!.Value, 9);
            Assert.Equal(("growth", 0.0, 0.2), (readout.Holdout!.Namespace, readout.Holdout.Start, readout.Holdout.End));
        }

        var json = File.ReadAllText(Path.Combine(_project.Root, "target", "results", "growth_holdout.json"));
        Assert.Contains("\"holdout\": {", json, StringComparison.Ordinal);
    }

    public void Dispose() => _project.Dispose();
}
