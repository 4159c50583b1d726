using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// A `filter:` or `expr:` is read into the SQL model, never pasted: the attacks that once dropped raw tables are located
/// errors, and nothing reaches the warehouse.
/// </summary>
public sealed class UserSqlSafetyTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public UserSqlSafetyTests()
    {
        _project.Execute("""
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            insert into raw_events values ('e1', 'u1', 'purchase', '2026-01-06 12:00:00', 10, null);
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            insert into raw_exposures values ('u1', 'checkout', 'control', '2026-01-06 10:00:00');
            """);
    }

    private (int Exit, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run([.. args, "--project-dir", _project.Root], output, error);
        return (exit, error.ToString());
    }

    public static TheoryData<string, string> Attacks => new()
    {
        { "filter", "cast(1 as [']) is not null; drop table raw_events; select cast(1 as [']) is not null" },
        { "filter", "$$'$$ is not null; drop table raw_events; select $$'$$ is not null" },
        { "filter", "event_type = 'purchase'; drop table raw_events" },
        { "expr", "length(query_to_xml('select * from raw_exposures', true, true, ''))" },
        { "expr", "(select max(revenue) from raw_events)" },
        { "filter", "1 = 1) union all select 1 --" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public void An_attack_in_a_metric_is_a_located_error_and_the_raw_table_survives(string key, string text)
    {
        var yaml = WarehouseProject.ProjectYaml.Replace(
            "- {name: revenue, source: events, agg: sum, expr: revenue, filter: \"event_type = 'purchase'\"}",
            key == "filter"
                ? $"- {{name: revenue, source: events, agg: sum, expr: revenue, filter: \"{text.Replace("\"", "\\\"")}\"}}"
                : $"- {{name: revenue, source: events, agg: sum, expr: \"{text.Replace("\"", "\\\"")}\"}}");
        Assert.NotEqual(WarehouseProject.ProjectYaml, yaml);
        _project.WriteProject(yaml);

        var (validateExit, validateErr) = Run("validate", "--offline");
        Assert.Equal(1, validateExit);
        Assert.Matches(@"metrics\.yml:\d+:\d+: error MC4001: .*metric `revenue`", validateErr);

        var (runExit, _) = Run("run");
        Assert.Equal(1, runExit);
        Assert.Equal(1L, _project.Scalar("select count(*) from raw_events"));
        Assert.Equal(1L, _project.Scalar("select count(*) from raw_exposures"));
    }

    [Fact]
    public void A_column_name_that_tries_to_leave_its_quotes_is_a_located_error()
    {
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("{name: load_ms, type: number}", "{name: 'load_ms\" from raw_events; drop table raw_events; --', type: number}"));
        var (exit, err) = Run("validate", "--offline");
        Assert.Equal(1, exit);
        Assert.Matches(@"metrics\.yml:\d+:\d+: error MC1009: source `events`: column `load_ms"" from raw_events; drop table raw_events; --` is not a column name", err);
    }

    [Fact]
    public void A_table_name_that_is_not_a_table_is_a_located_error()
    {
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("table: raw_events", "table: \"raw_events; drop table raw_exposures\""));
        var (exit, err) = Run("validate", "--offline");
        Assert.Equal(1, exit);
        Assert.Matches(@"metrics\.yml:\d+:\d+: error MC1009: source `events`: table `raw_events; drop table raw_exposures` is not a table name", err);
    }

    public void Dispose() => _project.Dispose();
}
