using System.Text.Json;

namespace MetricCompiler.Statistics.Tests;

/// <summary>
/// Regression adjustment with several covariates (the statsmodels comparison is in the oracle fixture
/// regression.json): one covariate reproduces CUPED exactly, collinear and constant covariates fall back to the
/// pseudo-inverse with a warning, the estimate does not depend on covariate units, and the JSON contract.
/// </summary>
public sealed class RegressionAdjustmentTests
{
    /// <summary>Units with y = 2 + 0.8 pre + 0.3 z + noise (+ effect); covariate columns chosen per test.</summary>
    private static VariantStatistics Arm(Random random, int n, double effect, Func<double, double, double[]> columns)
    {
        double sum = 0, squares = 0;
        double[]? xSum = null, xy = null;
        double[,]? xx = null;
        for (var i = 0; i < n; i++)
        {
            var pre = Math.Exp(1 + (0.6 * Scenario.Normal(random)));
            var z = Scenario.Normal(random);
            var y = 2 + (0.8 * pre) + (0.3 * z) + (1.5 * Scenario.Normal(random)) + effect;
            var x = columns(pre, z);
            var k = x.Length;
            xSum ??= new double[k];
            xy ??= new double[k];
            xx ??= new double[k, k];
            sum += y;
            squares += y * y;
            for (var j = 0; j < k; j++)
            {
                xSum[j] += x[j];
                xy[j] += x[j] * y;
                for (var l = 0; l < k; l++)
                {
                    xx[j, l] += x[j] * x[l];
                }
            }
        }

        var rows = Enumerable.Range(0, xSum!.Length).Select(j => (IReadOnlyList<double>)Enumerable.Range(0, xSum.Length).Select(l => xx![j, l]).ToArray()).ToArray();
        return new VariantStatistics(n, sum, squares, Covariates: new CovariateStatistics(xSum, rows, xy!));
    }

    private static (Comparison C, IReadOnlyList<string> Warnings) Run(Func<double, double, double[]> columns, string[]? names = null, int seed = 7)
    {
        var random = new Random(seed);
        var metric = new MetricInput("revenue", MetricKind.Mean, new Dictionary<string, VariantStatistics>
        {
            ["control"] = Arm(random, 3000, 0, columns),
            ["treatment"] = Arm(random, 3100, 0.12, columns),
        }, CovariateNames: names);
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [metric]));
        return (Assert.Single(result.Comparisons), result.Warnings);
    }

    [Fact]
    public void OneCovariateEqualsSingleCovariateCuped()
    {
        // Every CUPED metric of the oracle's cuped fixture, re-sent as a one-covariate vector.
        using var doc = Fixtures.Load("cuped.json");
        var request = StatsJson.ParseRequest(Fixtures.Case(doc, "cuped").GetProperty("request").GetRawText());
        var vector = request with
        {
            Metrics = request.Metrics.Select(m => m with
            {
                Cuped = false,
                Variants = m.Variants.ToDictionary(v => v.Key, v => v.Value with
                {
                    Covariates = new CovariateStatistics([v.Value.CovariateSum!.Value], [[v.Value.CovariateSumSquares!.Value]], [v.Value.CrossSum!.Value]),
                }),
            }).ToList(),
        };
        var cuped = ExperimentAnalyzer.Analyze(request);
        var regression = ExperimentAnalyzer.Analyze(vector);

        Assert.Equal(cuped.Comparisons.Count, regression.Comparisons.Count);
        foreach (var (a, b) in cuped.Comparisons.Zip(regression.Comparisons))
        {
            double?[] left = [a.AbsoluteLift, a.StdError, a.DegreesOfFreedom, a.PValue, a.RelativeLift, a.RelativeStdError, a.CiLow, a.RelativeCiHigh, a.CupedTheta, a.VarianceReduction,
                a.Regression!.ControlAdjustedMean, a.Regression.VariantAdjustedMeanVariance];
            double?[] right = [b.AbsoluteLift, b.StdError, b.DegreesOfFreedom, b.PValue, b.RelativeLift, b.RelativeStdError, b.CiLow, b.RelativeCiHigh, b.CupedTheta, b.VarianceReduction,
                b.Regression!.ControlAdjustedMean, b.Regression.VariantAdjustedMeanVariance];
            for (var i = 0; i < left.Length; i++)
            {
                Assert.True(Fixtures.Close(right[i]!.Value, left[i]!.Value, 1e-9, 1e-14), $"{a.Metric}/{a.Variant} figure {i}: {left[i]:R} vs {right[i]:R}");
            }

            Assert.Equal(a.Significant, b.Significant);
            Assert.Equal(a.Regression.Rank, b.Regression.Rank);
        }

        // The constant-covariate metric warns on both paths.
        Assert.Contains(cuped.Warnings, w => w.Contains("'constant_covariate'", StringComparison.Ordinal) && w.Contains("zero variance", StringComparison.Ordinal));
        Assert.Contains(regression.Warnings, w => w.Contains("'constant_covariate'", StringComparison.Ordinal) && w.Contains("zero variance", StringComparison.Ordinal));
    }

    [Fact]
    public void CollinearCovariatesUseThePseudoInverseWithAWarning()
    {
        var (single, singleWarnings) = Run((pre, _) => [pre]);
        var (doubled, warnings) = Run((pre, _) => [pre, 3 * pre], ["pre", "pre_x3"]);

        Assert.Empty(singleWarnings);
        Assert.Contains(warnings, w => w.Contains("covariates 'pre', 'pre_x3' are collinear (rank 1 of 2)", StringComparison.Ordinal) && w.Contains("pseudo-inverse", StringComparison.Ordinal));
        Assert.Equal(1, doubled.Regression!.Rank);
        Assert.Null(doubled.CupedTheta); // a vector: see regression.theta
        Assert.True(Fixtures.Close(doubled.AbsoluteLift!.Value, single.AbsoluteLift!.Value, 1e-9));
        Assert.True(Fixtures.Close(doubled.StdError!.Value, single.StdError!.Value, 1e-9));
        Assert.True(Fixtures.Close(doubled.RelativeStdError!.Value, single.RelativeStdError!.Value, 1e-9));

        // Minimum-norm solution on the correlation scale: the same adjustment, split between the two columns.
        var theta = doubled.Regression.Theta;
        Assert.True(Fixtures.Close(theta[0] + (3 * theta[1]), single.CupedTheta!.Value, 1e-9));
        Assert.True(Fixtures.Close(theta[1] * 3, theta[0], 1e-9));
    }

    [Fact]
    public void ConstantCovariatesGetZeroCoefficientAndChangeNothing()
    {
        var (plain, _) = Run((pre, z) => [pre, z]);
        var (withConstant, warnings) = Run((pre, z) => [pre, 1.0, z], ["pre", "always_one", "z"]);

        Assert.Contains(warnings, w => w.Contains("covariate(s) 'always_one' have zero variance; their coefficient is 0", StringComparison.Ordinal));
        Assert.Equal(0.0, withConstant.Regression!.Theta[1]);
        Assert.Equal(2, withConstant.Regression.Rank);
        Assert.True(Fixtures.Close(withConstant.AbsoluteLift!.Value, plain.AbsoluteLift!.Value, 1e-9));
        Assert.True(Fixtures.Close(withConstant.StdError!.Value, plain.StdError!.Value, 1e-9));
        Assert.True(Fixtures.Close(withConstant.Regression.Theta[2], plain.Regression!.Theta[1], 1e-9));
    }

    [Fact]
    public void TheEstimateDoesNotDependOnCovariateUnits()
    {
        var (cents, _) = Run((pre, z) => [pre, z]);
        var (dollars, _) = Run((pre, z) => [pre * 1000, z / 1000]);

        Assert.True(Fixtures.Close(dollars.AbsoluteLift!.Value, cents.AbsoluteLift!.Value, 1e-8));
        Assert.True(Fixtures.Close(dollars.StdError!.Value, cents.StdError!.Value, 1e-8));
        Assert.True(Fixtures.Close(dollars.Regression!.Theta[0] * 1000, cents.Regression!.Theta[0], 1e-8));
        Assert.True(Fixtures.Close(dollars.Regression.Theta[1] / 1000, cents.Regression.Theta[1], 1e-8));
    }

    [Fact]
    public void VarianceReductionReflectsHowPredictiveTheCovariatesAre()
    {
        var (predictive, _) = Run((pre, z) => [pre, z]);
        var (preOnly, _) = Run((pre, _) => [pre]);
        var (noise, _) = Run((pre, _) => [Math.Sin(1e6 * pre)]); // deterministic but unrelated to y

        // Var(y) = 0.64 Var(pre) + 0.09 + 2.25 with Var(pre) = (e^0.36 - 1) e^2.36 = 4.59 (lognormal 1, 0.6): pre
        // and z together explain 3.03 of 5.28, about 57%.
        Assert.InRange(predictive.VarianceReduction!.Value, 0.5, 0.65);
        Assert.True(predictive.VarianceReduction > preOnly.VarianceReduction);
        Assert.InRange(noise.VarianceReduction!.Value, -0.01, 0.01);
        var unadjustedSe = predictive.StdError!.Value / Math.Sqrt(1 - predictive.VarianceReduction.Value);
        Assert.True(unadjustedSe > predictive.StdError.Value);
    }

    [Fact]
    public void InconsistentCrossProductsAreRejectedWithAWarning()
    {
        var bad = new VariantStatistics(100, 50, 40, Covariates: new CovariateStatistics([100], [[10]], [60]));
        var good = new VariantStatistics(100, 50, 40, Covariates: new CovariateStatistics([100], [[150]], [60]));
        var result = ExperimentAnalyzer.Analyze(new AnalysisRequest("control", [TestData.Metric("m", MetricKind.Mean, ("control", bad), ("treatment", good))]));

        var c = Assert.Single(result.Comparisons);
        Assert.Null(c.AbsoluteLift);
        Assert.Contains(result.Warnings, w => w.Contains("cross-product is smaller than sum^2/n", StringComparison.Ordinal));
    }

    [Fact]
    public void JsonCarriesCovariatesAndTheRegressionSummary()
    {
        const string json = """
            {"control": "control", "metrics": [{"name": "revenue", "kind": "mean", "covariate_names": ["pre", "tenure"], "variants": {
              "control": {"n": 1000, "sum": 5000, "sum_squares": 30000,
                          "covariates": {"sums": [3000, 20000], "cross_products": [[10000, 61000], [61000, 436000]], "y_cross": [16500, 101000]}},
              "treatment": {"n": 1000, "sum": 5200, "sum_squares": 32000,
                            "covariates": {"sums": [3010, 20100], "cross_products": [[10100, 61500], [61500, 440000]], "y_cross": [17000, 105500]}}}}]}
            """;
        var request = StatsJson.ParseRequest(json);
        Assert.Equal(["pre", "tenure"], request.Metrics[0].CovariateNames!);
        Assert.Equal(61500, request.Metrics[0].Variants["treatment"].Covariates!.CrossProducts[1][0]);

        var result = ExperimentAnalyzer.Analyze(request);
        using var doc = JsonDocument.Parse(StatsJson.WriteResult(result));
        var regression = doc.RootElement.GetProperty("comparisons")[0].GetProperty("regression");
        Assert.Equal(["pre", "tenure"], regression.GetProperty("covariates").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, regression.GetProperty("theta").GetArrayLength());
        Assert.Equal(2, regression.GetProperty("rank").GetInt32());

        var back = StatsJson.ParseResult(StatsJson.WriteResult(result));
        Assert.Equal(result.Comparisons, back.Comparisons);
        Assert.Equal(result.Comparisons, ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(StatsJson.WriteRequest(request))).Comparisons);
    }

    private const string Covariates2 = """{"sums": [1, 2], "cross_products": [[1, 0], [0, 4]], "y_cross": [1, 2]}""";

    private static string Cov(string json) => json.Replace("COV2", Covariates2, StringComparison.Ordinal);

    public static TheoryData<string, string> BadCovariateRequests => new()
    {
        { Cov("""{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": COV2}, "t": {"n": 10, "sum": 1, "sum_squares": 2}}}]}"""), "metrics[0].variants.t.covariates: required: another variant has covariates" },
        { """{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": {"sums": [1, 2], "cross_products": [[1, 3], [0, 4]], "y_cross": [1, 2]}}, "t": {}}}]}""", "metrics[0].variants.c.covariates.cross_products[0][1]: the matrix must be symmetric" },
        { """{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": {"sums": [1, 2], "cross_products": [[1, 0]], "y_cross": [1, 2]}}, "t": {}}}]}""", "metrics[0].variants.c.covariates.cross_products: expected a 2 x 2 array of arrays" },
        { """{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": {"sums": [1, 2], "cross_products": [[1, 0], [0, 4]], "y_cross": [1]}}, "t": {}}}]}""", "metrics[0].variants.c.covariates.y_cross: expected 2 values" },
        { """{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": {"sums": [], "cross_products": [], "y_cross": []}}, "t": {}}}]}""", "metrics[0].variants.c.covariates.sums: expected at least one covariate" },
        { Cov("""{"control": "c", "metrics": [{"name": "m", "kind": "mean", "cuped": true, "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariate_sum": 1, "covariate_sum_squares": 1, "cross_sum": 1, "covariates": COV2}, "t": {}}}]}"""), "metrics[0].variants.c.covariates: use either cuped" },
        { Cov("""{"control": "c", "metrics": [{"name": "m", "kind": "ratio", "variants": {"c": {"n": 10, "numerator_sum": 1, "numerator_sum_squares": 1, "denominator_sum": 1, "denominator_sum_squares": 1, "cross_sum": 1, "covariates": COV2}, "t": {}}}]}"""), "metrics[0].variants.c.covariates: regression adjustment is not supported for ratio metrics" },
        { Cov("""{"control": "c", "metrics": [{"name": "m", "kind": "mean", "covariate_names": ["a"], "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": COV2}, "t": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": COV2}}}]}"""), "metrics[0].covariate_names: expected 2 names" },
        { """{"control": "c", "metrics": [{"name": "m", "kind": "mean", "covariate_names": ["a"], "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2}, "t": {"n": 10, "sum": 1, "sum_squares": 2}}}]}""", "metrics[0].covariate_names: given, but no variant has covariates" },
        { Cov("""{"control": "c", "metrics": [{"name": "m", "kind": "mean", "variants": {"c": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": COV2}, "t": {"n": 10, "sum": 1, "sum_squares": 2, "covariates": {"sums": [1], "cross_products": [[1]], "y_cross": [1]}}}}]}"""), "metrics[0].variants.t.covariates.sums: expected 2 covariates" },
    };

    [Theory]
    [MemberData(nameof(BadCovariateRequests))]
    public void BadCovariateInputNamesThePath(string json, string expected)
    {
        var error = Assert.Throws<StatsInputException>(() => StatsJson.ParseRequest(json));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }
}
