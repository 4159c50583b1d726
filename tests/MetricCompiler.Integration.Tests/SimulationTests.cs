using MetricCompiler.Planning.Experiments;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Simulation;
using MetricCompiler.Statistics;
using Xunit.Abstractions;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// `metricc simulate` on a synthetic per-unit table written into the planner's own unit_metrics table: A/A runs are
/// calibrated, an injected lift is detected, the seed makes the report reproducible, and bad input gets the right exit code.
/// </summary>
public sealed class SimulationTests : IDisposable
{
    private const int SyntheticUnits = 4000;
    private readonly WarehouseProject _project = new();

    [Fact]
    public void Aa_runs_have_false_positive_rate_and_coverage_within_3_standard_errors()
    {
        BuildSyntheticUnitMetrics();
        var (exit, output, error) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "400", "--seed", "7", "--format", "json");

        Assert.True(exit == 0, error);
        using var report = JsonDocument.Parse(output);
        var root = report.RootElement;
        Assert.Equal("checkout", root.GetProperty("experiment").GetString());
        Assert.Equal(SyntheticUnits, root.GetProperty("units").GetInt32());
        var alpha = root.GetProperty("alpha").GetDouble();
        var metrics = root.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(["purchased", "revenue", "purchases", "order_value", "load_time"], metrics.Select(m => m.GetProperty("metric").GetString()));
        Assert.Equal("guardrail", metrics[^1].GetProperty("role").GetString());
        foreach (var metric in metrics)
        {
            var name = metric.GetProperty("metric").GetString();
            var runs = metric.GetProperty("runs").GetInt32();
            Assert.Equal(400, runs);
            var se = Math.Sqrt(alpha * (1 - alpha) / runs);
            var falsePositives = metric.GetProperty("false_positive_rate").GetDouble();
            var coverage = metric.GetProperty("ci_coverage").GetDouble();
            Assert.True(Math.Abs(falsePositives - alpha) <= 3 * se, $"{name}: false-positive rate {falsePositives} not within 3 SE ({se:F4}) of {alpha}");
            Assert.True(Math.Abs(coverage - (1 - alpha)) <= 3 * se, $"{name}: CI coverage {coverage} not within 3 SE of {1 - alpha}");
            Assert.True(metric.GetProperty("within_3_se").GetBoolean());
            Assert.True(metric.GetProperty("coverage_within_3_se").GetBoolean());
            Assert.Equal(JsonValueKind.Null, metric.GetProperty("power").ValueKind);
            Assert.False(metric.GetProperty("lifted").GetBoolean());
        }

        // Without a correction (the project's default) the family is not protected: some metric is significant far more
        // often than alpha. That is what `correction: holm` is for (next test).
        var family = root.GetProperty("family");
        Assert.Equal("none", family.GetProperty("correction").GetString());
        Assert.False(family.GetProperty("at_most_alpha").GetBoolean());
        Assert.True(family.GetProperty("error_rate").GetDouble() > alpha + (3 * family.GetProperty("standard_error").GetDouble()));
        Assert.Contains("simulated 400 of 400 runs (100%)", error);
    }

    [Fact]
    public void Holm_keeps_the_family_at_or_below_alpha_while_each_test_stays_calibrated()
    {
        BuildSyntheticUnitMetrics();
        _project.WriteProject(Regex.Replace(WarehouseProject.ProjectYaml, @"^( *)cuped:", "$1correction: holm\n$1cuped:", RegexOptions.Multiline));
        var (exit, output, error) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "400", "--seed", "7", "--format", "json");

        Assert.True(exit == 0, error);
        using var report = JsonDocument.Parse(output);
        var family = report.RootElement.GetProperty("family");
        Assert.Equal("holm", family.GetProperty("correction").GetString());
        Assert.True(family.GetProperty("at_most_alpha").GetBoolean(), $"family error rate {family.GetProperty("error_rate")}");
        foreach (var metric in report.RootElement.GetProperty("metrics").EnumerateArray())
        {
            Assert.True(metric.GetProperty("within_3_se").GetBoolean());
            Assert.True(metric.GetProperty("readout_significant_rate").GetDouble() <= metric.GetProperty("false_positive_rate").GetDouble());
        }
    }

    [Theory]
    [InlineData("sequential")]
    [InlineData("bayesian")]
    public void Sequential_and_bayesian_experiments_simulate_with_their_own_method(string method)
    {
        BuildSyntheticUnitMetrics();
        _project.WriteProject(Regex.Replace(WarehouseProject.ProjectYaml, @"^( *)cuped:", $"$1method: {method}\n$1cuped:", RegexOptions.Multiline));
        var (exit, output, error) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "100", "--format", "json");

        Assert.True(exit == 0, error);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(method, report.RootElement.GetProperty("method").GetString());
        foreach (var metric in report.RootElement.GetProperty("metrics").EnumerateArray())
        {
            Assert.Equal(100, metric.GetProperty("runs").GetInt32());
            // Always-valid sequential intervals are wider than fixed-horizon ones: conservative at a single look.
            if (method == "sequential")
                Assert.True(metric.GetProperty("false_positive_rate").GetDouble() <= 0.05 + (3 * metric.GetProperty("standard_error").GetDouble()));
        }
    }

    [Fact]
    public void Injected_lift_is_detected_and_zero_lift_is_the_aa_report()
    {
        BuildSyntheticUnitMetrics();
        string[] common = ["--experiment", "checkout", "--runs", "200", "--seed", "3", "--format", "json"];

        var (exit, output, error) = Simulate(_project.Root, [.. common, "--lift", "0.5", "--metric", "revenue"]);
        Assert.True(exit == 0, error);
        using var lifted = JsonDocument.Parse(output);
        Assert.Equal(["revenue"], lifted.RootElement.GetProperty("lifted_metrics").EnumerateArray().Select(e => e.GetString()));
        var revenue = lifted.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "revenue");
        Assert.True(revenue.GetProperty("lifted").GetBoolean());
        var power = revenue.GetProperty("power").GetDouble();
        Assert.True(power > 0.8, $"power {power}");
        Assert.True(power > lifted.RootElement.GetProperty("alpha").GetDouble() + 0.5);
        Assert.Equal(JsonValueKind.Null, revenue.GetProperty("false_positive_rate").ValueKind);
        Assert.True(revenue.GetProperty("ci_coverage").GetDouble() > 0.85, "the interval should cover the injected lift");
        var purchased = lifted.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "purchased");
        Assert.False(purchased.GetProperty("lifted").GetBoolean());

        var (aaExit, aa, _) = Simulate(_project.Root, common);
        var (zeroExit, zero, _) = Simulate(_project.Root, [.. common, "--lift", "0", "--metric", "revenue"]);
        Assert.Equal(0, aaExit);
        Assert.Equal(0, zeroExit);
        Assert.Equal(aa, zero);

        // Default: the lift goes to the primary metric.
        var (_, primaryLift, _) = Simulate(_project.Root, [.. common, "--lift", "0.5"]);
        using var primary = JsonDocument.Parse(primaryLift);
        Assert.Equal(["purchased"], primary.RootElement.GetProperty("lifted_metrics").EnumerateArray().Select(e => e.GetString()));
        Assert.True(primary.RootElement.GetProperty("metrics")[0].GetProperty("power").GetDouble() > 0.8);
    }

    [Fact]
    public void Same_seed_gives_identical_json_and_another_seed_different_figures()
    {
        BuildSyntheticUnitMetrics();
        string[] args = ["--experiment", "checkout", "--runs", "150", "--format", "json"];
        var first = Simulate(_project.Root, [.. args, "--seed", "11"]);
        var second = Simulate(_project.Root, [.. args, "--seed", "11"]);
        var other = Simulate(_project.Root, [.. args, "--seed", "12"]);

        Assert.Equal(0, first.Exit);
        Assert.Equal(first.Output, second.Output);
        Assert.NotEqual(Figures(first.Output), Figures(other.Output));

        var table = Simulate(_project.Root, "--experiment", "checkout", "--runs", "150", "--seed", "11");
        Assert.Equal(0, table.Exit);
        Assert.Contains("false pos.", table.Output);
        Assert.Contains("load_time", table.Output);
        Assert.Contains("guardrail", table.Output);
    }

    [Fact]
    public void Unknown_experiment_is_bad_usage_with_a_suggestion()
    {
        var (exit, _, error) = Simulate(_project.Root, "--experiment", "chekout");
        Assert.Equal(2, exit);
        Assert.Contains("unknown experiment `chekout`", error);
        Assert.Contains("did you mean `checkout`?", error);
    }

    [Fact]
    public void Bad_runs_lift_and_metric_are_bad_usage()
    {
        Assert.Equal(2, Simulate(_project.Root, "--experiment", "checkout", "--runs", "0").Exit);
        Assert.Equal(2, Simulate(_project.Root, "--experiment", "checkout", "--lift", "-1").Exit);
        Assert.Equal(2, Simulate(_project.Root, "--experiment", "checkout", "--metric", "revenue").Exit);
        var (exit, _, error) = Simulate(_project.Root, "--experiment", "checkout", "--lift", "0.1", "--metric", "revenu");
        Assert.Equal(2, exit);
        Assert.Contains("did you mean `revenue`?", error);
        Assert.Equal(2, Simulate(_project.Root, "--experiment", "checkout", "--format", "xml").Exit);
    }

    [Fact]
    public void Missing_unit_metrics_table_fails_with_the_run_advice()
    {
        var (exit, _, error) = Simulate(_project.Root, "--experiment", "checkout");
        Assert.Equal(1, exit);
        Assert.Contains("run `metricc run --select +exp_checkout__unit_metrics` first", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Daily_monitoring_of_a_guardrail_raises_false_alarms_with_the_fixed_horizon_test_only()
    {
        BuildSyntheticUnitMetrics();
        var (exit, output, error) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "400", "--seed", "3", "--looks", "14", "--format", "json");
        Assert.True(exit == 0, error);
        using var report = JsonDocument.Parse(output);
        var alpha = report.RootElement.GetProperty("alpha").GetDouble();
        var monitoring = report.RootElement.GetProperty("guardrail_monitoring");
        Assert.Equal(14, monitoring.GetProperty("looks").GetInt32());
        Assert.Equal("fixed_horizon", monitoring.GetProperty("readout_test").GetString());
        var guardrail = Assert.Single(monitoring.GetProperty("guardrails").EnumerateArray());
        Assert.Equal("load_time", guardrail.GetProperty("metric").GetString());
        var limit = alpha + (3 * Math.Sqrt(alpha * (1 - alpha) / 400));
        var fixedRate = guardrail.GetProperty("fixed_horizon_harm_rate").GetDouble();
        var validRate = guardrail.GetProperty("always_valid_harm_rate").GetDouble();
        // One-sided at alpha checked 14 times: the fixed-horizon test alarms far more often than alpha (about 3x here),
        // the always-valid confidence sequence stays within alpha + 3 SE.
        Assert.True(fixedRate > limit, $"fixed-horizon false-alarm rate {fixedRate} should exceed {limit} over 14 looks");
        Assert.True(validRate <= limit, $"always-valid false-alarm rate {validRate} > {limit}");
        Assert.True(guardrail.GetProperty("always_valid_at_most_alpha").GetBoolean());
        Assert.True(guardrail.GetProperty("always_valid_breach_rate").GetDouble() <= guardrail.GetProperty("fixed_horizon_breach_rate").GetDouble());

        var (_, text, _) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "50", "--looks", "14");
        Assert.Contains("Guardrails monitored at 14 looks", text);
        var (off, quiet, _) = Simulate(_project.Root, "--experiment", "checkout", "--runs", "50", "--looks", "0", "--format", "json");
        Assert.Equal(0, off);
        using var none = JsonDocument.Parse(quiet);
        Assert.Equal(JsonValueKind.Null, none.RootElement.GetProperty("guardrail_monitoring").ValueKind);
        Assert.Equal(2, Simulate(_project.Root, "--experiment", "checkout", "--looks", "-1").Exit);
    }

    /// <summary>Runs `metricc simulate` through the real command line.</summary>
    internal static (int Exit, string Output, string Error) Simulate(string projectDir, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["simulate", "--project-dir", projectDir, .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static string Figures(string json)
    {
        using var document = JsonDocument.Parse(json);
        return string.Join(";", document.RootElement.GetProperty("metrics").EnumerateArray()
            .Select(m => $"{m.GetProperty("false_positive_rate")}/{m.GetProperty("ci_coverage")}"));
    }

    /// <summary>
    /// Builds the project's tables with a normal run over empty raw tables (so unit_metrics has exactly the planner's
    /// columns), then fills unit_metrics with synthetic units: a 0/1 conversion, lognormal revenue per purchase, a count,
    /// each with a correlated pre-period covariate, and an average load time that is null for some units.
    /// </summary>
    private void BuildSyntheticUnitMetrics()
    {
        _project.Execute("""
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            """);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["run", "--project-dir", _project.Root], output, error) == 0, error.ToString());

        var random = new Random(20260105);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        (double Converted, double Purchases, double Revenue) Period(double activity)
        {
            if (random.NextDouble() >= Math.Min(0.9, 0.2 * activity))
                return (0, 0, 0);
            var purchases = 1.0;
            while (random.NextDouble() < 0.3)
                purchases++;
            var revenue = 0.0;
            for (var k = 0; k < purchases; k++)
                revenue += Math.Exp(3 + Normal());
            return (1, purchases, revenue);
        }

        using var connection = _project.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            insert into exp_checkout__unit_metrics
                (unit_id, variant, purchased, purchased__pre, revenue, revenue__pre, purchases, purchases__pre, load_time)
            values (@unit, @variant, @purchased, @purchased_pre, @revenue, @revenue_pre, @purchases, @purchases_pre, @load)
            """;
        foreach (var name in new[] { "@unit", "@variant", "@purchased", "@purchased_pre", "@revenue", "@revenue_pre", "@purchases", "@purchases_pre", "@load" })
            insert.Parameters.Add(new Microsoft.Data.Sqlite.SqliteParameter { ParameterName = name });
        for (var i = 0; i < SyntheticUnits; i++)
        {
            var activity = Math.Exp(0.5 * Normal());
            var pre = Period(activity);
            var post = Period(activity);
            insert.Parameters["@unit"].Value = $"u{i:D5}";
            insert.Parameters["@variant"].Value = i % 2 == 0 ? "control" : "treatment";
            insert.Parameters["@purchased"].Value = post.Converted;
            insert.Parameters["@purchased_pre"].Value = pre.Converted;
            insert.Parameters["@revenue"].Value = post.Revenue;
            insert.Parameters["@revenue_pre"].Value = pre.Revenue;
            insert.Parameters["@purchases"].Value = post.Purchases;
            insert.Parameters["@purchases_pre"].Value = pre.Purchases;
            insert.Parameters["@load"].Value = random.NextDouble() < 0.1 ? DBNull.Value : Math.Exp(6 + (0.3 * Normal()));
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public void Dispose() => _project.Dispose();
}

/// <summary>
/// The real demo: build it as `./metricc build` does, check that a split by the real variant reproduces the statistics
/// SQL exactly, then 1,000 A/A runs of homepage_cta keep the primary metric's false-positive rate within 3 SE of alpha.
/// </summary>
public sealed class DemoSimulationTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-simulate", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Demo_homepage_cta_aa_false_positive_rate_is_within_3_standard_errors_of_alpha()
    {
        DemoCopy.To(_root);
        var buildError = new StringWriter();
        Assert.True(CommandLine.Run(["build", "--project-dir", _root], new StringWriter(), buildError) == 0, buildError.ToString());

        SplitByRealVariantReproducesTheStatisticsTable();

        var clock = Stopwatch.StartNew();
        var (exit, output, error) = SimulationTests.Simulate(_root, "--experiment", "homepage_cta", "--runs", "1000", "--seed", "1", "--format", "json");
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.True(exit == 0, error);
        // Speed is measured by scripts/benchmark.sh, not asserted here: a loaded machine must not fail a correctness test.
        log.WriteLine($"1000 runs (including reading the table) in {seconds:F2} s");
        log.WriteLine(output);
        log.WriteLine(SimulationTests.Simulate(_root, "--experiment", "homepage_cta", "--runs", "1000", "--seed", "1").Output);

        using var report = JsonDocument.Parse(output);
        var alpha = report.RootElement.GetProperty("alpha").GetDouble();
        Assert.Equal(0.05, alpha);
        var primary = report.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "primary");
        Assert.Equal("purchased", primary.GetProperty("metric").GetString());
        var runs = primary.GetProperty("runs").GetInt32();
        Assert.Equal(1000, runs);
        var rate = primary.GetProperty("false_positive_rate").GetDouble();
        var se = Math.Sqrt(alpha * (1 - alpha) / runs);
        Assert.True(Math.Abs(rate - alpha) <= 3 * se, $"false-positive rate {rate} not within 3 SE ({se:F4}) of {alpha}");
    }

    /// <summary>The simulator's sums, split by the real variant, equal the statistics the warehouse SQL computed.</summary>
    private void SplitByRealVariantReproducesTheStatisticsTable()
    {
        var bound = ProjectLoader.Load(_root).Bound!;
        var project = bound.Definition;
        var experiment = bound.FindExperiment("homepage_cta")!;
        var lowered = ExperimentLowering.Lower(experiment);
        using var adapter = AdapterFactory.Open(AdapterFactory.Resolve(project, null), project.RootDirectory);
        var data = UnitMetricsReader.Read(adapter, lowered);
        var treatment = adapter.Query("select variant from exp_homepage_cta__unit_metrics order by unit_id")
            .Select(r => (string?)r["variant"] == "treatment").ToList();
        var inputs = CalibrationSimulator.SplitInputs(lowered, data, treatment);
        var rows = adapter.Query("select * from exp_homepage_cta__statistics");
        Assert.Equal(experiment.Metrics.Count, inputs.Count);
        foreach (var input in inputs)
        {
            foreach (var (arm, variant) in new[] { (CalibrationSimulator.ArmA, "control"), (CalibrationSimulator.ArmB, "treatment") })
            {
                var row = rows.Single(r => (string?)r["metric"] == input.Name && (string?)r["variant"] == variant);
                var stats = input.Variants[arm];
                var where = $"{input.Name}/{variant}";
                Assert.True(Convert.ToInt64(row["n"], CultureInfo.InvariantCulture) == stats.N, where);
                // The warehouse's sums are centred (value_shift, denominator_shift, covariate_shift); the simulator's are raw.
                double? D(string column) => row[column] is null ? null : Convert.ToDouble(row[column], CultureInfo.InvariantCulture);
                var n = (double)stats.N;
                double? RawSum(string sum, string shift) => D(sum) is { } s ? s + (n * (D(shift) ?? 0)) : null;
                double? RawSquares(string sum, string squares, string shift) =>
                    D(squares) is { } q ? q + (2 * (D(shift) ?? 0) * (D(sum) ?? 0)) + (n * (D(shift) ?? 0) * (D(shift) ?? 0)) : null;
                double? RawCross(string ySum, string yShift, string xSum, string xShift) =>
                    D("cross_sum") is { } c ? c + ((D(yShift) ?? 0) * (D(xSum) ?? 0)) + ((D(xShift) ?? 0) * (D(ySum) ?? 0)) + (n * (D(xShift) ?? 0) * (D(yShift) ?? 0)) : null;
                if (input.Kind == MetricKind.Ratio)
                {
                    Close(RawSum("value_sum", "value_shift"), stats.NumeratorSum, where);
                    Close(RawSquares("value_sum", "value_sum_squares", "value_shift"), stats.NumeratorSumSquares, where);
                    Close(RawSum("denominator_sum", "denominator_shift"), stats.DenominatorSum, where);
                    Close(RawSquares("denominator_sum", "denominator_sum_squares", "denominator_shift"), stats.DenominatorSumSquares, where);
                    Close(RawCross("value_sum", "value_shift", "denominator_sum", "denominator_shift"), stats.CrossSum, where);
                }
                else
                {
                    Close(RawSum("value_sum", "value_shift"), stats.Sum, where);
                    Close(RawSquares("value_sum", "value_sum_squares", "value_shift"), stats.SumSquares, where);
                    Close(RawSum("covariate_sum", "covariate_shift"), stats.CovariateSum, where);
                    Close(RawSquares("covariate_sum", "covariate_sum_squares", "covariate_shift"), stats.CovariateSumSquares, where);
                    Close(RawCross("value_sum", "value_shift", "covariate_sum", "covariate_shift"), stats.CrossSum, where);
                }
            }
        }
    }

    private static void Close(object? expected, double? actual, string where)
    {
        if (expected is null)
        {
            Assert.True(actual is null or 0, $"{where}: expected null, got {actual}");
            return;
        }

        var e = Convert.ToDouble(expected, CultureInfo.InvariantCulture);
        Assert.True(actual is { } a && Math.Abs(a - e) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{where}: expected {e}, got {actual}");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
