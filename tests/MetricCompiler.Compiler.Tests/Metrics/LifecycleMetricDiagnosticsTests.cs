using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Compiler.Tests.Metrics;

/// <summary>
/// Bad conversion and activation definitions: each gets one located diagnostic with a stable code and a hint, pointing
/// at the text that is wrong.
/// </summary>
public sealed class LifecycleMetricDiagnosticsTests
{
    private const string Funnel = """
          - name: signup_to_purchase
            type: conversion
            source: events
            window: 7 days
            steps:
              - {name: sign_up, filter: "event_type = 'sign_up'"}
              - {name: purchase, filter: "event_type = 'purchase'"}

        """;

    private const string Activation = """
          - name: activation
            type: activation
            source: events
            anchor: event_type = 'sign_up'
            actions:
              - {name: viewed, filter: "event_type = 'page_view'"}
              - {name: clicked, filter: "event_type = 'click'"}
              - {name: purchased, filter: "event_type = 'purchase'"}
            required: 2
            within: 7 days

        """;

    private static readonly string[] Steps =
    [
        "      - {name: sign_up, filter: \"event_type = 'sign_up'\"}\n",
        "      - {name: purchase, filter: \"event_type = 'purchase'\"}\n",
    ];

    /// <summary>Loads the fixture project with <paramref name="metric"/> added; returns the single error with <paramref name="code"/> and the text at its location.</summary>
    private static (Diagnostic Error, string Text) Single(string metric, string code)
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("experiments:\n", metric + "experiments:\n", StringComparison.Ordinal)));
        var result = project.Load();
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var error = Assert.Single(errors);
        Assert.True(error.Code == code, error.Format());
        Assert.EndsWith("metrics.yml", error.Location.File);
        Assert.NotNull(error.Hint);
        var line = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml"))[error.Location.Line - 1];
        return (error, line[(error.Location.Column - 1)..]);
    }

    [Fact]
    public void The_valid_definitions_load()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("experiments:\n", Funnel + Activation + "experiments:\n", StringComparison.Ordinal)));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
    }

    [Fact]
    public void Unknown_source_points_at_the_name()
    {
        var (error, text) = Single(Funnel.Replace("source: events", "source: evnts"), "MC2002");
        Assert.StartsWith("evnts", text);
        Assert.Equal("did you mean `events`?", error.Hint);
        Assert.StartsWith("evnts", Single(Activation.Replace("source: events", "source: evnts"), "MC2002").Text);
    }

    [Fact]
    public void Unknown_column_in_a_step_points_at_the_column()
    {
        var (error, text) = Single(Funnel.Replace("event_type = 'purchase'", "event_typ = 'purchase'"), "MC2004");
        Assert.StartsWith("event_typ ", text);
        Assert.Equal("did you mean `event_type`?", error.Hint);
        Assert.StartsWith("evnt_type", Single(Activation.Replace("anchor: event_type", "anchor: evnt_type"), "MC2004").Text);
        Assert.StartsWith("event_typo", Single(Activation.Replace("event_type = 'click'", "event_typo = 'click'"), "MC2004").Text);
    }

    [Fact]
    public void A_funnel_needs_two_steps()
    {
        var (error, text) = Single(Funnel.Replace(Steps[1], ""), "MC1005");
        Assert.Contains("at least two steps", error.Message);
        Assert.StartsWith("- {name: sign_up", text);
        var (empty, emptyText) = Single(Funnel.Replace(Steps[0], "").Replace(Steps[1], "").Replace("    steps:\n", "    steps: []\n"), "MC1005");
        Assert.Contains("has none", empty.Message);
        Assert.StartsWith("[]", emptyText);
    }

    [Fact]
    public void A_window_must_be_whole_days()
    {
        var (error, text) = Single(Funnel.Replace("window: 7 days", "window: 7 weeks"), "MC1005");
        Assert.Contains("`window: 7 weeks`", error.Message);
        Assert.StartsWith("7 weeks", text);
        Assert.StartsWith("0 days", Single(Activation.Replace("within: 7 days", "within: 0 days"), "MC1005").Text);
    }

    [Fact]
    public void Steps_over_another_source_are_refused()
    {
        var (error, text) = Single(Funnel.Replace("{name: purchase, filter:", "{name: purchase, source: exposures, filter:"), "MC3007");
        Assert.Contains("reads source `exposures`", error.Message);
        Assert.StartsWith("exposures", text);
    }

    [Fact]
    public void Step_names_are_column_names_and_unique()
    {
        Assert.StartsWith("{name: Purchase!", Single(Funnel.Replace("{name: purchase,", "{name: Purchase!,"), "MC1009").Text);
        var (duplicate, text) = Single(Funnel.Replace("{name: purchase,", "{name: sign_up,"), "MC2001");
        Assert.Contains("`sign_up` is named twice", duplicate.Message);
        Assert.StartsWith("{name: sign_up, filter: \"event_type = 'purchase'", text);
    }

    [Fact]
    public void Required_actions_must_be_between_one_and_the_number_of_actions()
    {
        var (tooMany, text) = Single(Activation.Replace("required: 2", "required: 4"), "MC3004");
        Assert.Contains("more than the 3 action(s)", tooMany.Message);
        Assert.StartsWith("4", text);
        var (tooFew, zero) = Single(Activation.Replace("required: 2", "required: 0"), "MC3004");
        Assert.Contains("at least 1", tooFew.Message);
        Assert.StartsWith("0", zero);
    }

    [Fact]
    public void Missing_keys_point_at_the_metric()
    {
        var (error, text) = Single(Funnel.Replace("    window: 7 days\n", ""), "MC1004");
        Assert.Contains("needs `window`", error.Message);
        Assert.StartsWith("name: signup_to_purchase", text);
        Assert.Contains("needs `anchor`", Single(Activation.Replace("    anchor: event_type = 'sign_up'\n", ""), "MC1004").Error.Message);
    }

    [Fact]
    public void An_anchor_metric_is_a_simple_metric_over_the_same_source()
    {
        using (var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("experiments:\n",
                   Activation.Replace("anchor: event_type = 'sign_up'", "anchor_metric: purchased") + "experiments:\n", StringComparison.Ordinal))))
            Assert.True(project.Load().Succeeded);
        var (ratio, text) = Single(Activation.Replace("anchor: event_type = 'sign_up'", "anchor_metric: order_value"), "MC3007");
        Assert.Contains("must be a simple metric over `events`, and it is a ratio metric", ratio.Message);
        Assert.StartsWith("order_value", text);
        var (both, bothText) = Single(Activation.Replace("anchor: event_type = 'sign_up'", "anchor: event_type = 'sign_up'\n    anchor_metric: purchased"), "MC3007");
        Assert.Contains("either `anchor` or `anchor_metric`", both.Message);
        Assert.StartsWith("purchased", bothText);
        Assert.StartsWith("signed_upp", Single(Activation.Replace("anchor: event_type = 'sign_up'", "anchor_metric: signed_upp"), "MC2003").Text);
    }
}
