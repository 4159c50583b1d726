using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Compiler.Tests.Planning;

public sealed class PlannerTests
{
    private static ExecutionPlan Plan()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project));
        var load = project.Load();
        Assert.True(load.Succeeded);
        return Planner.Plan(load.Bound!);
    }

    [Fact]
    public void Plan_has_every_node_kind_in_dependency_order()
    {
        var plan = Plan();
        var names = plan.Nodes.Select(n => n.Name).ToList();

        string[] expected =
            ["exp_checkout__exposures", "exp_checkout__srm", "exp_checkout__unit_metrics", "exp_checkout__statistics", "experiment_results",
             "stg_events", "stg_exposures"];
        Assert.Equal(expected.Order(), names.Order());
        foreach (var node in plan.Nodes)
            foreach (var dependency in node.DependsOn)
                Assert.True(names.IndexOf(dependency) < names.IndexOf(node.Name), $"{dependency} must run before {node.Name}");
        Assert.DoesNotContain(names, n => n.StartsWith("fct_", StringComparison.Ordinal)); // no metric asks to be materialized
    }

    [Fact]
    public void Unit_metrics_read_each_source_once_for_all_metrics()
    {
        var node = Plan()["exp_checkout__unit_metrics"];
        var references = NodeReferences(node.Query!).ToList();

        Assert.Equal(1, references.Count(r => r == "stg_events"));
        Assert.Equal(1, references.Count(r => r == "exp_checkout__exposures"));
    }

    [Theory]
    [InlineData("stg_events", new[] { "stg_events" })]
    [InlineData("+exp_checkout__unit_metrics", new[] { "exp_checkout__exposures", "exp_checkout__unit_metrics", "stg_events", "stg_exposures" })]
    [InlineData("exp_checkout__unit_metrics+", new[] { "exp_checkout__statistics", "exp_checkout__unit_metrics", "experiment_results" })]
    [InlineData("stg_*", new[] { "stg_events", "stg_exposures" })]
    [InlineData("tag:staging", new[] { "stg_events", "stg_exposures" })]
    [InlineData("stg_events exp_checkout__srm", new[] { "exp_checkout__srm", "stg_events" })]
    public void Selectors_follow_dbt_syntax(string selector, string[] expected)
    {
        var selected = NodeSelector.Select(Plan(), [selector], []);
        Assert.Equal(expected.Order(), selected.Select(n => n.Name).Order());
    }

    [Fact]
    public void Exclude_removes_nodes_after_selection()
    {
        var selected = NodeSelector.Select(Plan(), ["tag:experiment"], ["experiment_results"]);
        Assert.DoesNotContain(selected, n => n.Name == "experiment_results");
        Assert.Contains(selected, n => n.Name == "exp_checkout__statistics");
    }

    [Fact]
    public void Unknown_selector_suggests_the_closest_node()
    {
        var error = Assert.Throws<SelectorException>(() => NodeSelector.Select(Plan(), ["stg_event"], []));
        Assert.Contains("did you mean `stg_events`?", error.Message);
    }

    [Fact]
    public void Materialize_adds_a_metric_table_that_reads_its_sources()
    {
        var yaml = Fixtures.Project.Replace("  - name: purchases\n    source: events\n    agg: count\n", "  - name: purchases\n    source: events\n    agg: count\n    materialize: {grain: month}\n");
        Assert.Contains("materialize", yaml);
        using var project = new TempProject(("metrics.yml", yaml));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var node = Planner.Plan(load.Bound!)["fct_purchases"];

        Assert.Equal(NodeKind.MetricTable, node.Kind);
        Assert.Equal(["stg_events"], node.DependsOn);
        var sql = PlanCompiler.Compile(Planner.Plan(load.Bound!), MetricCompiler.Sql.Dialects.SqlDialects.ForAdapter("postgres")).Single(c => c.Node.Name == "fct_purchases").Sql!;
        Assert.Contains("as metric_date", sql);
        Assert.Contains("as metric_value", sql);
        Assert.Contains("date_trunc('month'", sql);
    }

    [Fact]
    public void Materialize_with_an_unknown_dimension_is_a_located_error()
    {
        var yaml = Fixtures.Project.Replace("  - name: purchases\n    source: events\n    agg: count\n", "  - name: purchases\n    source: events\n    agg: count\n    materialize: {grain: week, dimensions: [contry]}\n");
        using var project = new TempProject(("metrics.yml", yaml));
        var load = project.Load();
        Assert.True(load.Succeeded);
        var error = Assert.Throws<MetricCompiler.Core.Diagnostics.CompilationException>(() => Planner.Plan(load.Bound!));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("MC2008", diagnostic.Code);
        Assert.Contains("unknown dimension `contry`", diagnostic.Message);
        var line = yaml.Split('\n').ToList().FindIndex(l => l.Contains("materialize:", StringComparison.Ordinal)) + 1;
        Assert.Equal(line, diagnostic.Location.Line);
    }

    private static IEnumerable<string> NodeReferences(QueryExpr query)
    {
        foreach (var cte in query.With)
            foreach (var reference in NodeReferences(cte.Query))
                yield return reference;
        var selects = query switch
        {
            SelectQuery s => [s],
            UnionAllQuery u => u.Parts,
            _ => [],
        };
        foreach (var select in selects)
            foreach (var reference in FromReferences(select.From))
                yield return reference;
    }

    private static IEnumerable<string> FromReferences(FromItem from) => from switch
    {
        TableFrom { Relation: NodeRef n } => [n.Node],
        JoinFrom j => FromReferences(j.Left).Concat(FromReferences(j.Right)),
        _ => [],
    };
}
