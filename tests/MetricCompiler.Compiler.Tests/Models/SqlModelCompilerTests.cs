using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Models;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Models;

/// <summary>SQL models and data tests at compile time: the DAG they join and each located error.</summary>
public sealed class SqlModelCompilerTests
{
    private static readonly IReadOnlyDictionary<string, object?> NoVars = new Dictionary<string, object?>();

    private static (LoadResult Load, IReadOnlyList<Diagnostic> All, ExecutionPlan? Plan) Compile(TempProject project, IReadOnlyDictionary<string, object?>? vars = null)
    {
        var load = ProjectLoader.Load(project.Root, vars);
        if (!load.Succeeded)
            return (load, load.Diagnostics, null);
        try
        {
            return (load, load.Diagnostics, Planner.Plan(load.Bound!));
        }
        catch (CompilationException e)
        {
            return (load, [.. load.Diagnostics, .. e.Diagnostics], null);
        }
    }

    private static Diagnostic Single(IReadOnlyList<Diagnostic> diagnostics, string code)
    {
        var errors = diagnostics.Where(d => d.IsError).ToList();
        Assert.True(errors.Count == 1 && errors[0].Code == code, string.Join("\n", diagnostics.Select(d => d.Format())));
        return errors[0];
    }

    [Fact]
    public void Model_joins_the_dag_after_what_it_refs_and_before_what_reads_it()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project),
            ("models/purchases.sql", """
                {{ config(materialized='view') }}
                select user_id, revenue from {{ ref('stg_events') }} where event_type = 'purchase'
                """),
            ("models/big_spenders.sql", "select user_id from {{ ref('purchases') }} where revenue > {{ var('threshold', 100) }}"));
        var (_, all, plan) = Compile(project);
        Assert.True(plan is not null, string.Join("\n", all.Select(d => d.Format())));
        var order = plan.Nodes.Select(n => n.Name).ToList();
        Assert.True(order.IndexOf("stg_events") < order.IndexOf("purchases"));
        Assert.True(order.IndexOf("purchases") < order.IndexOf("big_spenders"));
        Assert.True(plan["purchases"].IsView);
        Assert.False(plan["big_spenders"].IsView);
        Assert.Equal(["purchases"], plan["big_spenders"].DependsOn);

        var compiled = PlanCompiler.Compile(plan, SqlDialects.ForAdapter("duckdb")).Single(c => c.Node.Name == "big_spenders").Sql!;
        Assert.Contains("-- node:       big_spenders (model)", compiled);
        Assert.Contains("-- defined at: models/big_spenders.sql:1:1", compiled);
        Assert.Contains("select user_id from purchases where revenue > 100", compiled);
    }

    [Fact]
    public void A_model_may_ref_a_metric_table_and_an_experiment_table()
    {
        var yaml = Fixtures.Project.Replace("  - name: purchases\n    source: events\n    agg: count\n", "  - name: purchases\n    source: events\n    agg: count\n    materialize: {grain: day}\n");
        using var project = new TempProject(("metrics.yml", yaml),
            ("models/daily.sql", "select d.metric_date, d.metric_value, s.units\nfrom {{ ref('fct_purchases') }} as d cross join {{ ref('exp_checkout__srm') }} as s"));
        var (_, all, plan) = Compile(project);
        Assert.True(plan is not null, string.Join("\n", all.Select(d => d.Format())));
        Assert.Equal(["fct_purchases", "exp_checkout__srm"], plan["daily"].DependsOn);
        var order = plan.Nodes.Select(n => n.Name).ToList();
        Assert.True(order.IndexOf("fct_purchases") < order.IndexOf("daily") && order.IndexOf("exp_checkout__srm") < order.IndexOf("daily"));
    }

    [Fact]
    public void Vars_if_and_for_render_as_dbt_users_write_them()
    {
        const string Sql = """
            select
            {% for c in var('countries') %}    sum(case when country = '{{ c }}' then 1 else 0 end) as n_{{ c | downcase }},
            {% endfor %}    count(*) as users
            from {{ source('raw', 'events') }}
            {% if var('days') == 7 and true %}where recent{% elif var('days') == 1 %}where today{% else %}where always{% endif %}
            """;
        var vars = SqlTemplate.ParseVars("{countries: [DE, FR], days: 1}");
        var diagnostics = new DiagnosticBag();
        var rendered = SqlTemplate.Render("models/m.sql", Sql, vars, diagnostics);
        Assert.NotNull(rendered);
        var text = string.Concat(rendered.Parts.Select(p => p switch { SqlTextPart t => t.Text, SqlSourcePart s => $"<{s.Name.Name}>", _ => "?" }));
        Assert.Contains("sum(case when country = 'DE' then 1 else 0 end) as n_de,", text);
        Assert.Contains("as n_fr,", text);
        Assert.Contains("from <events>", text);
        Assert.Contains("where today", text);
        Assert.DoesNotContain("recent", text);
    }

    [Fact]
    public void A_model_described_twice_under_models_is_a_located_error_not_a_crash()
    {
        // Found by the full fuzz run (a duplicated line in the demo's page_loads.yml): it used to throw from the planner.
        using var project = new TempProject(("metrics.yml", Fixtures.Project + "\nmodels:\n  - {name: m}\n  - {name: m, description: again}\n"),
            ("models/m.sql", "select * from {{ ref('stg_events') }}"));
        var error = Single(Compile(project).All, "MC2001");
        Assert.Contains("`models:` describes `m` twice", error.Message, StringComparison.Ordinal);
        Assert.Equal(Fixtures.Project.Split('\n').Length + 3, error.Location.Line);
    }

    [Fact]
    public void Unknown_ref_is_located_at_the_call()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", "select *\nfrom   {{ ref('stg_event') }}"));
        var error = Single(Compile(project).All, "MC6002");
        Assert.Equal(new SourceLocation("models/m.sql", 2, 11), error.Location);
        Assert.Contains("stg_events", error.Hint);
    }

    [Fact]
    public void Unknown_source_is_located_at_the_call()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", "select * from {{ source('raw', 'event') }}"));
        var error = Single(Compile(project).All, "MC6003");
        Assert.Equal(new SourceLocation("models/m.sql", 1, 18), error.Location);
    }

    [Fact]
    public void Template_syntax_error_is_located()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", "select 1\n{% if true %}\nfrom x"));
        var error = Single(Compile(project).All, "MC6001");
        Assert.Equal("models/m.sql", error.Location.File);
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public void Unknown_var_is_located_and_names_the_var()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", "select {{ var('days') }} as d from {{ ref('stg_events') }}"));
        var error = Single(Compile(project).All, "MC6004");
        Assert.Equal(new SourceLocation("models/m.sql", 1, 11), error.Location);
        Assert.Contains("`days`", error.Message);
        Assert.True(Compile(project, SqlTemplate.ParseVars("{days: 3}")).Plan is not null);
    }

    [Fact]
    public void Cycle_through_models_is_located_at_the_ref_that_closes_it()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project),
            ("models/a.sql", "select * from {{ ref('b') }}"),
            ("models/b.sql", "select *\n  from {{ ref('a') }}"));
        var error = Single(Compile(project).All, "MC6005");
        Assert.StartsWith("models/", error.Location.File);
        Assert.Contains("a -> b -> a", error.Message.Replace("b -> a -> b", "a -> b -> a"));
    }

    [Fact]
    public void Cycle_through_a_source_that_reads_a_model_is_reported()
    {
        var yaml = Fixtures.Project.Replace("\nmetrics:\n",
            "\n  - name: clean\n    model: cleaned\n    entity: user_id\n    event_time: occurred_at\n    columns:\n      - {name: user_id, type: string}\n      - {name: occurred_at, type: timestamp}\nmetrics:\n");
        using var project = new TempProject(("metrics.yml", yaml), ("models/cleaned.sql", "select * from {{ ref('stg_clean') }}"));
        var error = Single(Compile(project).All, "MC6005");
        Assert.Equal(new SourceLocation("models/cleaned.sql", 1, 18), error.Location);
    }

    [Fact]
    public void Invalid_materialization_is_located()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", "\n{{ config(materialized='ephemeral') }}\nselect 1"));
        var error = Single(Compile(project).All, "MC6006");
        Assert.Equal(new SourceLocation("models/m.sql", 2, 1), error.Location);
    }

    [Theory]
    [InlineData("{{ config(materialized='incremental') }}", "needs `event_time`")]
    [InlineData("{{ config(materialized='incremental', event_time='d', lookback_days=-1) }}", "not a number of days")]
    [InlineData("{{ config(materialized='incremental', event_time='d', unique_key='id') }}", "no setting `unique_key`")]
    [InlineData("{{ config(materialized='table', event_time='d') }}", "settings of an incremental model")]
    public void Invalid_incremental_config_is_located(string config, string message)
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql", $"\n{config}\nselect 1 as d"));
        var error = Single(Compile(project).All, "MC6008");
        Assert.Equal(new SourceLocation("models/m.sql", 2, 1), error.Location);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Dbt_incremental_filter_is_reported_where_it_is_written()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql",
            "{{ config(materialized='incremental', event_time='d') }}\nselect occurred_at as d from {{ ref('stg_events') }}\n{% if is_incremental() %} where d > (select max(d) from {{ this }}){% endif %}"));
        var error = Single(Compile(project).All, "MC6009");
        Assert.Equal(new SourceLocation("models/m.sql", 3, 7), error.Location);
    }

    [Fact]
    public void An_incremental_model_says_so_in_its_header_and_the_manifest()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project), ("models/m.sql",
            "{{ config(materialized='incremental', event_time='d', lookback_days=3) }}\nselect occurred_at as d from {{ ref('stg_events') }}"));
        var (_, all, plan) = Compile(project);
        Assert.True(plan is not null, string.Join("\n", all.Select(d => d.Format())));
        var node = plan["m"];
        Assert.Equal(new Core.Models.IncrementalConfig("d", 3, new SourceLocation("models/m.sql", 1, 1)), node.Incremental);
        Assert.Equal("incremental", node.MaterializedName);
        Assert.Contains("-- node:       m (model, incremental on d, lookback 3 days)", MetricCompiler.Planning.PlanCompiler.Header(node, MetricCompiler.Sql.Dialects.SqlDialects.ForAdapter("duckdb")));
    }

    [Fact]
    public void Unknown_test_kind_and_unknown_column_are_located()
    {
        var yaml = Fixtures.Project.Replace("      - {name: event_type, type: string}", "      - {name: event_type, type: string, tests: [not_nul]}");
        using var project = new TempProject(("metrics.yml", yaml));
        var error = Single(Compile(project).All, "MC6007");
        Assert.Contains("not_null", error.Hint);

        var yaml2 = Fixtures.Project.Replace("    unique_key: event_id\n", "    unique_key: event_id\n    tests:\n      - not_null: {column: evnt_id}\n");
        using var project2 = new TempProject(("metrics.yml", yaml2));
        Assert.Equal("MC2004", Single(Compile(project2).All, "MC2004").Code);
    }

    [Fact]
    public void Data_tests_are_attached_to_the_node_they_check()
    {
        var yaml = Fixtures.Project.Replace("      - {name: event_id, type: string}", "      - {name: event_id, type: string, tests: [unique, {not_null: {severity: warn}}]}");
        using var project = new TempProject(("metrics.yml", yaml + "\nmodels:\n  - name: m\n    columns:\n      - {name: user_id, tests: [{relationships: {to: exposures, field: user_id}}]}\n"),
            ("models/m.sql", "select user_id from {{ ref('stg_events') }}"),
            ("tests/no_negative_revenue.sql", "{{ config(severity='warn') }}\nselect * from {{ ref('m') }} where 1 = 0"));
        var (_, all, plan) = Compile(project);
        Assert.True(plan is not null, string.Join("\n", all.Select(d => d.Format())));
        var tests = plan.Tests.ToDictionary(t => t.Name);
        Assert.Equal("stg_events", tests["unique_source_events_event_id"].AttachedTo);
        Assert.Equal(Core.Model.TestSeverity.Warn, tests["not_null_source_events_event_id"].Severity);
        Assert.Equal("m", tests["relationships_m_user_id__exposures_user_id"].AttachedTo);
        Assert.Equal("m", tests["no_negative_revenue"].AttachedTo);
        Assert.Equal(Core.Model.TestSeverity.Warn, tests["no_negative_revenue"].Severity);
    }

    [Theory]
    [InlineData("{% if true %}", "{% endif %}")]
    [InlineData("{{ ref(", ") }}")]
    public void Hostile_nesting_is_a_diagnostic_not_a_crash(string open, string close)
    {
        var text = "select 1\n" + string.Concat(Enumerable.Repeat(open, 20_000)) + string.Concat(Enumerable.Repeat(close, 20_000));
        var diagnostics = new DiagnosticBag();
        Assert.Null(SqlTemplate.Render("models/deep.sql", text, NoVars, diagnostics));
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal("MC6001", error.Code);
        Assert.Equal(2, error.Location.Line);
    }
}
