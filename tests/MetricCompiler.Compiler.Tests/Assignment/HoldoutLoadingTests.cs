using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;

namespace MetricCompiler.Compiler.Tests.Assignment;

/// <summary>`holdout:` on an experiment: its implied variants and weights, and every conflict reported at its line.</summary>
public sealed class HoldoutLoadingTests
{
    private static string WithHoldout(string range = "[0.9, 1]", string extra = "") => Fixtures.Project + $$"""

          - id: growth_holdout
            holdout: {namespace: growth, range: {{range}}}
            exposure: {source: exposures}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [purchased]
        {{extra}}
        """;

    [Fact]
    public void A_holdout_implies_its_two_variants_weighted_by_its_share()
    {
        using var project = new TempProject(("metrics.yml", WithHoldout()));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var holdout = result.Bound!.FindExperiment("growth_holdout")!;
        Assert.Equal([(HoldoutVariants.Holdout, 0.1, true), (HoldoutVariants.Released, 0.9, false)],
            holdout.Variants.Select(v => (v.Name, Math.Round(v.Weight, 12), v.IsControl)));
        var bound = Assert.IsType<HeldOutByHash>(holdout.Exposure.Variant).Holdout;
        Assert.Equal("user_id", Assert.Single(bound.HashAttributes).Name);
        Assert.Equal(new MetricCompiler.Assignment.NamespaceRange("growth", 0.9, 1), bound.Range);
    }

    [Fact]
    public void Variants_or_an_assignment_next_to_a_holdout_are_refused_at_their_lines()
    {
        using var project = new TempProject(("metrics.yml", WithHoldout(extra: "    variants: [{name: a, weight: 1, control: true}]\n    assignment: {seed: s}")));
        var errors = project.Load().Diagnostics.Where(d => d.Code == "MC3007").ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("a holdout's variants are implied", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("takes no `assignment`", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.True(e.Location.Line > Fixtures.Project.Split('\n').Length, e.Format()));
    }

    [Fact]
    public void An_experiment_in_the_held_out_share_of_its_namespace_overlaps_the_holdout()
    {
        var yaml = WithHoldout().Replace("    start: 2026-01-05\n    end: 2026-01-18\n    metrics:\n      primary: [purchased]\n      secondary",
            "    assignment: {namespace: {name: growth, range: [0.5, 0.95]}}\n    start: 2026-01-05\n    end: 2026-01-18\n    metrics:\n      primary: [purchased]\n      secondary", StringComparison.Ordinal);
        Assert.Contains("range: [0.5, 0.95]", yaml, StringComparison.Ordinal);
        using var project = new TempProject(("metrics.yml", yaml));
        var error = Assert.Single(project.Load().Diagnostics, d => d.Code == "MC3008");
        Assert.Contains("holdout `growth_holdout` takes [0.9, 1) of namespace `growth`, which overlaps [0.5, 0.95) of experiment `checkout`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_holdout_range_is_reported_at_its_line()
    {
        using var project = new TempProject(("metrics.yml", WithHoldout(range: "[0.9, 0.2]")));
        var error = Assert.Single(project.Load().Diagnostics, d => d.Code == "MC3004");
        Assert.Contains("namespace range must be [start, end]", error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line > Fixtures.Project.Split('\n').Length, error.Format());
    }
}
