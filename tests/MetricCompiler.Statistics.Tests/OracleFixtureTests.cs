using System.Text.Json;

namespace MetricCompiler.Statistics.Tests;

/// <summary>
/// Every figure of every oracle fixture (scipy/statsmodels on raw unit-level arrays), at relative
/// tolerance 1e-6 (absolute 1e-12 near zero). Requests go through the JSON contract
/// (<see cref="StatsJson.ParseRequest"/>) and results are compared as written by <see cref="StatsJson.WriteResult"/>.
/// </summary>
public sealed class OracleFixtureTests
{
    public static TheoryData<string, string> AnalysisCases => Fixtures.Cases("analysis");

    public static TheoryData<string, string> GuardrailCases => Fixtures.Cases("guardrail");

    public static TheoryData<string, string> PowerCases => Fixtures.Cases("power");

    [Fact]
    public void FixturesArePresentWithGeneratorHeader()
    {
        var files = Fixtures.Files().ToList();
        Assert.True(files.Count >= 15, $"expected the oracle fixtures in {Fixtures.Directory}, found {files.Count}");
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var header = doc.RootElement.GetProperty("header");
            Assert.Equal("tests/oracle/generate_fixtures.py", header.GetProperty("generator").GetString());
            Assert.StartsWith("1.10", header.GetProperty("scipy").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("0.13", header.GetProperty("statsmodels").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(AnalysisCases))]
    public void AnalysisMatchesOracle(string file, string caseName)
    {
        using var doc = Fixtures.Load(file);
        var fixture = Fixtures.Case(doc, caseName);
        var request = StatsJson.ParseRequest(fixture.GetProperty("request").GetRawText());
        var result = ExperimentAnalyzer.Analyze(request);
        using var written = JsonDocument.Parse(StatsJson.WriteResult(result));
        var actual = written.RootElement;
        var expected = fixture.GetProperty("expected");
        var problems = new List<string>();

        Fixtures.CompareValue(actual.GetProperty("srm"), expected.GetProperty("srm"), "srm", problems);

        var expectedComparisons = expected.GetProperty("comparisons").EnumerateArray().ToList();
        var actualComparisons = actual.GetProperty("comparisons").EnumerateArray().ToList();
        Assert.Equal(expectedComparisons.Count, actualComparisons.Count);
        for (var i = 0; i < expectedComparisons.Count; i++)
        {
            var label = $"comparisons[{i}]({expectedComparisons[i].GetProperty("metric").GetString()}/{expectedComparisons[i].GetProperty("variant").GetString()})";
            Fixtures.CompareObject(actualComparisons[i], expectedComparisons[i], label, problems);
        }

        // Every expected warning (metric/variant tag + reason) appears, and no others.
        var warnings = result.Warnings.ToList();
        var expectedWarnings = expected.GetProperty("warnings_contain").EnumerateArray()
            .Select(w => w.EnumerateArray().Select(s => s.GetString()!).ToArray()).ToList();
        foreach (var parts in expectedWarnings)
        {
            var match = warnings.FindIndex(w => parts.All(p => w.Contains(p, StringComparison.Ordinal)));
            if (match < 0)
            {
                problems.Add($"warnings: none contains [{string.Join(" | ", parts)}]; got [{string.Join(" || ", result.Warnings)}]");
            }
            else
            {
                warnings.RemoveAt(match);
            }
        }

        if (warnings.Count > 0)
        {
            problems.Add($"warnings: unexpected [{string.Join(" || ", warnings)}]");
        }

        Fixtures.AssertNoProblems(problems, $"{file}/{caseName}");
    }

    /// <summary>
    /// Quantile intervals against an independent implementation: scipy.stats.bootstrap (percentile, 2000 resamples)
    /// on the raw arrays. A bootstrap warrants only a loose tolerance (stated in the fixture, explained in
    /// generate_fixtures.py): SE within 15%, each endpoint within 0.25 bootstrap half-widths.
    /// </summary>
    [Fact]
    public void QuantileIntervalsAgreeWithTheBootstrap()
    {
        using var doc = Fixtures.Load("quantile.json");
        var fixture = Fixtures.Case(doc, "quantile");
        var bootstrap = fixture.GetProperty("bootstrap");
        var seTolerance = bootstrap.GetProperty("se_tolerance").GetDouble();
        var endpointTolerance = bootstrap.GetProperty("endpoint_tolerance_half_widths").GetDouble();
        Assert.Equal(0.15, seTolerance);
        Assert.Equal(0.25, endpointTolerance);
        var result = ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(fixture.GetProperty("request").GetRawText()));
        var problems = new List<string>();
        var checkedCount = 0;
        foreach (var b in bootstrap.GetProperty("comparisons").EnumerateArray())
        {
            var c = result.Comparisons.Single(x => x.Metric == b.GetProperty("metric").GetString() && x.Variant == b.GetProperty("variant").GetString());
            foreach (var (scale, test) in new[] { ("absolute", c.Absolute!), ("relative", c.Relative!) })
            {
                var bt = b.GetProperty(scale);
                var low = bt.GetProperty("ci_low").GetDouble();
                var high = bt.GetProperty("ci_high").GetDouble();
                var half = (high - low) / 2;
                var label = $"{c.Metric}/{c.Variant}/{scale}";
                if (Math.Abs((test.StdError!.Value / bt.GetProperty("std_error").GetDouble()) - 1) > seTolerance)
                {
                    problems.Add($"{label}: SE {test.StdError} vs bootstrap {bt.GetProperty("std_error").GetDouble()}");
                }

                if (Math.Abs(test.CiLow!.Value - low) > endpointTolerance * half || Math.Abs(test.CiHigh!.Value - high) > endpointTolerance * half)
                {
                    problems.Add($"{label}: CI [{test.CiLow}, {test.CiHigh}] vs bootstrap [{low}, {high}]");
                }

                checkedCount++;
            }
        }

        Assert.Equal(10, checkedCount);
        Fixtures.AssertNoProblems(problems, "quantile bootstrap");
    }

    [Theory]
    [MemberData(nameof(GuardrailCases))]
    public void GuardrailMatchesOracle(string file, string caseName)
    {
        using var doc = Fixtures.Load(file);
        var fixture = Fixtures.Case(doc, caseName);
        var control = fixture.GetProperty("control").GetString()!;
        var variant = fixture.GetProperty("variant").GetString()!;
        var wrapper = $"{{\"control\": \"{control}\", \"metrics\": [{fixture.GetProperty("metric").GetRawText()}]}}";
        var metric = StatsJson.ParseRequest(wrapper).Metrics.Single();
        var harm = fixture.GetProperty("harm").GetString() == "increase" ? HarmDirection.Increase : HarmDirection.Decrease;

        var method = fixture.TryGetProperty("method", out var m) && m.GetString() == "sequential" ? InferenceMethod.Sequential : InferenceMethod.Frequentist;
        var tuning = fixture.TryGetProperty("sequential_tuning", out var t) ? t.GetDouble() : SequentialTesting.DefaultTuning;

        var result = Guardrails.Evaluate(metric, control, variant, harm, fixture.GetProperty("margin").GetDouble(), fixture.GetProperty("alpha").GetDouble(), method, tuning);

        var actualJson = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["relative_lift"] = result.RelativeLift,
            ["harm_bound"] = result.HarmBound,
            ["non_inferiority_p_value"] = result.NonInferiorityPValue,
            ["harm_p_value"] = result.HarmPValue,
            ["status"] = result.Status,
            ["always_valid"] = result.AlwaysValid,
        });
        using var actual = JsonDocument.Parse(actualJson);
        var problems = new List<string>();
        Fixtures.CompareObject(actual.RootElement, fixture.GetProperty("expected"), caseName, problems);
        Fixtures.AssertNoProblems(problems, $"{file}/{caseName}");
    }

    [Theory]
    [MemberData(nameof(PowerCases))]
    public void PowerMatchesOracle(string file, string caseName)
    {
        using var doc = Fixtures.Load(file);
        var fixture = Fixtures.Case(doc, caseName);
        var input = fixture.GetProperty("input");
        var expected = fixture.GetProperty("expected");
        var kind = input.GetProperty("kind").GetString() == "proportion" ? MetricKind.Proportion : MetricKind.Mean;
        double? sd = input.GetProperty("std_dev").ValueKind == JsonValueKind.Null ? null : input.GetProperty("std_dev").GetDouble();
        var request = new PowerRequest(
            kind,
            input.GetProperty("baseline_mean").GetDouble(),
            input.GetProperty("relative_mde").GetDouble(),
            sd,
            input.GetProperty("alpha").GetDouble(),
            input.GetProperty("power").GetDouble(),
            input.GetProperty("variants").GetInt32(),
            input.GetProperty("daily_units").GetDouble());

        var plan = PowerCalculator.Plan(request);

        Assert.True(Fixtures.Close(plan.Variance, expected.GetProperty("variance").GetDouble()), "variance");
        Assert.True(Fixtures.Close(plan.ExactSampleSizePerVariant, expected.GetProperty("n_per_variant_exact").GetDouble()), $"exact n {plan.ExactSampleSizePerVariant}");
        Assert.Equal(expected.GetProperty("n_per_variant").GetInt64(), plan.SampleSizePerVariant);
        Assert.Equal(expected.GetProperty("total_n").GetInt64(), plan.TotalSampleSize);
        Assert.Equal(expected.GetProperty("days").GetInt64(), plan.Days);

        // statsmodels NormalIndPower, alternative='larger' at alpha/2: the same power function.
        Assert.True(Fixtures.Close(plan.ExactSampleSizePerVariant, expected.GetProperty("statsmodels_nobs1").GetDouble()), "statsmodels nobs1");

        // statsmodels' two-sided solve also counts the far tail; where it agrees on the rounded n, so must we.
        if (expected.GetProperty("two_sided_ceil_agrees").GetBoolean())
        {
            Assert.Equal((long)Math.Ceiling(expected.GetProperty("statsmodels_two_sided_nobs1").GetDouble()), plan.SampleSizePerVariant);
        }

        var mde = expected.GetProperty("mde_for_n");
        var relativeMde = PowerCalculator.MinimumDetectableEffect(
            plan.Variance, request.BaselineMean, mde.GetProperty("n_per_variant").GetInt64(), request.Alpha, request.Power);
        Assert.True(Fixtures.Close(relativeMde, mde.GetProperty("relative_mde").GetDouble()), $"mde {relativeMde}");

        // statsmodels solves for the effect size with a root finder (about 1e-5 relative): looser.
        Assert.True(Fixtures.Close(relativeMde, mde.GetProperty("statsmodels_relative_mde").GetDouble(), 1e-4), "statsmodels mde");
    }
}
