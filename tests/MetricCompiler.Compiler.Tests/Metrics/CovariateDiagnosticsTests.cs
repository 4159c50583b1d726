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

    private static (Diagnostic Error, string Text) Single(string covariates)
    {
        using var project = With(covariates);
        var result = project.Load();
        var error = Assert.Single(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error.Code == "MC3009", error.Format());
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
}
