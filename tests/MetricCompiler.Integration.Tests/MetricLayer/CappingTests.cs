using System.Globalization;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Simulation;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Statistics;
using static MetricCompiler.Integration.Tests.MetricLayer.LifecycleEvents;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Outlier capping on SQLite, DuckDB and PostgreSQL: the cap in the statistics table equals numpy's default (linear)
/// percentile computed in C# over the per-unit values of the unit-metrics table, pooled across variants (with ties and
/// units without a value), a fixed cap is the value given, each part of a ratio gets its own cap, and the capped sums
/// per variant equal a C# sum of <c>min(value, cap)</c> over the same units.
/// </summary>
public sealed class CappingTests : IClassFixture<CappingTests.Data>
{
    public sealed class Data : IDisposable
    {
        public EngineProject Project { get; }

        /// <summary>The same project with CUPED on: the covariate is capped at its own percentile.</summary>
        public EngineProject Cuped { get; }

        public Data()
        {
            var events = LifecycleEvents.Random(20261203);
            var exposures = LifecycleEvents.Exposures(11);
            var definitions = Sources + """
                metrics:
                  - name: activity
                    source: events
                    agg: count
                    cap: {percentile: 0.8}
                  - name: purchases
                    source: events
                    agg: count
                    filter: "event_type = 'purchase'"
                  - name: views
                    source: events
                    agg: count
                    filter: "event_type <> 'purchase'"
                  - name: purchase_share
                    agg: ratio
                    numerator: purchases
                    denominator: views
                    cap: {percentile: 0.35}
                  - name: activity_fixed
                    source: events
                    agg: count
                    cap: {value: 3.5}

                """ + Experiment("activity", "purchase_share, activity_fixed");
            Project = new EngineProject(definitions, Tables(events, exposures));
            Cuped = new EngineProject(definitions.Replace("cuped: {enabled: false}", "cuped: {enabled: true, lookback_days: 14}", StringComparison.Ordinal), Tables(events, exposures));
            foreach (var engine in EngineProject.Engines)
            {
                Project.Build(engine);
                Cuped.Build(engine, "+exp_trial__statistics");
            }
        }

        public void Dispose()
        {
            Project.Dispose();
            Cuped.Dispose();
        }
    }

    private readonly Data _data;

    public CappingTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    /// <summary>numpy.percentile(values, 100 * p) with its default linear method, written out independently.</summary>
    private static double NumpyPercentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        var h = p * (sorted.Length - 1);
        var low = (int)Math.Floor(h);
        var high = Math.Min(low + 1, sorted.Length - 1);
        var t = h - low;
        return sorted[low] + t * (sorted[high] - sorted[low]);
    }

    private static double? Number(IReadOnlyDictionary<string, object?> row, string column) =>
        row[column] is null ? null : Convert.ToDouble(row[column], CultureInfo.InvariantCulture);

    private void AssertCapped(string engine, IReadOnlyList<IReadOnlyDictionary<string, object?>> units, string metric, string column,
        string sumColumn, string squaresColumn, string shiftColumn, string capColumn, double expectedCap)
    {
        var statistics = _data.Project.Rows(engine, $"select * from exp_trial__statistics where metric = '{metric}' order by variant");
        Assert.Equal(2, statistics.Count);
        foreach (var row in statistics)
        {
            var cap = Number(row, capColumn);
            Assert.NotNull(cap);
            Assert.True(Math.Abs(cap!.Value - expectedCap) <= 1e-12 * Math.Max(1, Math.Abs(expectedCap)), $"{engine} {metric} {capColumn}: expected {expectedCap}, got {cap}");
            var variant = (string)row["variant"]!;
            var capped = units.Where(u => (string)u["variant"]! == variant && u[column] is not null)
                .Select(u => Math.Min(Number(u, column)!.Value, expectedCap)).ToList();
            var shift = Number(row, shiftColumn)!.Value;
            EngineProject.Close([capped.Sum()], [Number(row, sumColumn)!.Value + capped.Count * shift], $"{engine} {metric} {variant} capped sum");
            EngineProject.Close([capped.Sum(x => (x - shift) * (x - shift))], [Number(row, squaresColumn)], $"{engine} {metric} {variant} capped sum of squares");
            Assert.True(capped.Sum() < units.Where(u => (string)u["variant"]! == variant && u[column] is not null).Sum(u => Number(u, column)!.Value) + 1e-9);
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Percentile_caps_equal_numpy_over_the_unit_values_and_capped_sums_equal_a_plain_sum(string engine)
    {
        var units = _data.Project.Rows(engine, "select * from exp_trial__unit_metrics order by unit_id");
        Assert.True(units.Count >= 8, $"{engine}: only {units.Count} analysed units");
        double[] Values(string column) => [.. units.Where(u => u[column] is not null).Select(u => Number(u, column)!.Value)];

        var activityCap = NumpyPercentile(Values("activity"), 0.8);
        Assert.True(Values("activity").Any(v => v > activityCap), "the fixture must have values above the cap");
        AssertCapped(engine, units, "activity", "activity", "value_sum", "value_sum_squares", "value_shift", "value_cap", activityCap);

        // each part of the ratio is capped at its own percentile, and the cross-product uses both capped parts
        var numeratorCap = NumpyPercentile(Values("purchases"), 0.35);
        var denominatorCap = NumpyPercentile(Values("views"), 0.35);
        AssertCapped(engine, units, "purchase_share", "purchases", "value_sum", "value_sum_squares", "value_shift", "value_cap", numeratorCap);
        AssertCapped(engine, units, "purchase_share", "views", "denominator_sum", "denominator_sum_squares", "denominator_shift", "denominator_cap", denominatorCap);
        foreach (var row in _data.Project.Rows(engine, "select * from exp_trial__statistics where metric = 'purchase_share'"))
        {
            var variant = (string)row["variant"]!;
            double ns = Number(row, "value_shift")!.Value, ds = Number(row, "denominator_shift")!.Value;
            var expected = units.Where(u => (string)u["variant"]! == variant)
                .Sum(u => (Math.Min(Number(u, "purchases")!.Value, numeratorCap) - ns) * (Math.Min(Number(u, "views")!.Value, denominatorCap) - ds));
            EngineProject.Close([expected], [Number(row, "cross_sum")], $"{engine} purchase_share {variant} capped cross-products");
        }

        AssertCapped(engine, units, "activity_fixed", "activity_fixed", "value_sum", "value_sum_squares", "value_shift", "value_cap", 3.5);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_cuped_covariate_is_capped_at_its_own_percentile(string engine)
    {
        var units = _data.Cuped.Rows(engine, "select * from exp_trial__unit_metrics order by unit_id");
        double[] Values(string column) => [.. units.Select(u => Number(u, column)!.Value)];
        var valueCap = NumpyPercentile(Values("activity"), 0.8);
        var covariateCap = NumpyPercentile(Values("activity__pre"), 0.8);
        Assert.True(Values("activity__pre").Any(v => v > covariateCap), "the fixture must have covariate values above their cap");
        foreach (var row in _data.Cuped.Rows(engine, "select * from exp_trial__statistics where metric = 'activity' order by variant"))
        {
            var variant = (string)row["variant"]!;
            Assert.Equal(covariateCap, Number(row, "covariate_cap")!.Value, 12);
            Assert.Equal(valueCap, Number(row, "value_cap")!.Value, 12);
            var arm = units.Where(u => (string)u["variant"]! == variant).ToList();
            double vs = Number(row, "value_shift")!.Value, cs = Number(row, "covariate_shift")!.Value;
            var x = arm.Select(u => Math.Min(Number(u, "activity__pre")!.Value, covariateCap) - cs).ToList();
            var y = arm.Select(u => Math.Min(Number(u, "activity")!.Value, valueCap) - vs).ToList();
            EngineProject.Close([x.Sum()], [Number(row, "covariate_sum")], $"{engine} {variant} capped covariate sum");
            EngineProject.Close([x.Sum(v => v * v)], [Number(row, "covariate_sum_squares")], $"{engine} {variant} capped covariate squares");
            EngineProject.Close([x.Zip(y, (a, b) => a * b).Sum()], [Number(row, "cross_sum")], $"{engine} {variant} capped cross-products");
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Every_engine_reports_the_same_caps(string engine)
    {
        string Caps(string e) => string.Join(";", _data.Project.Rows(e, "select metric, variant, value_cap, denominator_cap from exp_trial__statistics order by metric, variant")
            .Select(r => $"{r["metric"]}/{r["variant"]}:{Number(r, "value_cap")?.ToString("R", CultureInfo.InvariantCulture)}/{Number(r, "denominator_cap")?.ToString("R", CultureInfo.InvariantCulture)}"));
        Assert.Equal(Caps("sqlite"), Caps(engine));
    }

    [Fact]
    public void The_readout_json_shows_the_cap_each_metric_used()
    {
        // target/results/trial.json is the last build's readout; the caps are the same on every engine (tested above)
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_data.Project.Root, "target", "results", "trial.json")));
        var units = _data.Project.Rows("postgres", "select * from exp_trial__unit_metrics");
        double[] Values(string column) => [.. units.Select(u => Number(u, column)!.Value)];
        var metrics = json.RootElement.GetProperty("metrics").EnumerateArray().ToList();
        System.Text.Json.JsonElement Cap(string metric) => metrics.First(m => m.GetProperty("metric").GetString() == metric).GetProperty("cap");

        Assert.Equal("p80", Cap("activity").GetProperty("rule").GetString());
        Assert.Equal(NumpyPercentile(Values("activity"), 0.8), Cap("activity").GetProperty("value").GetDouble(), 12);
        Assert.Equal("p35", Cap("purchase_share").GetProperty("rule").GetString());
        Assert.Equal(NumpyPercentile(Values("views"), 0.35), Cap("purchase_share").GetProperty("denominator").GetDouble(), 12);
        Assert.Equal("fixed", Cap("activity_fixed").GetProperty("rule").GetString());
        Assert.Equal(3.5, Cap("activity_fixed").GetProperty("value").GetDouble());
    }

    [Fact]
    public void The_terminal_and_markdown_readouts_show_the_caps()
    {
        var outcome = new MetricCompiler.Execution.Running.ProjectRunner(MetricCompiler.Execution.Running.SilentObserver.Instance)
            .Run(new MetricCompiler.Execution.Running.RunRequest(_data.Project.Root, "sqlite", null));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var readout = Assert.Single(outcome.Readouts);
        var units = _data.Project.Rows("sqlite", "select * from exp_trial__unit_metrics");
        string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
        var activity = F(NumpyPercentile([.. units.Select(u => Number(u, "activity")!.Value)], 0.8));
        var numerator = F(NumpyPercentile([.. units.Select(u => Number(u, "purchases")!.Value)], 0.35));
        var denominator = F(NumpyPercentile([.. units.Select(u => Number(u, "views")!.Value)], 0.35));

        var terminal = new StringWriter();
        MetricCompiler.Cli.Output.ReadoutPrinter.Print(terminal, readout);
        Assert.Contains($"  cap: `activity` values capped at p80 = {activity}\n", terminal.ToString().ReplaceLineEndings("\n"));
        Assert.Contains($"  cap: `purchase_share` values capped at p35: numerator {numerator}, denominator {denominator}\n", terminal.ToString().ReplaceLineEndings("\n"));
        Assert.Contains("  cap: `activity_fixed` values capped at fixed = 3.5\n", terminal.ToString().ReplaceLineEndings("\n"));

        var markdown = MetricCompiler.Execution.Reports.ReadoutMarkdown.Render(readout, _data.Project.Project.Definition.FindExperiment("trial")!);
        Assert.Contains($"capped at p80 = {activity}", markdown);
        Assert.Contains("capped at fixed = 3.5", markdown);
    }

    /// <summary>
    /// <c>metricc simulate</c> caps as the statistics SQL does: split by the real assignment, the simulation's comparisons
    /// of the capped count (p80), the capped ratio (p35 per part) and the fixed-capped count equal the readout's from the
    /// warehouse at 1e-9; the A/A false-positive rate of each capped metric is reported and within 3 SE of alpha.
    /// </summary>
    [Fact]
    public void The_simulation_caps_each_capped_metric_as_the_statistics_sql_does()
    {
        var lowered = ExperimentLowering.Lower(_data.Project.Project.Experiments.Single());
        var statistics = _data.Project.Rows("sqlite", "select * from exp_trial__statistics order by metric, variant");
        var srm = _data.Project.Rows("sqlite", "select * from exp_trial__srm");
        var readout = ReadoutBuilder.Build(lowered, new ExperimentTables(statistics, srm, []));
        using var adapter = _data.Project.Open("sqlite");
        var data = UnitMetricsReader.Read(adapter, lowered);
        var control = lowered.Experiment.Control.Name;
        var inB = _data.Project.Rows("sqlite", "select variant from exp_trial__unit_metrics order by unit_id").Select(r => (string)r["variant"]! != control).ToList();
        var simulated = ExperimentAnalyzer.Analyze(new AnalysisRequest(CalibrationSimulator.ArmA, CalibrationSimulator.SplitInputs(lowered, data, inB)));
        foreach (var metric in new[] { "activity", "purchase_share", "activity_fixed" })
        {
            var expected = readout.Metrics.Single(m => m.Metric == metric).Comparison;
            var actual = simulated.Comparisons.Single(c => c.Metric == metric);
            EngineProject.Close([expected.ControlMean, expected.VariantMean, expected.AbsoluteLift, expected.StdError, expected.PValue],
                [actual.ControlMean, actual.VariantMean, actual.AbsoluteLift, actual.StdError, actual.PValue], $"simulated {metric}", 1e-9);
        }

        // A/A calibration needs more than the 12 units above: 2000 heavy-tailed units (0.5 plus a log-normal, sd 1.3 on the log
        // scale) in every column the metrics read, capped by the same plan
        var random = new Random(20261203);
        var units = 2000;
        var columns = UnitMetricsReader.RequiredColumns(lowered).ToDictionary(c => c, _ => Enumerable.Range(0, units).Select(_ =>
            0.5 + Math.Exp(1.3 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray());
        var report = CalibrationSimulator.Run(lowered, new UnitMetricsData(units, columns), new SimulationOptions(Runs: 400, Seed: 7));
        foreach (var metric in new[] { "activity", "purchase_share", "activity_fixed" })
        {
            var m = report.Metrics.Single(r => r.Metric == metric);
            Assert.True(m.FalsePositiveRate is not null, $"{metric}: untestable in {m.UntestableRuns} runs");
            Assert.True(m.Within3Se == true, $"{metric}: A/A rate {m.FalsePositiveRate} (SE {m.StandardError})");
        }
    }
}
