using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Compiler.Tests.Sql;

/// <summary>
/// Conversion and activation metrics compiled for the engines the suite does not execute (Trino, Snowflake) must match
/// the SQL committed under Golden/lifecycle/&lt;dialect&gt;/: the demo's weekly query of both metrics, and the unit
/// metrics of an experiment analysing them. Regenerate with <c>METRICC_UPDATE_GOLDEN=1</c> and review the diff.
/// </summary>
public sealed class LifecycleGoldenSqlTests
{
    private static readonly string GoldenRoot = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "lifecycle");

    public static TheoryData<string> Dialects => new() { "trino", "snowflake" };

    private const string Metrics = """
          - name: signup_to_purchase
            type: conversion
            source: events
            window: 7 days
            steps:
              - {name: sign_up, filter: "event_type = 'sign_up'"}
              - {name: purchase, filter: "event_type = 'purchase'"}
          - name: activation
            type: activation
            source: events
            anchor: event_type = 'sign_up'
            actions:
              - {name: purchased, filter: "event_type = 'purchase'"}
              - {name: big_purchase, filter: "revenue > 100"}
            required: 1
            within: 7 days

        """;

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Lifecycle_metrics_compile_to_the_committed_sql(string dialect)
    {
        var compiled = Compile(dialect);
        var folder = Path.Combine(GoldenRoot, dialect);
        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(folder);
            foreach (var (name, sql) in compiled)
                File.WriteAllText(Path.Combine(folder, name + ".sql"), sql);
        }

        foreach (var (name, sql) in compiled)
        {
            var path = Path.Combine(folder, name + ".sql");
            Assert.True(File.Exists(path), $"no golden file {dialect}/{name}.sql; run METRICC_UPDATE_GOLDEN=1");
            Assert.True(File.ReadAllText(path) == sql, $"lifecycle/{dialect}/{name}.sql differs from the golden file");
        }
    }

    [Fact]
    public void Window_arithmetic_is_spelled_per_dialect()
    {
        var trino = Compile("trino");
        var snowflake = Compile("snowflake");
        Assert.Contains("e.occurred_at <= date_add('day', 7, p.sign_up_at)", trino["query_by_week"]);
        Assert.Contains("e.occurred_at <= dateadd(day, 7, p.sign_up_at)", snowflake["query_by_week"]);
        Assert.Contains("e.occurred_at < date_add('day', 7, a.anchored_at)", trino["query_by_week"]);
        Assert.Contains("e.occurred_at < dateadd(day, 7, a.anchored_at)", snowflake["query_by_week"]);
        Assert.Contains("e.occurred_at < date_add('day', 7, x.first_exposure_at)", trino["exp_checkout__unit_metrics"]);
        Assert.Contains("e.occurred_at < dateadd(day, 7, x.first_exposure_at)", snowflake["exp_checkout__unit_metrics"]);
    }

    private static Dictionary<string, string> Compile(string dialect)
    {
        var yaml = Fixtures.Project
            .Replace("experiments:\n", Metrics + "experiments:\n", StringComparison.Ordinal)
            .Replace("secondary: [revenue, order_value]", "secondary: [signup_to_purchase, activation]", StringComparison.Ordinal);
        using var project = new TempProject(("metrics.yml", yaml));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var sqlDialect = SqlDialects.ForAdapter(dialect);
        var query = QueryPlanner.Plan(load.Bound!, new MetricQuery(["signup_to_purchase", "activation"], ["metric_time__week"]));
        var units = PlanCompiler.Compile(Planner.Plan(load.Bound!), sqlDialect).Single(c => c.Node.Name == "exp_checkout__unit_metrics");
        return new Dictionary<string, string>
        {
            ["query_by_week"] = SqlRenderer.ForReview(sqlDialect).Render(query.Query),
            ["exp_checkout__unit_metrics"] = units.Sql!,
        };
    }
}
