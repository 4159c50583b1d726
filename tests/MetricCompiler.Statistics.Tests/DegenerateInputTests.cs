namespace MetricCompiler.Statistics.Tests;

/// <summary>Undefined figures are null with a warning naming the metric and variant; nothing throws.</summary>
public sealed class DegenerateInputTests
{
    private static (Comparison Comparison, IReadOnlyList<string> Warnings) AnalyzeOne(MetricInput metric, InferenceMethod method = InferenceMethod.Frequentist)
    {
        var result = ExperimentAnalyzer.Analyze(TestData.Request(metric) with { Method = method });
        return (Assert.Single(result.Comparisons), result.Warnings);
    }

    [Theory]
    [InlineData(InferenceMethod.Frequentist)]
    [InlineData(InferenceMethod.Sequential)]
    [InlineData(InferenceMethod.Bayesian)]
    public void ControlMeanZeroLeavesRelativeFiguresNull(InferenceMethod method)
    {
        var metric = TestData.Metric("signups", MetricKind.Proportion,
            ("control", new VariantStatistics(1000, 0)), ("treatment", new VariantStatistics(1000, 12)));

        var (c, warnings) = AnalyzeOne(metric, method);

        Assert.Equal(0.0, c.ControlMean);
        Assert.Equal(0.012, c.VariantMean!.Value, 15);
        Assert.NotNull(c.AbsoluteLift);
        Assert.NotNull(c.StdError);
        Assert.NotNull(c.CiLow);
        Assert.Null(c.RelativeLift);
        Assert.Null(c.RelativeStdError);
        Assert.Null(c.RelativeCiLow);
        Assert.Null(c.RelativeCiHigh);
        Assert.Null(c.ChanceToWin);
        Assert.False(method == InferenceMethod.Bayesian && c.Significant);
        Assert.All(warnings, w => Assert.Contains("metric 'signups', variant 'treatment'", w, StringComparison.Ordinal));
        Assert.Equal(2, warnings.Count);
        Assert.Contains("control mean is 0", warnings[0], StringComparison.Ordinal);

        // On the default (relative) scale the leading test is undefined; the absolute test is still reported.
        Assert.Contains("the relative lift is undefined, so the test on the request's scale (relative) is undefined", warnings[1], StringComparison.Ordinal);
        Assert.Null(c.PValue);
        Assert.Null(c.AdjustedPValue);
        Assert.False(c.Significant);
        Assert.Null(c.Relative!.PValue);
        Assert.Equal(c.CiLow, c.Absolute!.CiLow);
        Assert.Equal(method != InferenceMethod.Bayesian, c.Absolute.PValue is not null);

        // Leading with the absolute test keeps the absolute p-value (and its correction family membership).
        var absolute = ExperimentAnalyzer.Analyze(TestData.Request(metric) with { Method = method, Scale = Scale.Absolute });
        var ca = Assert.Single(absolute.Comparisons);
        Assert.Equal(c.Absolute.PValue, ca.PValue);
        Assert.Contains("control mean is 0", Assert.Single(absolute.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroVarianceInBothArmsGivesZeroStdErrorAndNoTest()
    {
        var metric = TestData.Metric("price", MetricKind.Mean,
            ("control", TestData.FromValues(5, 5, 5, 5)), ("treatment", TestData.FromValues(6, 6, 6)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Equal(1.0, c.AbsoluteLift);
        Assert.Equal(0.2, c.RelativeLift!.Value, 15);
        Assert.Equal(0.0, c.StdError);
        Assert.Null(c.DegreesOfFreedom);
        Assert.Null(c.PValue);
        Assert.Null(c.AdjustedPValue);
        Assert.Null(c.CiLow);
        Assert.Null(c.CiHigh);
        Assert.Null(c.RelativeCiLow);
        Assert.False(c.Significant);
        Assert.Contains(warnings, w => w.Contains("'price', variant 'treatment'", StringComparison.Ordinal) && w.Contains("zero variance", StringComparison.Ordinal));
    }

    [Fact]
    public void ZeroVarianceInOneArmIsStillTestable()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("control", TestData.FromValues(2, 2, 2, 2, 2)), ("treatment", TestData.FromValues(2, 3, 4, 5, 6)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Empty(warnings);
        Assert.Equal(4.0, c.DegreesOfFreedom!.Value, 12); // all variance from the variant arm: df = n_B - 1
        Assert.NotNull(c.PValue);
    }

    [Fact]
    public void SingleUnitArmHasNoVariance()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("control", TestData.Mean(50, 3, 1)), ("treatment", new VariantStatistics(1, 4.5, 20.25)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Equal(1.5, c.AbsoluteLift!.Value, 12);
        Assert.Equal(0.5, c.RelativeLift!.Value, 12);
        Assert.Null(c.StdError);
        Assert.Null(c.RelativeStdError);
        Assert.Null(c.PValue);
        Assert.Null(c.CiLow);
        Assert.Contains(warnings, w => w.Contains("variant 'treatment'", StringComparison.Ordinal) && w.Contains("fewer than 2 units in 'treatment'", StringComparison.Ordinal));
    }

    [Fact]
    public void EmptyArmHasOnlyTheOtherMean()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("control", TestData.Mean(50, 3, 1)), ("treatment", new VariantStatistics(0)));

        var (c, warnings) = AnalyzeOne(metric, InferenceMethod.Bayesian);

        Assert.Equal(3.0, c.ControlMean!.Value, 12);
        Assert.Null(c.VariantMean);
        Assert.Null(c.AbsoluteLift);
        Assert.Null(c.ChanceToWin);
        Assert.Equal(0, c.VariantN);
        Assert.Contains(warnings, w => w.Contains("no units in 'treatment'", StringComparison.Ordinal));
    }

    [Fact]
    public void RatioWithZeroDenominatorIsNull()
    {
        var zero = new VariantStatistics(30, NumeratorSum: 0, NumeratorSumSquares: 0, DenominatorSum: 0, DenominatorSumSquares: 0, CrossSum: 0);
        var fine = new VariantStatistics(30, NumeratorSum: 60, NumeratorSumSquares: 150, DenominatorSum: 30, DenominatorSumSquares: 30, CrossSum: 60);
        var metric = TestData.Metric("aov", MetricKind.Ratio, ("control", zero), ("treatment", fine));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Null(c.ControlMean);
        Assert.Equal(2.0, c.VariantMean);
        Assert.Null(c.AbsoluteLift);
        Assert.Null(c.PValue);
        Assert.Contains(warnings, w => w.Contains("'aov'", StringComparison.Ordinal) && w.Contains("denominator sum is 0 in 'control'", StringComparison.Ordinal));
    }

    [Fact]
    public void RatioMissingSumsWarnsInsteadOfThrowing()
    {
        var metric = TestData.Metric("aov", MetricKind.Ratio,
            ("control", new VariantStatistics(30, NumeratorSum: 60)), ("treatment", new VariantStatistics(30, NumeratorSum: 60)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Null(c.ControlMean);
        Assert.Contains(warnings, w => w.Contains("needs numerator_sum", StringComparison.Ordinal));
    }

    [Fact]
    public void ProportionSumAboveNIsRejectedWithWarning()
    {
        var metric = TestData.Metric("cr", MetricKind.Proportion,
            ("control", new VariantStatistics(100, 120)), ("treatment", new VariantStatistics(100, 20)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Null(c.ControlMean);
        Assert.Null(c.PValue);
        Assert.Contains(warnings, w => w.Contains("between 0 and n", StringComparison.Ordinal) && w.Contains("'control'", StringComparison.Ordinal));
    }

    [Fact]
    public void InconsistentSumOfSquaresIsFlagged()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("control", new VariantStatistics(10, 100, 500)), ("treatment", TestData.Mean(10, 10, 2)));

        var (c, warnings) = AnalyzeOne(metric);

        Assert.Null(c.StdError);
        Assert.Null(c.PValue);
        Assert.Contains(warnings, w => w.Contains("sum_squares is smaller than sum^2/n in 'control'", StringComparison.Ordinal));
    }

    [Fact]
    public void NonFiniteInputBecomesNullNotNaN()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("control", new VariantStatistics(10, double.NaN, 5)), ("treatment", TestData.Mean(10, 10, 2)));

        var result = ExperimentAnalyzer.Analyze(TestData.Request(metric));
        var json = StatsJson.WriteResult(result);

        Assert.DoesNotContain("NaN", json, StringComparison.Ordinal);
        Assert.Null(result.Comparisons[0].ControlMean);
        Assert.NotEmpty(result.Warnings);
    }

    [Fact]
    public void MissingControlSkipsMetricWithWarning()
    {
        var metric = TestData.Metric("m", MetricKind.Mean, ("baseline", TestData.Mean(10, 1, 1)), ("treatment", TestData.Mean(10, 1, 1)));

        var result = ExperimentAnalyzer.Analyze(TestData.Request(metric));

        Assert.Empty(result.Comparisons);
        Assert.Contains(result.Warnings, w => w.Contains("metric 'm': control variant 'control' is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void CupedWithoutCovariatesFallsBackToUnadjusted()
    {
        var plain = TestData.Metric("rev", MetricKind.Mean, ("control", TestData.Mean(500, 10, 3)), ("treatment", TestData.Mean(500, 10.4, 3)));
        var cuped = plain with { Cuped = true };

        var unadjusted = ExperimentAnalyzer.Analyze(TestData.Request(plain)).Comparisons.Single();
        var result = ExperimentAnalyzer.Analyze(TestData.Request(cuped));

        Assert.Equal(unadjusted, result.Comparisons.Single());
        Assert.Contains(result.Warnings, w => w.Contains("CUPED requested but covariate_sum", StringComparison.Ordinal));
    }

    [Fact]
    public void CorrectionFamilyExcludesUndefinedComparisons()
    {
        var good1 = TestData.Metric("a", MetricKind.Mean, ("control", TestData.Mean(400, 10, 3)), ("treatment", TestData.Mean(400, 10.5, 3)));
        var good2 = TestData.Metric("b", MetricKind.Mean, ("control", TestData.Mean(400, 10, 3)), ("treatment", TestData.Mean(400, 10.2, 3)));
        var bad = TestData.Metric("c", MetricKind.Mean, ("control", TestData.FromValues(1, 1)), ("treatment", TestData.FromValues(1, 1)));

        var result = ExperimentAnalyzer.Analyze(TestData.Request(good1, bad, good2) with { Correction = Correction.Holm });
        var p = result.Comparisons.Select(c => c.PValue).ToList();
        var expected = MultipleTesting.Adjust([p[0]!.Value, p[2]!.Value], Correction.Holm);

        Assert.Null(result.Comparisons[1].AdjustedPValue);
        Assert.Equal(expected[0], result.Comparisons[0].AdjustedPValue);
        Assert.Equal(expected[1], result.Comparisons[2].AdjustedPValue);
        Assert.Equal(Math.Min(1, 2 * Math.Min(p[0]!.Value, p[2]!.Value)), expected.Min(), 15);
    }

    [Fact]
    public void BayesianIgnoresCorrectionWithWarning()
    {
        var metric = TestData.Metric("a", MetricKind.Mean, ("control", TestData.Mean(400, 10, 3)), ("treatment", TestData.Mean(400, 10.5, 3)));

        var result = ExperimentAnalyzer.Analyze(TestData.Request(metric) with { Method = InferenceMethod.Bayesian, Correction = Correction.BenjaminiHochberg });

        Assert.Null(result.Comparisons[0].PValue);
        Assert.Null(result.Comparisons[0].AdjustedPValue);
        Assert.NotNull(result.Comparisons[0].ChanceToWin);
        Assert.Contains(result.Warnings, w => w.Contains("correction 'bh' does not apply to the Bayesian method", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void InvalidAlphaIsAnArgumentError(double alpha)
    {
        var metric = TestData.Metric("a", MetricKind.Mean, ("control", TestData.Mean(10, 1, 1)), ("treatment", TestData.Mean(10, 1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExperimentAnalyzer.Analyze(TestData.Request(metric) with { Alpha = alpha }));
    }

    [Fact]
    public void SrmWithNoUnitsIsNotAMismatch()
    {
        var srm = new SrmInput(new Dictionary<string, long> { ["control"] = 0, ["treatment"] = 0 }, new Dictionary<string, double> { ["control"] = 1, ["treatment"] = 1 });

        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [], Srm: srm));

        Assert.Equal(new SrmResult(0, 1, false, 1), result.Srm);
        Assert.Contains(result.Warnings, w => w.StartsWith("srm:", StringComparison.Ordinal));
    }

    [Fact]
    public void SrmWithMissingWeightIsSkippedWithWarning()
    {
        var srm = new SrmInput(new Dictionary<string, long> { ["control"] = 10, ["treatment"] = 12 }, new Dictionary<string, double> { ["control"] = 1 });

        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [], Srm: srm));

        Assert.Null(result.Srm);
        Assert.Contains(result.Warnings, w => w.Contains("'treatment' needs a positive weight", StringComparison.Ordinal));
    }

    [Fact]
    public void VariantOrderFollowsTheRequest()
    {
        var metric = TestData.Metric("m", MetricKind.Mean,
            ("zeta", TestData.Mean(10, 1, 1)), ("control", TestData.Mean(10, 1, 1)), ("alpha", TestData.Mean(10, 1, 1)));

        var result = ExperimentAnalyzer.Analyze(TestData.Request(metric));

        Assert.Equal(["zeta", "alpha"], result.Comparisons.Select(c => c.Variant));
    }
}
