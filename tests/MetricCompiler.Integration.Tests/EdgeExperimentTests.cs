using System.Text.Json;
using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// Numbers at the edge, end to end (issue 6): an experiment nobody was exposed to and one whose treatment arm has no
/// exposures run to a defined, explained readout: exit 0, no NaN or infinity in any JSON artifact, and no ship or rollback
/// order. (The statistics of the other edges, zero variance, a control mean of zero, one-unit arms and large means,
/// are DegenerateInputTests and CentredStatisticsTests.)
/// </summary>
public sealed class EdgeExperimentTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    [Theory]
    [InlineData("other", "other", "no units")]                      // exposures of another experiment only: nobody in `checkout`
    [InlineData("checkout", "other", "no units in 'treatment'")]    // control exposed, treatment never
    public void An_experiment_without_units_in_an_arm_gives_an_explained_readout(string controlExperiment, string treatmentExperiment, string explained)
    {
        _project.Execute($"""
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            insert into raw_exposures values ('u1','{controlExperiment}','control','2026-01-06 10:00:00'), ('u2','{treatmentExperiment}','treatment','2026-01-06 11:00:00'),
                                             ('u3','{controlExperiment}','control','2026-01-07 10:00:00'), ('u4','{treatmentExperiment}','treatment','2026-01-07 11:00:00');
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            insert into raw_events values ('e1','u1','purchase','2026-01-08 10:00:00', 10, null), ('e2','u2','purchase','2026-01-08 10:00:00', 20, null),
                                          ('e3','u3','page_view','2026-01-08 10:00:00', null, 700), ('e4','u4','purchase','2026-01-09 10:00:00', 15, null);
            """);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["run", "--project-dir", _project.Root], output, error);

        Assert.True(exit == 0, error.ToString());
        var results = File.ReadAllText(Path.Combine(_project.Root, "target", "results", "checkout.json"));
        using var document = JsonDocument.Parse(results);
        var decision = document.RootElement.GetProperty("decision").GetString()?.ToUpperInvariant();
        Assert.True(decision is not ("SHIP" or "NO-SHIP"), $"decision {decision} on an experiment with an empty arm");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_project.Root, "target"), "*.json", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.False(text.Contains("NaN", StringComparison.Ordinal) || text.Contains("Infinity", StringComparison.Ordinal), $"{file} holds NaN or infinity");
        }

        Assert.Contains(explained, results + output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString());
    }

    public void Dispose() => _project.Dispose();
}
