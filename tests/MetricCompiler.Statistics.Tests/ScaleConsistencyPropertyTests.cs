using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace MetricCompiler.Statistics.Tests;

/// <summary>
/// The figures a comparison leads with agree: it is significant exactly when its interval on the request's scale
/// excludes 0 (uncorrected; with a correction, significant implies the interval excludes 0, and the raw p-value is
/// below alpha exactly when it does). Checked over every oracle case and over thousands of random inputs of every
/// kind, method and scale (FsCheck). A band of 1e-9 around p = alpha (Bayesian: chance to win = alpha/2 or
/// 1 - alpha/2) is skipped: there the p-value and the interval come from two floating-point computations that may
/// round to opposite sides of the boundary.
/// </summary>
public sealed class ScaleConsistencyPropertyTests
{
    [Fact]
    public void EveryOracleCaseLeadsWithOneTest()
    {
        var checkedComparisons = 0;
        foreach (var file in Fixtures.Files())
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            if (doc.RootElement.GetProperty("kind").GetString() != "analysis")
            {
                continue;
            }

            foreach (var fixture in doc.RootElement.GetProperty("cases").EnumerateArray())
            {
                var request = StatsJson.ParseRequest(fixture.GetProperty("request").GetRawText());
                var result = ExperimentAnalyzer.Analyze(request);
                foreach (var c in result.Comparisons)
                {
                    CheckConsistent(c, request);
                    checkedComparisons++;
                }
            }
        }

        Assert.True(checkedComparisons > 250, $"only {checkedComparisons} comparisons in the oracle fixtures");
    }

    [Property(MaxTest = 3000, Arbitrary = [typeof(ScenarioArbitrary)])]
    public void RandomInputsLeadWithOneTest(Scenario scenario)
    {
        var request = scenario.Request();
        var result = ExperimentAnalyzer.Analyze(request);
        Assert.Equal(scenario.Variants - 1, result.Comparisons.Count);
        foreach (var c in result.Comparisons)
        {
            CheckConsistent(c, request);
        }
    }

    [Fact]
    public void TheRandomInputsAreNotVacuous()
    {
        // Every kind yields significant and non-significant comparisons, on both scales, so the property above
        // tests both directions of the agreement rather than a sea of nulls.
        var seen = new HashSet<(string Kind, Scale Scale, bool Significant)>();
        foreach (var scenario in ScenarioArbitrary.Scenarios().Generator.Sample(1500))
        {
            foreach (var c in ExperimentAnalyzer.Analyze(scenario.Request()).Comparisons.Where(c => c.PValue is not null || c.ChanceToWin is not null))
            {
                seen.Add((scenario.Kind, scenario.Scale, c.Significant));
            }
        }

        foreach (var kind in new[] { "mean", "proportion", "ratio", "cuped", "quantile", "covariates" })
        {
            foreach (var scale in new[] { Scale.Relative, Scale.Absolute })
            {
                Assert.Contains((kind, scale, true), seen);
                Assert.Contains((kind, scale, false), seen);
            }
        }
    }

    [Fact]
    public void TheCheckFailsWhenSignificanceComesFromTheOtherScale()
    {
        // GrowthBook's published case: the absolute test is significant, the relative CI holds 0. Leading with the
        // absolute p while showing the relative interval is exactly the inconsistency the check must catch.
        var metric = TestData.Metric("gb", MetricKind.Mean,
            ("control", new VariantStatistics(3407, 1396.87, 52377.9767)), ("treatment", new VariantStatistics(3461, 2422.7, 134698.29)));
        var request = new AnalysisRequest("control", [metric]);
        var c = Assert.Single(ExperimentAnalyzer.Analyze(request).Comparisons);
        var mixed = c with { PValue = c.Absolute!.PValue, AdjustedPValue = c.Absolute.PValue, Significant = true };

        CheckConsistent(c, request);
        Assert.ThrowsAny<Exception>(() => CheckConsistent(mixed, request));
    }

    internal static void CheckConsistent(Comparison c, AnalysisRequest request)
    {
        var alpha = request.Alpha;
        var where = $"{c.Metric}/{c.Variant} ({request.Method}, {request.Scale}, {request.Correction})";
        Assert.Equal(request.Scale, c.Scale);
        var lead = request.Scale == Scale.Absolute ? c.Absolute! : c.Relative!;
        Assert.Equal(lead.CiLow, request.Scale == Scale.Absolute ? c.CiLow : c.RelativeCiLow);
        Assert.Equal(lead.CiHigh, request.Scale == Scale.Absolute ? c.CiHigh : c.RelativeCiHigh);
        var excludes = lead.CiLow is { } lo && lead.CiHigh is { } hi ? lo > 0 || hi < 0 : (bool?)null;

        if (request.Method == InferenceMethod.Bayesian)
        {
            Assert.Null(c.PValue);
            if (c.ChanceToWin is not { } win)
            {
                Assert.False(c.Significant, where);
                return;
            }

            if (Math.Abs(win - (alpha / 2)) < 1e-9 || Math.Abs(win - (1 - (alpha / 2))) < 1e-9)
            {
                return;
            }

            Assert.True(excludes == c.Significant, $"{where}: significant {c.Significant}, credible interval [{lead.CiLow}, {lead.CiHigh}]");
            return;
        }

        Assert.Equal(lead.PValue, c.PValue);
        foreach (var test in new[] { c.Absolute!, c.Relative! })
        {
            // Each scale's own test agrees with its own interval.
            if (test.PValue is { } pv && Math.Abs(pv - alpha) > 1e-9)
            {
                Assert.True((pv < alpha) == (test.CiLow > 0 || test.CiHigh < 0), $"{where}: p {pv} vs [{test.CiLow}, {test.CiHigh}]");
            }
        }

        if (c.PValue is not { } p)
        {
            Assert.False(c.Significant, where);
            Assert.Null(c.AdjustedPValue);
            return;
        }

        if (c.Significant)
        {
            Assert.True(excludes == true, $"{where}: significant (adjusted p {c.AdjustedPValue}) while [{lead.CiLow}, {lead.CiHigh}] contains 0");
        }

        if (Math.Abs(p - alpha) <= 1e-9)
        {
            return;
        }

        Assert.True((p < alpha) == excludes, $"{where}: p {p} vs [{lead.CiLow}, {lead.CiHigh}]");
        if (request.Correction == Correction.None)
        {
            Assert.True(c.Significant == excludes, $"{where}: significant {c.Significant} but interval [{lead.CiLow}, {lead.CiHigh}]");
        }
    }
}

/// <summary>A random comparison: kind, sizes, effect, method, scale, alpha, correction and a seed for the values.</summary>
public sealed record Scenario(
    string Kind, int ControlN, int VariantN, int Variants, double Location, double Spread, double Effect,
    InferenceMethod Method, Scale Scale, double Alpha, Correction Correction, double Tuning, double Level, int Seed)
{
    public AnalysisRequest Request()
    {
        var random = new Random(Seed);
        var variants = new Dictionary<string, VariantStatistics>(StringComparer.Ordinal);
        for (var v = 0; v < Variants; v++)
        {
            var name = v == 0 ? "control" : "v" + v;
            var n = v == 0 ? ControlN : VariantN;
            variants[name] = Arm(random, n, v == 0 ? 0 : Effect * v);
        }

        var kind = Kind switch
        {
            "proportion" => MetricKind.Proportion,
            "ratio" => MetricKind.Ratio,
            "quantile" => MetricKind.Quantile,
            _ => MetricKind.Mean,
        };
        var metric = new MetricInput("m", kind, variants, Kind == "cuped", Kind == "covariates" ? ["pre", "attribute"] : null);
        return new AnalysisRequest("control", [metric], Alpha, Correction, Method, null, Tuning, null, Scale);
    }

    private VariantStatistics Arm(Random random, int n, double effect)
    {
        double sum = 0, squares = 0, xSum = 0, xSquares = 0, cross = 0, dSum = 0, dSquares = 0;
        double zSum = 0, zSquares = 0, xz = 0, zy = 0;
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            var x = Math.Exp(0.5 * Normal(random)) * Math.Max(1e-3, Math.Abs(Location) + 1);
            var z = Normal(random);
            double y = Kind switch
            {
                "proportion" => random.NextDouble() < Math.Clamp(0.05 + (0.4 * Spread / 4) + (effect / 3), 0.001, 0.999) ? 1 : 0,
                "quantile" => Math.Round(Math.Exp(Location / 10 + (Spread / 4 * Normal(random))) * (1 + effect), 2),
                "cuped" or "covariates" => Location + (0.8 * x) + (0.3 * z) + (Spread * Normal(random)) + (effect * (Math.Abs(Location) + 1)),
                _ => Math.Round(Location + (Spread * Normal(random)) + (effect * (Math.Abs(Location) + 1)), 3),
            };
            var d = Kind == "ratio" ? Math.Floor(random.NextDouble() * 4) : 0;
            if (Kind == "ratio")
            {
                y = Math.Round(d * (Math.Abs(Location) + 1) * (1 + effect) * Math.Exp(0.5 * Normal(random)), 2);
            }

            values[i] = y;
            sum += y;
            squares += y * y;
            xSum += x;
            xSquares += x * x;
            cross += Kind == "ratio" ? y * d : y * x;
            dSum += d;
            dSquares += d * d;
            zSum += z;
            zSquares += z * z;
            xz += x * z;
            zy += z * y;
        }

        return Kind switch
        {
            "ratio" => new VariantStatistics(n, CrossSum: cross, NumeratorSum: sum, NumeratorSumSquares: squares, DenominatorSum: dSum, DenominatorSumSquares: dSquares),
            "cuped" => new VariantStatistics(n, sum, squares, xSum, xSquares, cross),
            "covariates" => new VariantStatistics(n, sum, squares, Covariates: new CovariateStatistics(
                [xSum, zSum], [[xSquares, xz], [xz, zSquares]], [cross, zy])),
            "quantile" => QuantileArm(values, Level),
            _ => new VariantStatistics(n, sum, squares),
        };
    }

    /// <summary>What SQL would return: percentile_cont at p and at p -/+ z sqrt(p(1-p)/n).</summary>
    internal static VariantStatistics QuantileArm(double[] values, double level)
    {
        Array.Sort(values);
        var n = values.Length;
        var half = 1.959963984540054 * Math.Sqrt(level * (1 - level) / n);
        return new VariantStatistics(n, QuantileLevel: level, Quantile: PercentileCont(values, level),
            QuantileLower: PercentileCont(values, Math.Max(level - half, 1e-8)), QuantileUpper: PercentileCont(values, Math.Min(level + half, 1 - 1e-8)));
    }

    /// <summary>percentile_cont / numpy 'linear': the value at position p (n - 1) of the sorted values, interpolated.</summary>
    internal static double PercentileCont(double[] sorted, double p)
    {
        var position = p * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    internal static double Normal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>FsCheck generators for <see cref="Scenario"/>: sizes from 2 to 3000, effects from 0 to large, every kind.</summary>
public static class ScenarioArbitrary
{
    public static Arbitrary<Scenario> Scenarios()
    {
        var gen =
            from kind in Gen.Elements("mean", "proportion", "ratio", "cuped", "quantile", "covariates")
            from controlN in Gen.Choose(2, 3000)
            from variantN in Gen.Choose(2, 3000)
            from variants in Gen.Choose(2, 3)
            from location in Gen.Elements(-5.0, 0.0, 0.5, 3.0, 40.0)
            from spread in Gen.Elements(0.2, 1.0, 2.5, 4.0)
            from effectPercent in Gen.Choose(-40, 40)
            from method in Gen.Elements(InferenceMethod.Frequentist, InferenceMethod.Sequential, InferenceMethod.Bayesian)
            from scale in Gen.Elements(Scale.Relative, Scale.Absolute)
            from alpha in Gen.Elements(0.01, 0.05, 0.1, 0.2)
            from correction in Gen.Elements(Correction.None, Correction.None, Correction.Holm, Correction.BenjaminiHochberg)
            from tuning in Gen.Elements(100.0, 5000.0, 100_000.0)
            from level in Gen.Elements(0.5, 0.9, 0.99)
            from seed in Gen.Choose(0, 1_000_000)
            select new Scenario(kind, controlN, variantN, variants, location, spread, effectPercent / 100.0 * Math.Abs(effectPercent) / 40.0,
                method, scale, alpha, correction, tuning, level, seed);
        return gen.ToArbitrary();
    }
}
