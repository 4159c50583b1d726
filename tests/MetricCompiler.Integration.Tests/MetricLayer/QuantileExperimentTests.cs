using System.Globalization;
using System.Text.Json;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Simulation;
using MetricCompiler.Planning.Experiments;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Percentile metrics in an experiment, on SQLite, DuckDB and PostgreSQL, against
/// <c>tests/oracle/sql_fixtures/quantile_experiment.json</c> (tests/oracle/generate_sql_fixtures.py): the raw page-load
/// events of 2 x 2500 units are loaded, the DAG is built, and
/// <list type="bullet">
/// <item>the statistics table's n, quantile and bounds equal numpy.quantile of the per-unit averages at p and at the
/// bound levels (1e-9 relative; ties and units without a value included);</item>
/// <item>the readout's quantile comparison equals the oracle's transcription of the quantile test (1e-6) and agrees with
/// scipy's bootstrap of the same arrays (SE within 15%, each CI endpoint within 0.25 bootstrap half-widths, the
/// oracle's stated tolerance);</item>
/// <item>the P95 guardrail's status, bound and p-values equal the oracle's, fixed-horizon and always-valid.</item>
/// </list>
/// </summary>
public sealed class QuantileExperimentTests : IClassFixture<QuantileExperimentTests.Data>
{
    public sealed class Data : IDisposable
    {
        public JsonElement Fixture { get; }

        public EngineProject Project { get; }

        public Data()
        {
            var path = Path.Combine(AppContext.BaseDirectory, "sql_fixtures", "quantile_experiment.json");
            Fixture = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            var events = new List<object?[]>();
            var exposures = new List<object?[]>();
            var i = 0;
            foreach (var unit in Fixture.GetProperty("units").EnumerateArray())
            {
                var id = unit.GetProperty("unit").GetString()!;
                var exposedAt = LifecycleEvents.ExperimentStart.AddMinutes(3 * i++);
                exposures.Add([id, unit.GetProperty("variant").GetString(), LifecycleEvents.Text(exposedAt)]);
                var k = 0;
                foreach (var load in unit.GetProperty("loads").EnumerateArray())
                    events.Add([$"{id}_{k}", id, "page_view", LifecycleEvents.Text(exposedAt.AddHours(1 + k++)), load.GetDouble()]);
                // an event without a load time, and a page view before exposure, count for neither percentile
                events.Add([$"{id}_c", id, "click", LifecycleEvents.Text(exposedAt.AddMinutes(5)), null]);
                events.Add([$"{id}_b", id, "page_view", LifecycleEvents.Text(exposedAt.AddDays(-1)), 99999.0]);
            }

            var units = Fixture.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("unit").GetString()!).ToList();
            Project = new EngineProject(Definitions,
                new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at"), EngineProject.Text("platform")],
                    units.Select((u, j) => new object?[] { u, "2025-12-01 00:00:00", Platform(j) }).ToList()),
                new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at"), EngineProject.Number("load_ms")], events),
                new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")], exposures));
            foreach (var engine in EngineProject.Engines)
                Project.Build(engine);
        }

        public void Dispose() => Project.Dispose();
    }

    /// <summary>The segment of the fixture's j-th unit: three platforms of unequal size.</summary>
    private static string Platform(int j) => j % 5 == 0 ? "ios" : j % 5 < 3 ? "android" : "web";

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
              - {name: load_ms, type: number}
          - name: users
            table: raw_users
            entity: user_id
            event_time: signup_at
            unique_key: user_id
            columns:
              - {name: user_id, type: string}
              - {name: signup_at, type: timestamp}
              - {name: platform, type: string}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - name: load_p50
            source: events
            agg: percentile
            percentile: 0.5
            expr: load_ms
            filter: "event_type = 'page_view'"
            desired_direction: decrease
          - name: load_p95
            source: events
            agg: percentile
            percentile: 0.95
            expr: load_ms
            filter: "event_type = 'page_view'"
            desired_direction: decrease
        experiments:
          - id: trial
            exposure: {source: exposures, variant_column: variant}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-25
            metrics:
              primary: [load_p50]
              secondary: [load_p95]
              guardrails:
                - {metric: load_p95, harmful_direction: increase, margin: 0.08}
            analysis:
              segments:
                - {name: platform, source: users}

        """;

    private readonly Data _data;

    public QuantileExperimentTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    private static double? Number(IReadOnlyDictionary<string, object?> row, string column) =>
        row[column] is null ? null : Convert.ToDouble(row[column], CultureInfo.InvariantCulture);

    private static double? Expected(JsonElement element, string name) =>
        element.GetProperty(name).ValueKind == JsonValueKind.Null ? null : element.GetProperty(name).GetDouble();

    private IReadOnlyList<IReadOnlyDictionary<string, object?>> Statistics(string engine) =>
        _data.Project.Rows(engine, "select * from exp_trial__statistics order by metric, variant");

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_statistics_table_holds_numpys_quantile_and_bounds_of_the_per_unit_averages(string engine)
    {
        var rows = Statistics(engine);
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            var metric = (string)row["metric"]!;
            var variant = (string)row["variant"]!;
            var expected = _data.Fixture.GetProperty("statistics").GetProperty(metric).GetProperty(variant);
            Assert.Equal(expected.GetProperty("n").GetInt64(), Convert.ToInt64(row["n"], CultureInfo.InvariantCulture));
            EngineProject.Close(
                [Expected(expected, "quantile"), Expected(expected, "quantile_lower"), Expected(expected, "quantile_upper")],
                [Number(row, "quantile"), Number(row, "quantile_lower"), Number(row, "quantile_upper")],
                $"{engine} {metric} {variant} quantile, lower, upper");
            Assert.Equal(metric == "load_p50" ? 0.5 : 0.95, Number(row, "quantile_level"));
            Assert.Null(row["value_sum"]);
        }
    }

    private ExperimentReadout Readout(string engine, AnalysisMethod method = AnalysisMethod.Frequentist)
    {
        var experiment = _data.Project.Project.Experiments.Single();
        experiment = experiment with { Definition = experiment.Definition with { Analysis = experiment.Definition.Analysis with { Method = method } } };
        var srm = _data.Project.Rows(engine, "select * from exp_trial__srm");
        return ReadoutBuilder.Build(ExperimentLowering.Lower(experiment), new ExperimentTables(Statistics(engine), srm, []));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_readout_compares_quantiles_as_the_oracle_does_and_within_the_bootstrap_tolerance(string engine)
    {
        var readout = Readout(engine);
        var tolerances = _data.Fixture.GetProperty("tolerances");
        foreach (var metric in readout.Metrics)
        {
            var c = metric.Comparison;
            var expected = _data.Fixture.GetProperty("comparisons").GetProperty(metric.Metric);
            EngineProject.Close(
                [Expected(expected, "control_mean"), Expected(expected, "variant_mean"), Expected(expected, "absolute_lift"), Expected(expected, "std_error"),
                 Expected(expected, "relative_lift"), Expected(expected, "relative_std_error"), Expected(expected, "degrees_of_freedom"), Expected(expected, "p_value"),
                 Expected(expected, "ci_low"), Expected(expected, "ci_high"), Expected(expected, "relative_ci_low"), Expected(expected, "relative_ci_high")],
                [c.ControlMean, c.VariantMean, c.AbsoluteLift, c.StdError, c.RelativeLift, c.RelativeStdError, c.DegreesOfFreedom, c.PValue,
                 c.CiLow, c.CiHigh, c.RelativeCiLow, c.RelativeCiHigh],
                $"{engine} {metric.Metric} comparison", tolerances.GetProperty("comparison").GetDouble());

            var bootstrap = _data.Fixture.GetProperty("bootstrap").GetProperty(metric.Metric);
            foreach (var (scale, estimate, se, low, high) in new[]
                     {
                         ("absolute", c.AbsoluteLift!.Value, c.StdError!.Value, c.CiLow!.Value, c.CiHigh!.Value),
                         ("relative", c.RelativeLift!.Value, c.RelativeStdError!.Value, c.RelativeCiLow!.Value, c.RelativeCiHigh!.Value),
                     })
            {
                var b = bootstrap.GetProperty(scale);
                double bootSe = b.GetProperty("std_error").GetDouble(), bootLow = b.GetProperty("ci_low").GetDouble(), bootHigh = b.GetProperty("ci_high").GetDouble();
                var half = (bootHigh - bootLow) / 2;
                Assert.True(Math.Abs(se / bootSe - 1) <= tolerances.GetProperty("bootstrap_std_error").GetDouble(),
                    $"{engine} {metric.Metric} {scale}: SE {se} against the bootstrap's {bootSe}");
                var endpoints = tolerances.GetProperty("bootstrap_endpoint_half_widths").GetDouble();
                Assert.True(Math.Abs(low - bootLow) <= endpoints * half && Math.Abs(high - bootHigh) <= endpoints * half,
                    $"{engine} {metric.Metric} {scale}: CI [{low}, {high}] against the bootstrap's [{bootLow}, {bootHigh}] (estimate {estimate})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_p95_guardrail_is_checked_as_the_oracle_checks_it(string engine)
    {
        foreach (var (method, key) in new[] { (AnalysisMethod.Frequentist, "frequentist"), (AnalysisMethod.Sequential, "sequential") })
        {
            var guardrail = Readout(engine, method).Metrics.Single(m => m.Metric == "load_p95").Guardrail;
            Assert.NotNull(guardrail);
            var expected = _data.Fixture.GetProperty("guardrails").GetProperty("load_p95").GetProperty(key);
            Assert.Equal(expected.GetProperty("status").GetString(), guardrail!.Status);
            EngineProject.Close(
                [Expected(expected, "relative_lift"), Expected(expected, "harm_bound"), Expected(expected, "non_inferiority_p_value"), Expected(expected, "harm_p_value")],
                [guardrail.RelativeLift, guardrail.HarmBound, guardrail.NonInferiorityPValue, guardrail.HarmPValue],
                $"{engine} load_p95 guardrail ({key})", 1e-6);
        }
    }

    /// <summary>numpy.quantile(values, level) with its default linear method, written out independently.</summary>
    private static double NumpyQuantile(IReadOnlyList<double> values, double level)
    {
        var sorted = values.Order().ToArray();
        var h = level * (sorted.Length - 1);
        var low = (int)Math.Floor(h);
        return sorted[low] + (h - low) * (sorted[Math.Min(low + 1, sorted.Length - 1)] - sorted[low]);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Segment_statistics_rank_each_segment_and_variant_on_its_own(string engine)
    {
        var units = _data.Project.Rows(engine, "select * from exp_trial__unit_metrics");
        var rows = _data.Project.Rows(engine, "select * from exp_trial__segment_statistics order by metric, segment, variant");
        Assert.Equal(2 * 3 * 2, rows.Count);
        foreach (var row in rows)
        {
            var metric = (string)row["metric"]!;
            var level = metric == "load_p50" ? 0.5 : 0.95;
            var values = units.Where(u => (string)u["variant"]! == (string)row["variant"]! && (string)u["segment__platform"]! == (string)row["segment"]! && u[metric] is not null)
                .Select(u => Number(u, metric)!.Value).ToList();
            var n = (double)values.Count;
            var spread = 1.959963984540054 * Math.Sqrt(level * (1 - level) / n);
            Assert.Equal(values.Count, Convert.ToInt32(row["n"], CultureInfo.InvariantCulture));
            EngineProject.Close(
                [NumpyQuantile(values, level), NumpyQuantile(values, Math.Max(1e-8, level - spread)), NumpyQuantile(values, Math.Min(1 - 1e-8, level + spread))],
                [Number(row, "quantile"), Number(row, "quantile_lower"), Number(row, "quantile_upper")],
                $"{engine} {metric} {row["segment"]} {row["variant"]}");
        }
    }

    [Fact]
    public void The_simulation_resplits_quantiles_as_the_sql_computes_them_and_its_aa_rate_is_calibrated()
    {
        var lowered = ExperimentLowering.Lower(_data.Project.Project.Experiments.Single());
        using var adapter = _data.Project.Open("duckdb");
        var data = UnitMetricsReader.Read(adapter, lowered);
        var variants = _data.Project.Rows("duckdb", "select variant from exp_trial__unit_metrics order by unit_id").Select(r => (string)r["variant"]! == "treatment").ToList();
        var byVariant = CalibrationSimulator.SplitInputs(lowered, data, variants);
        foreach (var input in byVariant)
        {
            var expected = _data.Fixture.GetProperty("statistics").GetProperty(input.Name);
            foreach (var (arm, variant) in new[] { (CalibrationSimulator.ArmA, "control"), (CalibrationSimulator.ArmB, "treatment") })
            {
                var e = expected.GetProperty(variant);
                var s = input.Variants[arm];
                Assert.Equal(e.GetProperty("n").GetInt64(), s.N);
                EngineProject.Close([Expected(e, "quantile"), Expected(e, "quantile_lower"), Expected(e, "quantile_upper")],
                    [s.Quantile, s.QuantileLower, s.QuantileUpper], $"simulated {input.Name} {variant}");
            }
        }

        // 400 A/A splits: each quantile test's false-positive rate within 3 binomial SE of alpha (the command's own check)
        var report = CalibrationSimulator.Run(lowered, data, new SimulationOptions(Runs: 400, Seed: 7));
        foreach (var metric in report.Metrics)
        {
            Assert.Equal(MetricCompiler.Statistics.MetricKind.Quantile, metric.Kind);
            Assert.True(metric.Within3Se == true, $"{metric.Metric}: A/A rate {metric.FalsePositiveRate} (SE {metric.StandardError})");
            Assert.True(metric.CoverageWithin3Se == true, $"{metric.Metric}: coverage {metric.CiCoverage}");
        }
    }
}
