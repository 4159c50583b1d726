using System.Globalization;
using System.Text.Json;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Simulation;
using MetricCompiler.Statistics;
using MetricCompiler.Planning.Experiments;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// <c>analysis: covariates:</c> on SQLite, DuckDB and PostgreSQL against
/// <c>tests/oracle/sql_fixtures/covariates_experiment.json</c> (tests/oracle/generate_sql_fixtures.py): the raw events of
/// 2 x 1500 units are loaded (page views and purchases in the 14 days before exposure, and after), the DAG is built,
/// and the statistics table's per-variant cross-product matrix (k = 2) is read by the readout, whose regression-adjusted
/// comparisons of a count and a proportion equal the oracle's statsmodels figures (theta from OLS(y ~ 1 + X) on the
/// pooled arms, effect and SE from OLS(y - X theta ~ 1 + T) with HC2) at 1e-6, variance reduction included.
/// </summary>
public sealed class CovariateExperimentTests : IClassFixture<CovariateExperimentTests.Data>
{
    public sealed class Data : IDisposable
    {
        public JsonElement Fixture { get; }

        public EngineProject Project { get; }

        public Data()
        {
            Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "sql_fixtures", "covariates_experiment.json"))).RootElement;
            var events = new List<object?[]>();
            var exposures = new List<object?[]>();
            var i = 0;
            foreach (var unit in Fixture.GetProperty("units").EnumerateArray())
            {
                var id = unit.GetProperty("unit").GetString()!;
                var exposedAt = LifecycleEvents.ExperimentStart.AddMinutes(3 * i++);
                exposures.Add([id, unit.GetProperty("variant").GetString(), LifecycleEvents.Text(exposedAt)]);
                var k = 0;
                void Add(string type, int count, Func<int, DateTime> at)
                {
                    for (var j = 0; j < count; j++)
                        events.Add([$"{id}_{k++}", id, type, LifecycleEvents.Text(at(j))]);
                }

                // before exposure: inside the 14-day look-back; after: within the window
                Add("page_view", unit.GetProperty("pre_views").GetInt32(), j => exposedAt.AddDays(-1 - (j % 13)).AddMinutes(-j));
                Add("purchase", unit.GetProperty("pre_purchases").GetInt32(), j => exposedAt.AddDays(-2 - (j % 12)).AddMinutes(-j));
                Add("page_view", unit.GetProperty("views").GetInt32(), j => exposedAt.AddMinutes(10 + j));
                Add("purchase", unit.GetProperty("purchases").GetInt32(), j => exposedAt.AddHours(2).AddMinutes(j));
                // older than the look-back: counts for nothing
                Add("page_view", 1, _ => exposedAt.AddDays(-20));
            }

            Project = new EngineProject(Definitions,
                new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at")], events),
                new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")], exposures));
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
        metrics:
          - {name: views, source: events, agg: count, filter: "event_type = 'page_view'"}
          - {name: purchases, source: events, agg: count, filter: "event_type = 'purchase'"}
          - {name: purchased, source: events, agg: proportion, filter: "event_type = 'purchase'"}
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
              secondary: [purchased]
            analysis:
              cuped: {enabled: false, lookback_days: 14}
              covariates: [views, purchases]

        """;

    private readonly Data _data;

    public CovariateExperimentTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    private static double? Expected(JsonElement element, string name) =>
        element.GetProperty(name).ValueKind == JsonValueKind.Null ? null : element.GetProperty(name).GetDouble();

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_readout_adjusts_by_both_covariates_as_statsmodels_does(string engine)
    {
        var statistics = _data.Project.Rows(engine, "select * from exp_trial__statistics order by metric, variant");
        Assert.All(statistics, row => Assert.NotNull(row["x1_x2"]));
        var srm = _data.Project.Rows(engine, "select * from exp_trial__srm");
        var readout = ReadoutBuilder.Build(ExperimentLowering.Lower(_data.Project.Project.Experiments.Single()), new ExperimentTables(statistics, srm, []));
        var tolerance = _data.Fixture.GetProperty("tolerances").GetProperty("comparison").GetDouble();
        Assert.Equal(2, readout.Metrics.Count);
        foreach (var metric in readout.Metrics)
        {
            var c = metric.Comparison;
            var e = _data.Fixture.GetProperty("comparisons").GetProperty(metric.Metric);
            var r = e.GetProperty("regression");
            Assert.NotNull(c.Regression);
            Assert.Equal(["views__pre", "purchases__pre"], c.Regression!.Covariates);
            Assert.Equal(r.GetProperty("rank").GetInt32(), c.Regression.Rank);
            EngineProject.Close(
                [Expected(e, "control_mean"), Expected(e, "variant_mean"), Expected(e, "absolute_lift"), Expected(e, "std_error"), Expected(e, "relative_lift"),
                 Expected(e, "relative_std_error"), Expected(e, "degrees_of_freedom"), Expected(e, "p_value"), Expected(e, "relative_ci_low"), Expected(e, "relative_ci_high"),
                 Expected(e, "variance_reduction"), Expected(r, "control_adjusted_mean"), Expected(r, "variant_adjusted_mean"),
                 .. r.GetProperty("theta").EnumerateArray().Select(t => (double?)t.GetDouble())],
                [c.ControlMean, c.VariantMean, c.AbsoluteLift, c.StdError, c.RelativeLift, c.RelativeStdError, c.DegreesOfFreedom, c.PValue, c.RelativeCiLow, c.RelativeCiHigh,
                 c.VarianceReduction, c.Regression.ControlAdjustedMean, c.Regression.VariantAdjustedMean, .. c.Regression.Theta.Select(t => (double?)t)],
                $"{engine} {metric.Metric}", tolerance);
        }

        Assert.True(readout.Metrics.Single(m => m.Metric == "views").Comparison.VarianceReduction > 0.3, "the pre-period counts explain much of the variance of views");
    }

    [Fact]
    public void The_simulation_resplits_with_the_covariates_and_reproduces_the_adjusted_comparison()
    {
        var lowered = ExperimentLowering.Lower(_data.Project.Project.Experiments.Single());
        using var adapter = _data.Project.Open("sqlite");
        var data = UnitMetricsReader.Read(adapter, lowered);
        var inB = _data.Project.Rows("sqlite", "select variant from exp_trial__unit_metrics order by unit_id").Select(r => (string)r["variant"]! == "treatment").ToList();
        var inputs = CalibrationSimulator.SplitInputs(lowered, data, inB);
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest(CalibrationSimulator.ArmA, inputs));
        foreach (var c in result.Comparisons)
        {
            var e = _data.Fixture.GetProperty("comparisons").GetProperty(c.Metric);
            Assert.NotNull(c.Regression);
            EngineProject.Close([Expected(e, "absolute_lift"), Expected(e, "std_error"), Expected(e, "variance_reduction"), Expected(e, "p_value")],
                [c.AbsoluteLift, c.StdError, c.VarianceReduction, c.PValue], $"simulated {c.Metric}", 1e-6);
        }

        var report = CalibrationSimulator.Run(lowered, data, new SimulationOptions(Runs: 300, Seed: 5));
        Assert.All(report.Metrics, m => Assert.True(m.Within3Se == true, $"{m.Metric}: A/A rate {m.FalsePositiveRate}"));
    }
}
