using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Metrics;

/// <summary>
/// <c>analysis: covariates:</c>: a covariate that is not a count-like simple metric, or is listed twice, is MC3009 at its
/// name; a valid list reaches the statistics query as the cross-product columns of every count-like metric.
/// </summary>
public sealed class CovariateDiagnosticsTests
{
    private static TempProject With(string covariates) =>
        new(("metrics.yml", Fixtures.Project.TrimEnd() + $"\n    analysis:\n      covariates: {covariates}\n"));

    private static (Diagnostic Error, string Text) Single(string covariates, string code = "MC3009")
    {
        using var project = With(covariates);
        var result = project.Load();
        var error = Assert.Single(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error.Code == code, error.Format());
        Assert.NotNull(error.Hint);
        var line = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml"))[error.Location.Line - 1];
        return (error, line[(error.Location.Column - 1)..]);
    }

    [Fact]
    public void A_ratio_covariate_and_a_repeated_one_are_refused_at_their_name()
    {
        var (ratio, text) = Single("[revenue, order_value]");
        Assert.StartsWith("order_value]", text);
        Assert.Contains("covariate `order_value` is a ratio metric", ratio.Message);
        var (twice, at) = Single("[revenue, purchases, revenue]");
        Assert.StartsWith("revenue]", at);
        Assert.Contains("listed twice", twice.Message);
    }

    [Fact]
    public void Valid_covariates_give_every_count_like_metric_its_cross_product_columns()
    {
        using var project = With("[revenue, purchases]");
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        var sql = PlanCompiler.Compile(Planner.Plan(result.Bound!), SqlDialects.ForAdapter("duckdb")).Single(c => c.Node.Name == "exp_checkout__statistics").Sql!;
        foreach (var column in new[] { "x1_sum", "x2_sum", "x1_x1", "x1_x2", "x2_x2", "x1_y", "x2_y" })
            Assert.Equal(4, sql.Split($" as {column}\n").Length + sql.Split($" as {column},").Length - 2);
        Assert.Contains("sum((revenue__pre - centres.revenue__pre__centre) * (purchases__pre - centres.purchases__pre__centre)) as x1_x2", sql);
        var units = PlanCompiler.Compile(Planner.Plan(result.Bound!), SqlDialects.ForAdapter("duckdb")).Single(c => c.Node.Name == "exp_checkout__unit_metrics").Sql!;
        Assert.Contains("as purchases__pre", units);
    }

    [Fact]
    public void A_unit_attribute_with_an_unknown_column_a_text_column_without_levels_or_a_source_not_per_unit_is_refused_where_it_is_declared()
    {
        var (unknown, text) = Single("[revenue, {attribute: countri, source: events, levels: [US, DE]}]", "MC3010");
        Assert.StartsWith("{attribute: countri", text);
        Assert.Contains("`countri` is not a column of source `events`", unknown.Message);
        var (perUnit, at) = Single("[{attribute: revenue, source: events}]", "MC3011");
        Assert.StartsWith("{attribute: revenue", at);
        Assert.Contains("does not declare one row per unit", perUnit.Message);
        using var project = new TempProject(("metrics.yml", Fixtures.Project.Replace("unique_key: event_id", "unique_key: user_id").TrimEnd()
            + "\n    analysis:\n      covariates: [{attribute: event_type, source: events}, {attribute: event_type, source: events, levels: [a]}]\n"));
        var errors = project.Load().Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.Equal(["MC3010", "MC3010"], errors.Select(e => e.Code));
        Assert.Contains("a string column without `levels`", errors[0].Message);
        Assert.Contains("at least two distinct levels", errors[1].Message);
        var lastLine = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml")).Length;
        Assert.All(errors, e => Assert.Equal(lastLine, e.Location.Line));
        Assert.True(errors[0].Location.Column < errors[1].Location.Column, "each error is at its own entry");
        var (unknownSource, _) = Single("[{attribute: age, source: people}]", "MC2002");
        Assert.Contains("people", unknownSource.Message);
    }
}
