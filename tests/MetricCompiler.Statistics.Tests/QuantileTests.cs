namespace MetricCompiler.Statistics.Tests;

/// <summary>
/// Quantile comparisons (gbstats' QuantileStatistic): the variance from the order-statistic interval, the n*/n
/// scaling, undefined cases, the JSON contract, guardrails, and a Monte Carlo coverage run of the engine end to end
/// from raw draws (the values summarised as SQL would: percentile_cont at p and at p -/+ z sqrt(p(1-p)/n)).
/// </summary>
public sealed class QuantileTests
{
    private static VariantStatistics Arm(long n, double q, double lower, double upper, double level = 0.9, long? nStar = null) =>
        new(n, QuantileLevel: level, Quantile: q, QuantileLower: lower, QuantileUpper: upper, QuantileNStar: nStar);

    private static (Comparison C, IReadOnlyList<string> Warnings) Run(VariantStatistics control, VariantStatistics variant, Scale scale = Scale.Relative)
    {
        var metric = TestData.Metric("p90", MetricKind.Quantile, ("control", control), ("treatment", variant));
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [metric], Scale: scale));
        return (Assert.Single(result.Comparisons), result.Warnings);
    }

    [Fact]
    public void VarianceIsTheSquaredHalfWidthOverTwoZScaledByNStarOverN()
    {
        var (c, warnings) = Run(Arm(10_000, 100, 98, 102), Arm(10_000, 104, 101, 107));
        Assert.Empty(warnings);

        var z = 1.959963984540054;
        var va = 9999.0 / 10_000 * Math.Pow(4 / (2 * z), 2);
        var vb = 9999.0 / 10_000 * Math.Pow(6 / (2 * z), 2);
        Assert.Equal(4.0, c.AbsoluteLift!.Value, 12);
        Assert.Equal(Math.Sqrt(va + vb), c.StdError!.Value, 12);
        Assert.Equal(0.04, c.RelativeLift!.Value, 12);
        Assert.Equal(Math.Sqrt((vb / (100.0 * 100)) + (va * 104 * 104 / Math.Pow(100, 4))), c.RelativeStdError!.Value, 12);
        Assert.Equal(100.0, c.ControlMean);
        Assert.Equal(104.0, c.VariantMean);

        // Bounds taken at n* = n/4 (a coarser grid level) are twice as far apart for the same data; the n*/n factor
        // brings the variance back to the same value.
        var (grid, _) = Run(Arm(10_000, 100, 96, 104, nStar: 2500), Arm(10_000, 104, 98, 110, nStar: 2500));
        Assert.Equal(c.StdError!.Value, grid.StdError!.Value, 12);
    }

    [Fact]
    public void CollapsedBoundsAndTooSmallSamplesLeaveTheTestUndefined()
    {
        var (atom, warnings) = Run(Arm(1000, 0, 0, 0, 0.5), Arm(1000, 1, 0.5, 1.5, 0.5), Scale.Absolute);
        Assert.Null(atom.StdError);
        Assert.Null(atom.PValue);
        Assert.False(atom.Significant);
        Assert.Contains(warnings, w => w.Contains("quantile_lower equals quantile_upper in 'control'", StringComparison.Ordinal));

        // p = 0.99 needs n* > z^2 * 99 = 380.3: the upper bound level would pass 1.
        var (small, smallWarnings) = Run(Arm(380, 10, 9, 11, 0.99), Arm(400, 10, 9, 11, 0.99));
        Assert.Null(small.PValue);
        Assert.Contains(smallWarnings, w => w.Contains("n* = 380 in 'control' is too small for quantile level 0.99", StringComparison.Ordinal));
        var (enough, enoughWarnings) = Run(Arm(381, 10, 9, 11, 0.99), Arm(400, 10, 9, 11, 0.99));
        Assert.NotNull(enough.PValue);
        Assert.Empty(enoughWarnings);

        var (levels, levelWarnings) = Run(Arm(1000, 10, 9, 11, 0.9), Arm(1000, 10, 9, 11, 0.95));
        Assert.Null(levels.AbsoluteLift);
        Assert.Contains(levelWarnings, w => w.Contains("quantile levels must be equal", StringComparison.Ordinal));
    }

    [Fact]
    public void CoverageOfTheEngineFromRawDrawsIsNominal()
    {
        // 300 experiments of 1500 lognormal units per arm, treatment values x 1.05: the true P90 difference and lift
        // are known. The 95% CIs must cover within 3 Monte Carlo SE of 95% (fixed seed).
        const int reps = 300, n = 1500;
        const double level = 0.9, mu = 3.0, sigma = 0.8, effect = 1.05;
        var truth = Math.Exp(mu + (sigma * 1.2815515655446004));
        var random = new Random(20240917);
        int absoluteCovered = 0, relativeCovered = 0;
        for (var r = 0; r < reps; r++)
        {
            var a = Enumerable.Range(0, n).Select(_ => Math.Exp(mu + (sigma * Scenario.Normal(random)))).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => effect * Math.Exp(mu + (sigma * Scenario.Normal(random)))).ToArray();
            var (c, _) = Run(Scenario.QuantileArm(a, level), Scenario.QuantileArm(b, level));
            absoluteCovered += c.CiLow <= truth * (effect - 1) && truth * (effect - 1) <= c.CiHigh ? 1 : 0;
            relativeCovered += c.RelativeCiLow <= effect - 1 && effect - 1 <= c.RelativeCiHigh ? 1 : 0;
        }

        var bound = 3 * Math.Sqrt(0.95 * 0.05 / reps);
        Assert.InRange(absoluteCovered / (double)reps, 0.95 - bound, 0.95 + bound);
        Assert.InRange(relativeCovered / (double)reps, 0.95 - bound, 0.95 + bound);
    }

    [Fact]
    public void PercentileContMatchesNumpyLinear()
    {
        // numpy.quantile([1, 2, 4, 8, 16], [0.5, 0.9, 0.1]) = [4, 12.8, 1.4] (numpy 1.24, method 'linear').
        double[] sorted = [1, 2, 4, 8, 16];
        Assert.Equal(4.0, Scenario.PercentileCont(sorted, 0.5), 12);
        Assert.Equal(12.8, Scenario.PercentileCont(sorted, 0.9), 12);
        Assert.Equal(1.4, Scenario.PercentileCont(sorted, 0.1), 12);
    }

    [Fact]
    public void GuardrailsUseTheQuantilesRelativeChange()
    {
        var metric = TestData.Metric("latency_p95", MetricKind.Quantile,
            ("control", Arm(50_000, 300, 298, 302, 0.95)), ("treatment", Arm(50_000, 330, 327, 333, 0.95)));

        var fixedHorizon = Guardrails.Evaluate(metric, "control", "treatment", HarmDirection.Increase, 0.05, 0.05);
        var sequential = Guardrails.Evaluate(metric, "control", "treatment", HarmDirection.Increase, 0.05, 0.05, InferenceMethod.Sequential);

        Assert.Equal(0.1, fixedHorizon.RelativeLift!.Value, 12);
        Assert.Equal(GuardrailStatus.Breached, fixedHorizon.Status);
        Assert.Equal(GuardrailStatus.Breached, sequential.Status);
        Assert.True(sequential.HarmBound > fixedHorizon.HarmBound);
    }

    [Fact]
    public void JsonCarriesTheQuantileFields()
    {
        const string json = """
            {"control": "control", "metrics": [{"name": "p90", "kind": "quantile", "variants": {
              "control": {"n": 5000, "quantile_level": 0.9, "quantile": 10.5, "quantile_lower": 10.1, "quantile_upper": 10.9, "quantile_n_star": 3200},
              "treatment": {"n": 5100, "quantile_level": 0.9, "quantile": 11.0, "quantile_lower": 10.6, "quantile_upper": 11.5}}}]}
            """;
        var request = StatsJson.ParseRequest(json);
        var control = request.Metrics[0].Variants["control"];
        Assert.Equal(MetricKind.Quantile, request.Metrics[0].Kind);
        Assert.Equal(3200, control.QuantileNStar);
        Assert.Null(request.Metrics[0].Variants["treatment"].QuantileNStar);
        Assert.Equal(10.9, control.QuantileUpper);

        var written = StatsJson.WriteRequest(request);
        Assert.Contains("\"kind\": \"quantile\"", written, StringComparison.Ordinal);
        Assert.Equal(ExperimentAnalyzer.Analyze(request).Comparisons, ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(written)).Comparisons);
    }

    public static TheoryData<string, string> BadQuantileRequests => new()
    {
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {"c": {"n": 10, "quantile_level": 0.5, "quantile": 1, "quantile_lower": 0}, "t": {}}}]}""", "metrics[0].variants.c.quantile_upper: required for kind 'quantile'" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {"c": {"n": 10, "quantile_level": 1.5, "quantile": 1, "quantile_lower": 0, "quantile_upper": 2}, "t": {}}}]}""", "metrics[0].variants.c.quantile_level: expected a number in (0, 1)" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {"c": {"n": 10, "quantile_level": 0.5, "quantile": 3, "quantile_lower": 0, "quantile_upper": 2}, "t": {}}}]}""", "metrics[0].variants.c.quantile: expected quantile_lower <= quantile <= quantile_upper" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {"c": {"n": 10, "quantile_level": 0.5, "quantile": 1, "quantile_lower": 0, "quantile_upper": 2, "quantile_n_star": 0}, "t": {}}}]}""", "metrics[0].variants.c.quantile_n_star: expected a positive integer" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {"c": {"n": 10, "quantile_level": 0.5, "quantile": 1, "quantile_lower": 0, "quantile_upper": 2}, "t": {"n": 10, "quantile_level": 0.9, "quantile": 1, "quantile_lower": 0, "quantile_upper": 2}}}]}""", "metrics[0].variants.t.quantile_level: every variant needs the same quantile_level" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "cuped": true, "variants": {}}]}""", "metrics[0].cuped: CUPED is not supported for quantile metrics" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantile", "variants": {}}]}""", "metrics[0].variants: control variant 'c' is missing" },
        { """{"control": "c", "metrics": [{"name": "q", "kind": "quantil", "variants": {}}]}""", "metrics[0].kind: expected one of mean, proportion, ratio, quantile" },
    };

    [Theory]
    [MemberData(nameof(BadQuantileRequests))]
    public void BadQuantileInputNamesThePath(string json, string expected)
    {
        var error = Assert.Throws<StatsInputException>(() => StatsJson.ParseRequest(json));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }
}
