using System.Text.Json;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Planning.Experiments;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Unit-attribute covariates (<c>analysis: covariates: [views, {attribute: country, source: users, levels: [...]},
/// {attribute: age, source: users}]</c>) on SQLite, DuckDB and PostgreSQL against
/// <c>tests/oracle/sql_fixtures/attribute_covariates_experiment.json</c>: the users source (one row per unit, country
/// and age sometimes null) joins the per-unit table by entity; the categorical attribute becomes one-hot columns of its
/// levels after the reference, the numeric one 0 plus a missing indicator; the readout's adjusted comparison equals
/// statsmodels OLS with the same five-column design at 1e-6.
/// </summary>
public sealed class AttributeCovariateExperimentTests : IClassFixture<AttributeCovariateExperimentTests.Data>
{
    public sealed class Data : IDisposable
    {
        public JsonElement Fixture { get; }

        public EngineProject Project { get; }

        public Data()
        {
            Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "sql_fixtures", "attribute_covariates_experiment.json"))).RootElement;
            var events = new List<object?[]>();
            var exposures = new List<object?[]>();
            var users = new List<object?[]>();
            var i = 0;
            foreach (var unit in Fixture.GetProperty("units").EnumerateArray())
            {
                var id = unit.GetProperty("unit").GetString()!;
                var exposedAt = LifecycleEvents.ExperimentStart.AddMinutes(3 * i++);
                exposures.Add([id, unit.GetProperty("variant").GetString(), LifecycleEvents.Text(exposedAt)]);
                var age = unit.GetProperty("age");
                users.Add([id, LifecycleEvents.Text(exposedAt.AddDays(-30)), unit.GetProperty("country").GetString(),
                    age.ValueKind == JsonValueKind.Null ? null : age.GetDouble()]);
                var k = 0;
                void Add(int count, Func<int, DateTime> at)
                {
                    for (var j = 0; j < count; j++)
                        events.Add([$"{id}_{k++}", id, "page_view", LifecycleEvents.Text(at(j))]);
                }

                Add(unit.GetProperty("pre_views").GetInt32(), j => exposedAt.AddDays(-1 - (j % 13)).AddMinutes(-j));
                Add(unit.GetProperty("views").GetInt32(), j => exposedAt.AddMinutes(10 + j));
            }

            Project = new EngineProject(Definitions,
                new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at")], events),
                new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")], exposures),
                new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at"), EngineProject.Text("country"), EngineProject.Number("age")], users));
            foreach (var engine in EngineProject.Engines)
                Project.Build(engine);
        }

        public void Dispose() => Project.Dispose();
    }

    private const string Definitions = """
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
          - name: users
            table: raw_users
            entity: user_id
            event_time: signup_at
            unique_key: user_id
            columns:
              - {name: user_id, type: string}
              - {name: signup_at, type: timestamp}
              - {name: country, type: string}
              - {name: age, type: number}
        metrics:
          - {name: views, source: events, agg: count, filter: "event_type = 'page_view'"}
        experiments:
          - id: trial
            exposure: {source: exposures, variant_column: variant}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-25
            metrics:
              primary: [views]
            analysis:
              cuped: {enabled: false, lookback_days: 14}
              covariates: [views, {attribute: country, source: users, levels: [US, DE, FR]}, {attribute: age, source: users}]

        """;

    private readonly Data _data;

    public AttributeCovariateExperimentTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    private static double? Expected(JsonElement element, string name) =>
        element.GetProperty(name).ValueKind == JsonValueKind.Null ? null : element.GetProperty(name).GetDouble();

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_readout_adjusts_by_the_unit_attributes_as_statsmodels_does(string engine)
    {
        var statistics = _data.Project.Rows(engine, "select * from exp_trial__statistics order by metric, variant");
        Assert.All(statistics, row => Assert.NotNull(row["x5_y"]));
        var srm = _data.Project.Rows(engine, "select * from exp_trial__srm");
        var readout = ReadoutBuilder.Build(ExperimentLowering.Lower(_data.Project.Project.Experiments.Single()), new ExperimentTables(statistics, srm, []));
        var tolerance = _data.Fixture.GetProperty("tolerances").GetProperty("comparison").GetDouble();
        var metric = Assert.Single(readout.Metrics);
        var c = metric.Comparison;
        var e = _data.Fixture.GetProperty("comparisons").GetProperty("views");
        var r = e.GetProperty("regression");
        Assert.NotNull(c.Regression);
        Assert.Equal(_data.Fixture.GetProperty("covariates").EnumerateArray().Select(n => n.GetString()), c.Regression!.Covariates);
        Assert.Equal(r.GetProperty("rank").GetInt32(), c.Regression.Rank);
        EngineProject.Close(
            [Expected(e, "control_mean"), Expected(e, "variant_mean"), Expected(e, "absolute_lift"), Expected(e, "std_error"), Expected(e, "relative_lift"),
             Expected(e, "relative_std_error"), Expected(e, "degrees_of_freedom"), Expected(e, "p_value"), Expected(e, "relative_ci_low"), Expected(e, "relative_ci_high"),
             Expected(e, "variance_reduction"), Expected(r, "control_adjusted_mean"), Expected(r, "variant_adjusted_mean"),
             .. r.GetProperty("theta").EnumerateArray().Select(t => (double?)t.GetDouble())],
            [c.ControlMean, c.VariantMean, c.AbsoluteLift, c.StdError, c.RelativeLift, c.RelativeStdError, c.DegreesOfFreedom, c.PValue, c.RelativeCiLow, c.RelativeCiHigh,
             c.VarianceReduction, c.Regression.ControlAdjustedMean, c.Regression.VariantAdjustedMean, .. c.Regression.Theta.Select(t => (double?)t)],
            $"{engine} views", tolerance);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_unit_table_carries_the_one_hot_and_missing_indicator_columns(string engine)
    {
        var rows = _data.Project.Rows(engine, "select * from exp_trial__unit_metrics");
        var units = _data.Fixture.GetProperty("units").EnumerateArray().ToDictionary(u => u.GetProperty("unit").GetString()!);
        Assert.Equal(units.Count, rows.Count);
        foreach (var row in rows)
        {
            var unit = units[(string)row["unit_id"]!];
            var country = unit.GetProperty("country").GetString();
            var age = unit.GetProperty("age");
            Assert.Equal(country == "DE" ? 1.0 : 0.0, Convert.ToDouble(row["country__de"]));
            Assert.Equal(country == "FR" ? 1.0 : 0.0, Convert.ToDouble(row["country__fr"]));
            Assert.Equal(age.ValueKind == JsonValueKind.Null ? 0.0 : age.GetDouble(), Convert.ToDouble(row["age__attr"]));
            Assert.Equal(age.ValueKind == JsonValueKind.Null ? 1.0 : 0.0, Convert.ToDouble(row["age__missing"]));
        }
    }
}
