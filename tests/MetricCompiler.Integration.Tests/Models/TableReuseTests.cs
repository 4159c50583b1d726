using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// A run reuses the tables of nodes whose inputs did not change where they read them (docs/spec.md, "Reused tables"):
/// on the demo, raw rows are delivered or changed, the run reuses exactly the experiment and metric tables nothing
/// changed for and rebuilds the rest, and every table then equals a <c>--full-refresh</c> build of the same raw rows.
/// </summary>
public sealed class TableReuseTests : IDisposable
{
    private static readonly string[] HomepageCta =
        ["exp_homepage_cta__exposures", "exp_homepage_cta__srm", "exp_homepage_cta__unit_metrics", "exp_homepage_cta__statistics", "exp_homepage_cta__segment_statistics"];

    private static readonly string[] OnboardingFlow =
        ["exp_onboarding_flow__exposures", "exp_onboarding_flow__srm", "exp_onboarding_flow__unit_metrics", "exp_onboarding_flow__statistics"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-reuse", Guid.NewGuid().ToString("N"));
    private readonly string _schema = "reuse_" + Guid.NewGuid().ToString("N")[..10];

    public TableReuseTests() => DemoCopy.To(_root, yaml => yaml
        .Replace("users: 40000", "users: 1000", StringComparison.Ordinal)
        .Replace("schema: acme", $"schema: {_schema}", StringComparison.Ordinal));

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("METRICC_PG_HOST") is not null && File.Exists(Path.Combine(_root, "target", RunState.FileName)))
        {
            try
            {
                using var adapter = AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, "warehouse"), _root);
                adapter.Execute($"drop schema if exists {_schema} cascade");
            }
            catch (Exception e) when (e is WarehouseException or System.Data.Common.DbException or TargetException)
            {
                // Best effort: a leftover schema has a random name.
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private IWarehouseAdapter Open(string target) => AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, target), _root);

    private void Build(string target)
    {
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["build", "--project-dir", _root, "--target", target], new StringWriter(), error) == 0, error.ToString());
    }

    private RunOutcome Run(string target, bool fullRefresh = false, IReadOnlyList<string>? select = null)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target, select) { FullRefresh = fullRefresh });
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        return outcome;
    }

    private static Dictionary<string, string> Statuses(RunOutcome outcome) =>
        outcome.Results.Where(r => r.ResourceType == "node").ToDictionary(r => r.Node, r => r.Status, StringComparer.Ordinal);

    /// <summary>
    /// Every table of the plan as rows of cells (columns in name order), sorted by their cells that are not doubles (the
    /// readout table aside: it records when it was analysed).
    /// </summary>
    private Dictionary<string, List<object?[]>> Tables(string target)
    {
        var plan = Planner.Plan(ProjectLoader.Load(_root).Bound!);
        using var adapter = Open(target);
        return plan.Nodes.Where(n => n.Kind != NodeKind.Readout).ToDictionary(n => n.Name, n => adapter
            .Query($"select * from {adapter.Dialect.QuoteRelation(n.Name)}")
            .Select(r => r.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value is DBNull ? null : c.Value).ToArray())
            .OrderBy(Key, StringComparer.Ordinal).ToList());
    }

    private static string Key(object?[] row) =>
        string.Join("|", row.Select(v => v is double or float or decimal ? "" : Convert.ToString(v, CultureInfo.InvariantCulture)));

    /// <summary>Equal cells; doubles within 1e-9 relative or 1e-6 absolute (two builds of the same rows may sum in another order).</summary>
    private static bool Same(object?[] expected, object?[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(c =>
            c.First is double a && c.Second is double b ? Math.Abs(a - b) <= Math.Max(1e-6, 1e-9 * Math.Abs(a)) : Equals(c.First, c.Second));

    /// <summary>After a reusing run: a full rebuild of the same raw rows gives every table as it is.</summary>
    private void AssertEqualsAFullRebuild(string target)
    {
        var reused = Tables(target);
        var full = Run(target, fullRefresh: true);
        Assert.DoesNotContain(full.Results, r => r.Status == NodeResult.Reused);
        var rebuilt = Tables(target);
        foreach (var (table, rows) in rebuilt)
        {
            Assert.True(rows.Count == reused[table].Count, $"`{table}`: {reused[table].Count} rows, its full rebuild {rows.Count}");
            var differing = rows.Zip(reused[table]).FirstOrDefault(p => !Same(p.First, p.Second));
            Assert.True(differing == default, $"`{table}` differs from its full rebuild: {Key(differing.Second ?? [])}");
        }
    }

    /// <summary>The demo's raw events of its latest day, delivered again one day later (new ids): a new day of data.</summary>
    private static void DeliverTheNextDay(IWarehouseAdapter adapter)
    {
        var latest = Convert.ToString(adapter.Query("select max(occurred_at) as latest from raw_events").Single()["latest"], CultureInfo.InvariantCulture)![..10];
        var next = DateOnly.ParseExact(latest, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        adapter.Execute("insert into raw_events (event_id, user_id, event_type, occurred_at, page, page_load_ms, revenue) " +
            $"select event_id || '_next', user_id, event_type, '{next}' || substr(occurred_at, 11), page, page_load_ms, revenue " +
            $"from raw_events where occurred_at like '{latest}%'");
    }

    /// <summary>A user of the demo who was not exposed to <c>onboarding_flow</c>, now exposed to its control on its last day.</summary>
    private static void ExposeOneMoreUserOnTheLastDayOfOnboarding(IWarehouseAdapter adapter)
    {
        var user = adapter.Query("select min(user_id) as user_id from raw_users where user_id not in (select user_id from raw_exposures where experiment_id = 'onboarding_flow' and user_id is not null)")
            .Single()["user_id"];
        adapter.Execute($"insert into raw_exposures (exposure_id, experiment_id, user_id, variant, exposed_at) values ('reuse-test-1', 'onboarding_flow', '{user}', 'control', '2026-01-25 12:00:00')");
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("sqlite")]
    [InlineData("warehouse")]
    public void A_day_delivered_after_both_experiments_ended_reuses_their_tables_and_rebuilds_the_dashboards(string target)
    {
        Build(target);
        using (var adapter = Open(target))
            DeliverTheNextDay(adapter);

        var outcome = Run(target);
        var status = Statuses(outcome);
        Assert.All(HomepageCta.Concat(OnboardingFlow), node => Assert.Equal(NodeResult.Reused, status[node]));
        Assert.Contains("nothing it reads changed since", outcome.Results.Single(r => r.Node == "exp_onboarding_flow__unit_metrics").Message, StringComparison.Ordinal);
        // The day is in the metric tables: they recompute their periods from the one holding the first changed day.
        foreach (var table in new[] { "fct_dau", "fct_revenue", "fct_daily_page_load_time" })
        {
            Assert.Equal(NodeResult.Success, status[table]);
            var build = outcome.Results.Single(r => r.Node == table).Incremental;
            Assert.True(build is { Mode: IncrementalBuild.Incremental }, $"`{table}` was built in full");
        }

        // fct_revenue is weekly (Monday weeks): it recomputes the week that holds the first changed day.
        Assert.Equal(DayOfWeek.Monday, outcome.Results.Single(r => r.Node == "fct_revenue").Incremental!.RecomputedFrom!.Value.DayOfWeek);
        Assert.True(outcome.Results.Single(r => r.Node == "stg_users").Unchanged);
        Assert.False(outcome.Results.Single(r => r.Node == "stg_events").Unchanged);
        AssertEqualsAFullRebuild(target);
    }

    [Fact]
    public void A_run_with_nothing_new_reuses_every_experiment_and_recomputes_only_the_metric_tables_latest_periods()
    {
        Build("dev");
        var outcome = Run("dev");
        var status = Statuses(outcome);
        Assert.All(HomepageCta.Concat(OnboardingFlow), node => Assert.Equal(NodeResult.Reused, status[node]));
        // The events' window is not compared with the table in place (no reader needs a later day than its start), so the
        // metric tables recompute from the window's start; the exposures' is (onboarding_flow reads inside it) and is unchanged.
        Assert.False(outcome.Results.Single(r => r.Node == "stg_events").Unchanged);
        Assert.True(outcome.Results.Single(r => r.Node == "stg_exposures").Unchanged);
        var window = outcome.Results.Single(r => r.Node == "stg_events").Incremental!.RecomputedFrom;
        Assert.Equal(window, outcome.Results.Single(r => r.Node == "fct_dau").Incremental!.RecomputedFrom);
        Assert.Equal(NodeResult.Success, status["experiment_results"]);
        var noReuse = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, "dev") { NoReuse = true });
        Assert.Equal(0, noReuse.ExitCode);
        Assert.DoesNotContain(noReuse.Results, r => r.Status == NodeResult.Reused);
        Assert.Equal(IncrementalBuild.Incremental, noReuse.Results.Single(r => r.Node == "stg_events").Incremental!.Mode);
    }

    [Fact]
    public void An_exposure_inside_one_experiments_window_rebuilds_that_experiment_and_reuses_the_other()
    {
        Build("dev");
        using (var adapter = Open("dev"))
            ExposeOneMoreUserOnTheLastDayOfOnboarding(adapter);

        var status = Statuses(Run("dev"));
        Assert.All(OnboardingFlow, node => Assert.Equal(NodeResult.Success, status[node]));
        Assert.All(HomepageCta, node => Assert.Equal(NodeResult.Reused, status[node]));
        AssertEqualsAFullRebuild("dev");
    }

    [Fact]
    public void A_changed_user_rebuilds_what_reads_the_users_whole_and_nothing_else()
    {
        Build("dev");
        using (var adapter = Open("dev"))
            adapter.Execute("update raw_users set country = 'ZZ' where user_id = (select min(user_id) from raw_exposures where experiment_id = 'homepage_cta')");

        var outcome = Run("dev");
        var status = Statuses(outcome);
        Assert.False(outcome.Results.Single(r => r.Node == "stg_users").Unchanged);
        // The segments of homepage_cta read the users whole; its exposures read only the exposures' window.
        Assert.Equal(NodeResult.Success, status["exp_homepage_cta__unit_metrics"]);
        Assert.Equal(NodeResult.Success, status["exp_homepage_cta__segment_statistics"]);
        Assert.Equal(NodeResult.Reused, status["exp_homepage_cta__exposures"]);
        Assert.All(OnboardingFlow, node => Assert.Equal(NodeResult.Reused, status[node]));
        AssertEqualsAFullRebuild("dev");
    }

    [Fact]
    public void A_change_made_by_a_run_that_did_not_select_the_experiment_rebuilds_it_in_the_next()
    {
        Build("dev");
        using (var adapter = Open("dev"))
            ExposeOneMoreUserOnTheLastDayOfOnboarding(adapter);
        var staging = Statuses(Run("dev", select: ["stg_exposures"]));
        Assert.Equal([NodeResult.Success], staging.Values);

        // Nothing is new for this run, but the exposures changed after onboarding_flow's tables were built.
        var status = Statuses(Run("dev"));
        Assert.Equal(NodeResult.Success, status["exp_onboarding_flow__exposures"]);
        Assert.All(HomepageCta, node => Assert.Equal(NodeResult.Reused, status[node]));
        AssertEqualsAFullRebuild("dev");
    }

    [Fact]
    public void A_changed_experiment_definition_rebuilds_its_tables()
    {
        Build("dev");
        var file = Path.Combine(_root, "project_template", "models", "experiments", "onboarding_flow.yml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("lookback_days: 14", "lookback_days: 7", StringComparison.Ordinal));

        var status = Statuses(Run("dev"));
        Assert.Equal(NodeResult.Success, status["exp_onboarding_flow__unit_metrics"]);
        Assert.All(HomepageCta, node => Assert.Equal(NodeResult.Reused, status[node]));
        AssertEqualsAFullRebuild("dev");
    }
}
