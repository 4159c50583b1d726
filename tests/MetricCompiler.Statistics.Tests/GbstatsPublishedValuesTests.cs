namespace MetricCompiler.Statistics.Tests;

/// <summary>
/// Values published in GrowthBook's own gbstats unit tests (growthbook/growthbook,
/// packages/stats/tests/frequentist/test_tests.py and packages/stats/tests/bayesian/test_tests.py).
/// Most are rounded there to 5 decimals; the one-sided test values are printed at full precision.
/// gbstats reports relative effects by default, so relative figures are compared unless noted.
/// </summary>
public sealed class GbstatsPublishedValuesTests
{
    // SampleMeanStatistic(sum=1396.87, sum_squares=52377.9767, n=...) and (sum=2422.7, sum_squares=134698.29, n=3461)
    private static MetricInput GbMetric(long controlN) => TestData.Metric("gb", MetricKind.Mean,
        ("control", new VariantStatistics(controlN, 1396.87, 52377.9767)), ("treatment", new VariantStatistics(3461, 2422.7, 134698.29)));

    private static Comparison Run(MetricInput metric, InferenceMethod method = InferenceMethod.Frequentist, double alpha = 0.05, double tuning = 5000, BayesianPrior? prior = null) =>
        ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [metric], alpha, Method: method, SequentialTuning: tuning, Prior: prior)).Comparisons.Single();

    private static double R5(double? x) => Math.Round(x!.Value, 5);

    [Fact]
    public void TwoSidedTTestAbsoluteAndRelative()
    {
        // TestTwoSidedTTest.test_two_sided_ttest_absolute / test_two_sided_ttest
        var c = Run(GbMetric(3407));

        Assert.Equal(0.29, R5(c.AbsoluteLift));
        Assert.Equal(0.12478, R5(c.StdError));
        Assert.Equal(0.04538, R5(c.CiLow));
        Assert.Equal(0.53462, R5(c.CiHigh));
        Assert.Equal(0.02016, R5(c.PValue));
        Assert.Equal(0.70732, R5(c.RelativeLift));
        Assert.Equal(0.37879, R5(c.RelativeStdError));
        Assert.Equal(-0.03526, R5(c.RelativeCiLow));
        Assert.Equal(1.44989, R5(c.RelativeCiHigh));
    }

    [Fact]
    public void OneSidedTTestFullPrecision()
    {
        // TestOneSidedGreaterTTest: relative expected=0.5033610858562358, stddev=0.3334122146400735,
        // ci lower=-0.045136675850396046, p=0.06558262868467746; absolute expected=0.23437666666666668,
        // stddev=0.12983081254184736, ci lower=0.020791480063255735, p=0.03554272489873023.
        // A two-sided analysis at alpha 0.10 has the one-sided 0.05 lower bound; its p is twice the one-sided p.
        var c = Run(GbMetric(3000), alpha: 0.10);

        Assert.True(Fixtures.Close(c.RelativeLift!.Value, 0.5033610858562358, 1e-12));
        Assert.True(Fixtures.Close(c.RelativeStdError!.Value, 0.3334122146400735, 1e-12));
        Assert.True(Fixtures.Close(c.RelativeCiLow!.Value, -0.045136675850396046, 1e-9));
        Assert.True(Fixtures.Close(c.AbsoluteLift!.Value, 0.23437666666666668, 1e-12));
        Assert.True(Fixtures.Close(c.StdError!.Value, 0.12983081254184736, 1e-12));
        Assert.True(Fixtures.Close(c.CiLow!.Value, 0.020791480063255735, 1e-9));
        Assert.True(Fixtures.Close(c.PValue!.Value, 2 * 0.03554272489873023, 1e-9));

        // The guardrail's one-sided machinery on the relative scale reproduces the relative one-sided test.
        var decrease = Guardrails.Evaluate(GbMetric(3000), "control", "treatment", HarmDirection.Decrease, 0.5, 0.05);
        var increase = Guardrails.Evaluate(GbMetric(3000), "control", "treatment", HarmDirection.Increase, 0.5, 0.05);
        Assert.True(Fixtures.Close(decrease.HarmBound!.Value, -0.045136675850396046, 1e-9));
        Assert.True(Fixtures.Close(increase.HarmPValue!.Value, 0.06558262868467746, 1e-9));
    }

    [Fact]
    public void SequentialTestRuns()
    {
        // TestSequentialTTest.test_sequential_test_runs: tuning 1000, expected 0.50336, ci (-0.55844, 1.56516),
        // stddev 0.33341, p-value 1 (on the relative scale).
        var c = Run(GbMetric(3000), InferenceMethod.Sequential, tuning: 1000);

        Assert.Equal(0.50336, R5(c.RelativeLift));
        Assert.Equal(0.33341, R5(c.RelativeStdError));
        Assert.Equal(-0.55844, R5(c.RelativeCiLow));
        Assert.Equal(1.56516, R5(c.RelativeCiHigh));
        Assert.Equal(1.0, SequentialTesting.PValue(c.RelativeLift!.Value, c.RelativeStdError!.Value, 6461, 0.05, 1000));
    }

    [Fact]
    public void SequentialTestRunsRegressionAdjusted()
    {
        // TestSequentialTTest.test_sequential_test_runs_ra: post as above, pre (16.87, 527.9767, 3000) and
        // (22.7, 1348.29, 3461), post_pre_sum_of_products=1, default tuning: expected 0.50338,
        // ci (-0.50969, 1.51646), stddev 0.33341. Exercises the pooled theta and gbstats' relative CUPED variance.
        var metric = new MetricInput("gb_ra", MetricKind.Mean, new Dictionary<string, VariantStatistics>
        {
            ["control"] = new(3000, 1396.87, 52377.9767, CovariateSum: 16.87, CovariateSumSquares: 527.9767, CrossSum: 1),
            ["treatment"] = new(3461, 2422.7, 134698.29, CovariateSum: 22.7, CovariateSumSquares: 1348.29, CrossSum: 1),
        }, Cuped: true);

        var c = Run(metric, InferenceMethod.Sequential);

        Assert.NotEqual(0.0, c.CupedTheta);
        Assert.Equal(0.50338, R5(c.RelativeLift));
        Assert.Equal(0.33341, R5(c.RelativeStdError));
        Assert.Equal(-0.50969, R5(c.RelativeCiLow));
        Assert.Equal(1.51646, R5(c.RelativeCiHigh));
    }

    [Fact]
    public void BayesianFlatPrior()
    {
        // TestNorm.test_bayesian_gaussian_ab_test: (100, 1002.25, 10) vs (105, 1111.5, 10)
        var c = Run(BayesMetric(), InferenceMethod.Bayesian);

        Assert.Equal(0.05, R5(c.PosteriorMean));
        Assert.Equal(0.03572, R5(c.PosteriorStdDev));
        Assert.Equal(0.91923, R5(c.ChanceToWin));
        Assert.Equal(-0.02, R5(c.RelativeCiLow));
        Assert.Equal(0.12, R5(c.RelativeCiHigh));
        Assert.Equal(0.05131, R5(c.RiskControl));
        Assert.Equal(0.00131, R5(c.RiskVariant));
        Assert.False(c.Significant);
    }

    [Fact]
    public void BayesianInformativePrior()
    {
        // TestNorm.test_bayesian_gaussian_ab_test_informative: GaussianPrior(mean=0.1, variance=0.1, proper=True)
        var c = Run(BayesMetric(), InferenceMethod.Bayesian, prior: new BayesianPrior(0.1, 0.1));

        Assert.Equal(0.05063, R5(c.PosteriorMean));
        Assert.Equal(0.03549, R5(c.PosteriorStdDev));
        Assert.Equal(0.92315, R5(c.ChanceToWin));
        Assert.Equal(-0.01893, R5(c.RelativeCiLow));
        Assert.Equal(0.12019, R5(c.RelativeCiHigh));
        Assert.Equal(0.05186, R5(c.RiskControl));
        Assert.Equal(0.00123, R5(c.RiskVariant));
        Assert.Equal(0.05, c.RelativeLift!.Value, 12);
    }

    private static MetricInput BayesMetric() => TestData.Metric("gb_bayes", MetricKind.Mean,
        ("control", new VariantStatistics(10, 100, 1002.25)), ("treatment", new VariantStatistics(10, 105, 1111.5)));
}
