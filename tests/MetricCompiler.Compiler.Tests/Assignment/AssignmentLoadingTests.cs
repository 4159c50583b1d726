using MetricCompiler.Assignment;
using MetricCompiler.Compiler.Tests.Support;

namespace MetricCompiler.Compiler.Tests.Assignment;

/// <summary>`assignment:` on an experiment: read, bound to a rule, and every bad value reported at its line.</summary>
public sealed class AssignmentLoadingTests
{
    private static string WithAssignment(string assignment) => Fixtures.Project + "\n    assignment:\n" + assignment;

    [Fact]
    public void A_declared_assignment_binds_to_the_rule_the_sdk_hash_uses()
    {
        using var project = new TempProject(("metrics.yml", WithAssignment("""
                  hash_attribute: [experiment_id, user_id]
                  hash_version: 1
                  coverage: 0.5
                  namespace: {name: checkout_layer, range: [0, 0.5]}
                  overrides: {qa_1: treatment}
            """)));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var assignment = result.Bound!.Experiments.Single().Assignment!;
        Assert.Equal(["experiment_id", "user_id"], assignment.HashAttributes.Select(a => a.Name));
        Assert.Equal("checkout", assignment.Rule.Seed);
        Assert.Equal(1, assignment.Rule.HashVersion);
        Assert.Equal(["control", "treatment"], assignment.Rule.Variants);
        Assert.Equal(new NamespaceRange("checkout_layer", 0, 0.5), assignment.Rule.Namespace);
        Assert.Equal("treatment", Assigner.Assign(assignment.Rule, "qa_1").Variant);
    }

    [Fact]
    public void Defaults_are_the_entity_the_experiment_id_and_hash_version_2()
    {
        using var project = new TempProject(("metrics.yml", WithAssignment("      seed: checkout_v2\n")));
        var assignment = project.Load().Bound!.Experiments.Single().Assignment!;
        Assert.Equal("user_id", Assert.Single(assignment.HashAttributes).Name);
        Assert.Equal(("checkout_v2", 2, 1.0), (assignment.Rule.Seed, assignment.Rule.HashVersion, assignment.Rule.Coverage));
    }

    [Theory]
    [InlineData("      hash_attribute: usr_id\n", "MC2004", "hash attribute `usr_id` is not a column of the exposure source `exposures`")]
    [InlineData("      hash_version: 3\n", "MC3004", "hash_version 3 does not exist")]
    [InlineData("      coverage: 1.5\n", "MC3004", "coverage is the share of eligible units")]
    [InlineData("      namespace: {name: n, range: [0.6, 0.2]}\n", "MC3004", "namespace range must be [start, end] with 0 <= start < end <= 1")]
    [InlineData("      namespace: {name: n, range: half}\n", "MC1003", "`range` must be")]
    [InlineData("      overrides: {qa_1: treatmnt}\n", "MC1005", "names variant `treatmnt`, which the experiment does not declare")]
    [InlineData("      hash_atribute: user_id\n", "MC1002", "hash_atribute")]
    public void Bad_assignment_values_are_reported_with_their_location(string assignment, string code, string message)
    {
        using var project = new TempProject(("metrics.yml", WithAssignment(assignment)));
        var result = project.Load();
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Diagnostics, d => d.Code == code);
        Assert.Contains(message, error.Message);
        Assert.True(error.Location.Line > Fixtures.Project.Split('\n').Length, $"located in the assignment block, not at the file start: {error.Format()}");
    }

    [Fact]
    public void A_numeric_hash_attribute_is_refused_because_the_sdks_hash_text()
    {
        var yaml = WithAssignment("      hash_attribute: revenue_col\n").Replace("      - {name: exposed_at, type: timestamp}",
            "      - {name: exposed_at, type: timestamp}\n      - {name: revenue_col, type: number}");
        using var project = new TempProject(("metrics.yml", yaml));
        Assert.Contains("the SDKs hash text", Assert.Single(project.Load().Diagnostics, d => d.Code == "MC4002").Message);
    }

    [Fact]
    public void Experiments_sharing_a_namespace_at_the_same_time_must_not_overlap()
    {
        var second = """
              - id: checkout_two
                exposure: {source: exposures, filter: "experiment_id = 'checkout_two'"}
                variants:
                  - {name: control, weight: 0.5, control: true}
                  - {name: treatment, weight: 0.5}
                start: 2026-01-10
                end: 2026-01-20
                metrics: {primary: [purchased]}
                assignment:
                  namespace: {name: layer, range: [0.4, 1]}
            """;
        var yaml = WithAssignment("      namespace: {name: layer, range: [0, 0.5]}\n") + second + "\n";
        using var project = new TempProject(("metrics.yml", yaml));
        var error = Assert.Single(project.Load().Diagnostics, d => d.Code == "MC3008");
        Assert.Contains("experiment `checkout_two` takes [0.4, 1) of namespace `layer`, which overlaps [0, 0.5) of experiment `checkout`", error.Message);

        using var disjoint = new TempProject(("metrics.yml", yaml.Replace("range: [0.4, 1]", "range: [0.5, 1]")));
        Assert.True(disjoint.Load().Succeeded);
    }
}
