using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Compiler.Tests.Loading;

public sealed class ProjectLoaderTests
{
    [Fact]
    public void Valid_project_loads_with_every_definition_and_its_location()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project));
        var result = project.Load();

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var p = result.Project!;
        Assert.Equal(["events", "exposures"], p.Sources.Select(s => s.Name));
        Assert.Equal(4, p.Metrics.Count);
        var revenue = p.FindMetric("revenue")!;
        Assert.Equal(Aggregation.Sum, Assert.IsType<SimpleSpec>(revenue.Spec).Aggregation);
        Assert.Equal(Aggregation.Sum, Assert.IsType<SimpleMetric>(result.Bound!.Metric("revenue")).Aggregation);
        var lines = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml"));
        var declared = Array.FindIndex(lines, l => l == "  - name: revenue") + 1;
        Assert.Equal(new SourceLocation("metrics.yml", declared, 5), revenue.Location);
        var experiment = Assert.Single(p.Experiments);
        Assert.Equal("control", experiment.Control!.Name);
        Assert.Equal(new DateOnly(2026, 1, 5), experiment.Start);
        Assert.Equal(Direction.Decrease, experiment.Guardrails[0].HarmfulDirection);
        Assert.Equal(0.05, experiment.Analysis.Alpha);
    }

    [Fact]
    public void Yaml_syntax_error_is_reported_at_its_line_and_column()
    {
        using var project = new TempProject(("metrics.yml", "version: 1\nsources:\n  - name: events\n    table: [unclosed\n"));
        var result = project.Load();

        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("MC1001", error.Code);
        Assert.Equal("metrics.yml", error.Location.File);
        Assert.True(error.Location.Line >= 4, error.Format());
        Assert.StartsWith("metrics.yml:", error.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_in_one_run()
    {
        var broken = Fixtures.Project
            .Replace("source: events\n    agg: count", "source: evnts\n    agg: count")
            .Replace("expr: revenue\n", "expr: revenu\n")
            .Replace("{name: treatment, weight: 0.5}", "{name: treatment, weight: 0.6}")
            .Replace("end: 2026-01-18", "end: 2026-01-01")
            .Replace("secondary: [revenue, order_value]", "secondary: [revenue, order_valu]");
        using var project = new TempProject(("metrics.yml", broken));
        var result = project.Load();

        var codes = result.Diagnostics.Select(d => d.Code).ToList();
        Assert.Contains("MC2002", codes); // unknown source
        Assert.Contains("MC2004", codes); // unknown column in expr
        Assert.Contains("MC3001", codes); // weights
        Assert.Contains("MC3002", codes); // start after end
        Assert.Contains("MC2003", codes); // unknown metric
        Assert.All(result.Diagnostics, d => Assert.True(d.Location.Line > 0, d.Format()));
    }

    [Fact]
    public void Unknown_source_gets_a_did_you_mean_hint()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("source: events\n    agg: count", "source: evnts\n    agg: count")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC2002");

        Assert.Contains("evnts", error.Message);
        Assert.Equal("did you mean `events`?", error.Hint);
    }

    [Fact]
    public void Unknown_column_in_an_expression_points_at_the_column_itself()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("filter: event_type = 'purchase'\n  - name: purchases", "filter: event_typ = 'purchase'\n  - name: purchases")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC2004");

        var line = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml"))[error.Location.Line - 1];
        Assert.Equal("event_typ", line.Substring(error.Location.Column - 1, "event_typ".Length));
        Assert.Equal("did you mean `event_type`?", error.Hint);
    }

    [Fact]
    public void Unknown_key_is_an_error_with_the_closest_known_key()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("    agg: sum", "    agregation: sum\n    agg: sum")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC1002");

        Assert.Contains("agregation", error.Message);
        Assert.NotNull(error.Hint);
    }

    [Fact]
    public void Invalid_aggregation_lists_the_valid_ones()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("agg: sum", "agg: summ")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC1005");

        Assert.Contains("did you mean `sum`?", error.Hint);
    }

    [Fact]
    public void Duplicate_metric_names_point_at_the_first_declaration()
    {
        var duplicated = Fixtures.Project.Replace("  - name: purchased\n", "  - name: purchases\n");
        using var project = new TempProject(("metrics.yml", duplicated));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC2001");

        Assert.Contains("purchases", error.Message);
        Assert.StartsWith("first declared at metrics.yml:", error.Hint);
    }

    [Fact]
    public void Ratio_cycle_names_its_path()
    {
        var cyclic = Fixtures.Project.Replace(
            "  - name: order_value\n    agg: ratio\n    numerator: revenue\n    denominator: purchases",
            "  - name: order_value\n    agg: ratio\n    numerator: share\n    denominator: purchases\n  - name: share\n    agg: ratio\n    numerator: order_value\n    denominator: purchases");
        using var project = new TempProject(("metrics.yml", cyclic));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC2005");

        Assert.Contains("order_value -> share -> order_value", error.Message);
    }

    [Fact]
    public void Missing_control_and_missing_primary_are_errors()
    {
        var broken = Fixtures.Project.Replace("control: true", "control: false").Replace("primary: [purchased]", "primary: []");
        using var project = new TempProject(("metrics.yml", broken));
        var codes = project.Load().Diagnostics.Select(d => d.Code).ToList();

        Assert.Contains("MC3003", codes);
        Assert.Contains("MC3005", codes);
    }

    [Fact]
    public void Expressions_must_be_single_expressions()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("expr: revenue\n", "expr: \"revenue; drop table users\"\n")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC4001");

        Assert.Contains("`;`", error.Message);
    }

    [Fact]
    public void Literal_passwords_are_rejected_in_targets()
    {
        var withTarget = Fixtures.Project.Replace("name: shop\n", "name: shop\ntargets:\n  pg:\n    adapter: postgres\n    password: hunter2\n");
        using var project = new TempProject(("metrics.yml", withTarget));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC1005");

        Assert.Contains("password", error.Message);
        Assert.Contains("password_env", error.Hint);
        Assert.DoesNotContain("hunter2", error.Format());
    }

    [Fact]
    public void Included_files_are_loaded_in_name_order_and_located_by_their_own_path()
    {
        var parts = Fixtures.Project.Split("metrics:\n");
        var metricsAndExperiments = "metrics:\n" + parts[1];
        using var project = new TempProject(
            ("metrics.yml", parts[0] + "include:\n  - models/**/*.yml\n"),
            ("models/b/metrics.yml", metricsAndExperiments.Replace("revenue\n    source: events\n    agg: sum", "revenue\n    source: event\n    agg: sum")));
        var result = project.Load();

        Assert.Contains("models/b/metrics.yml", result.Project!.Files);
        var error = result.Diagnostics.Single(d => d.Code == "MC2002");
        Assert.Equal("models/b/metrics.yml", error.Location.File);
    }

    [Fact]
    public void Include_pattern_matching_nothing_is_a_warning()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project + "\ninclude:\n  - nowhere/*.yml\n"));
        var result = project.Load();

        Assert.True(result.Succeeded);
        Assert.Equal("MC1006", Assert.Single(result.Diagnostics).Code);
    }

    [Fact]
    public void Analysis_methods_decision_rules_and_segments_are_read_from_yaml()
    {
        var yaml = Fixtures.Project + """

                analysis:
                  method: bayesian
                  prior: {mean: 0.01, variance: 0.04}
                  sequential_tuning: 2000
                  correction: bh
                  segments:
                    - {name: market, source: exposures, column: experiment_id}
                decision:
                  ship_when_primary: any
                  guardrails: non_inferior
                  require_srm_clean: false
            """;
        using var project = new TempProject(("metrics.yml", yaml));
        var result = project.Load();

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var experiment = result.Project!.Experiments[0];
        Assert.Equal(AnalysisMethod.Bayesian, experiment.Analysis.Method);
        Assert.Equal(new PriorSettings(0.01, 0.04), experiment.Analysis.Prior);
        Assert.Equal(2000, experiment.Analysis.SequentialTuning);
        Assert.Equal(MultipleTestingCorrection.BenjaminiHochberg, experiment.Analysis.Correction);
        Assert.Equal("experiment_id", Assert.Single(experiment.Analysis.Segments).Column);
        Assert.Equal(new DecisionRules(PrimaryRule.Any, GuardrailRule.NonInferior, false), experiment.Decision);
    }

    [Fact]
    public void Segment_on_an_unknown_column_is_reported()
    {
        var yaml = Fixtures.Project + "\n    analysis:\n      segments: [{name: market, source: exposures, column: markt}]\n";
        using var project = new TempProject(("metrics.yml", yaml));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC2004");
        Assert.Contains("markt", error.Message);
    }

    [Fact]
    public void Guardrail_without_a_positive_margin_is_an_error()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("margin: 0.1}", "margin: 0}")));
        var error = project.Load().Diagnostics.Single(d => d.Code == "MC3004");
        Assert.Contains("margin must be positive", error.Message);

        using var missing = new TempProject(("metrics.yml", Fixtures.Project.Replace(", margin: 0.1}", "}")));
        Assert.Contains(missing.Load().Diagnostics, d => d.Code == "MC1004" && d.Message.Contains("`margin`"));
    }

    [Theory]
    [InlineData("  - name: revenue\n", "  - name: revenue__pre\n", "contains `__`")]
    [InlineData("  - name: purchases\n", "  - name: variant\n", "is reserved")]
    public void Names_that_collide_with_generated_names_are_rejected(string from, string to, string message)
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace(from, to)));
        Assert.Contains(project.Load().Diagnostics, d => d.Code == "MC1009" && d.Message.Contains(message));
    }

    [Fact]
    public void Include_patterns_cannot_leave_the_project()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project + "\ninclude:\n  - ../*.yml\n"));
        Assert.Equal("MC1010", Assert.Single(project.Load().Diagnostics).Code);
    }

    [Fact]
    public void Missing_project_file_is_reported_not_thrown()
    {
        using var project = new TempProject();
        var result = project.Load();

        Assert.Null(result.Project);
        Assert.Equal("MC1007", Assert.Single(result.Diagnostics).Code);
    }
}
