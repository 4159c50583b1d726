using MetricCompiler.Assignment;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Running;
using MetricCompiler.Integration.Tests.MetricLayer;

namespace MetricCompiler.Integration.Tests.Assignment;

/// <summary>
/// An SRM with assignment mismatches is explained, not just flagged (issue 13): when a stale cache serves control to
/// units the hash puts in treatment, the readout is INVALID and its reasons say that the assignment audit explains the
/// sample ratio mismatch, with the number of mismatched units, computed here from the SDK hash independently.
/// </summary>
public sealed class AuditExplainsSrmTests : IDisposable
{
    private static readonly AssignmentRule Rule = new("checkout", 2, ["control", "treatment"], [0.5, 0.5], 1, null, new Dictionary<string, string>());

    /// <summary>Every fourth unit the hash puts in treatment is logged as control (a cache serving a stale variant).</summary>
    private static readonly (string Unit, string Hashed, string Logged)[] Units = Enumerable.Range(0, 2000).Select(i =>
    {
        var unit = $"u{i:D4}";
        var hashed = Assigner.Assign(Rule, unit).Variant!;
        return (unit, hashed, hashed == "treatment" && i % 4 == 0 ? "control" : hashed);
    }).ToArray();

    private readonly EngineProject _project = new("""
        sources:
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - {name: exposures_count, source: exposures, agg: count}
        experiments:
          - id: checkout
            exposure: {source: exposures}
            assignment: {seed: checkout, hash_version: 2}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [exposures_count]
        """,
        new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")],
            Units.Select(u => new object?[] { u.Unit, u.Logged, "2026-01-06 10:00:00" }).ToList()));

    [Fact]
    public void The_readout_says_the_audit_explains_the_sample_ratio_mismatch()
    {
        var mismatched = Units.Count(u => u.Hashed != u.Logged);
        Assert.InRange(mismatched, 200, 300);
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root, "duckdb"));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var readout = Assert.Single(outcome.Readouts);
        Assert.Equal(Decision.Invalid, readout.Decision);
        Assert.True(readout.Srm.Result!.Mismatch);
        Assert.Equal(mismatched, readout.Assignment!.Mismatched);
        Assert.Contains(readout.Reasons, r => r.StartsWith("the sample ratio mismatch is explained by the assignment audit: ", StringComparison.Ordinal)
            && r.Contains($"{mismatched:N0} of 2,000 units were logged in another variant", StringComparison.Ordinal));
    }

    public void Dispose() => _project.Dispose();
}
