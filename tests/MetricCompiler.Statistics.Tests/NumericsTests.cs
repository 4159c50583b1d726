namespace MetricCompiler.Statistics.Tests;

/// <summary>Distribution functions, corrections and SRM against reference values from scipy 1.10.1 / statsmodels 0.13.5.</summary>
public sealed class NumericsTests
{
    // Reference quantiles from mpmath at 40 digits (scipy 1.10.1 gives -53.835579514581795 for the
    // deep tail, 5.6e-10 off). MathNet's incomplete beta is accurate to about 1e-10 relative for very
    // large df; the engine's requirement is 1e-6.
    [Theory]
    [InlineData(0.975, 3.0, 3.182446305284263, 1e-12)]
    [InlineData(0.975, 1e6, 1.959966356814107, 1e-9)]
    [InlineData(1e-10, 7.0, -53.83557948467373, 1e-12)]
    public void StudentTQuantileMatchesHighPrecisionReference(double p, double df, double expected, double tolerance)
    {
        var q = Distributions.StudentTQuantile(p, df);
        Assert.True(Fixtures.Close(q, expected, tolerance), $"{q:R}");
        if (p > 1e-3 && p < 1 - 1e-3)
        {
            // symmetry (only where 1 - p is exact enough to mean the mirrored probability)
            Assert.True(Fixtures.Close(Distributions.StudentTQuantile(1 - p, df), -expected, tolerance));
        }
    }

    [Fact]
    public void StudentTTailsKeepRelativePrecision()
    {
        // scipy.stats.t.sf(40, 5) and 2 * t.sf(12, 400000)
        Assert.True(Fixtures.Close(Distributions.StudentTSf(40, 5), 9.205981085886476e-08, 1e-9));
        Assert.True(Fixtures.Close(Distributions.StudentTTwoSidedP(12, 400_000), 3.5999448062864515e-33, 1e-7));
        Assert.True(Fixtures.Close(Distributions.StudentTTwoSidedP(-12, 400_000), 3.5999448062864515e-33, 1e-7));
        Assert.Equal(1.0, Distributions.StudentTTwoSidedP(0, 10));
    }

    [Theory]
    [InlineData(-5.0, 1e7, 2.8665640375042664e-07, 1e-7)]
    [InlineData(-1.96, 1e8, 0.024997896534664048, 1e-9)]
    [InlineData(-5.0, 1e10, 2.8665157671103174e-07, 1e-9)]
    [InlineData(-12.0, 1e10, 1.776483045754859e-33, 1e-9)]
    [InlineData(-1.96, 1e12, 0.02499789514835908, 1e-12)]
    public void StudentTCdfStaysAccurateForHugeDegreesOfFreedom(double t, double df, double expected, double tolerance)
    {
        // scipy.stats.t.cdf(t, df)
        Assert.True(Fixtures.Close(Distributions.StudentTCdf(t, df), expected, tolerance), $"{Distributions.StudentTCdf(t, df):R}");
        Assert.True(Fixtures.Close(Distributions.StudentTQuantile(expected, df), t, 1e-9), $"{Distributions.StudentTQuantile(expected, df):R}");
    }

    [Fact]
    public void ChiSquareUpperTailMatchesScipy()
    {
        Assert.True(Fixtures.Close(Distributions.ChiSquareSf(60, 1), 9.485737571073857e-15, 1e-9));
        Assert.Equal(1.0, Distributions.ChiSquareSf(0, 3));
    }

    [Fact]
    public void HolmAndBenjaminiHochbergMatchStatsmodels()
    {
        double[] p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04];

        var holm = MultipleTesting.Adjust(p, Correction.Holm);
        var bh = MultipleTesting.Adjust(p, Correction.BenjaminiHochberg);
        var none = MultipleTesting.Adjust(p, Correction.None);

        // statsmodels.stats.multitest.multipletests(p, method='holm' | 'fdr_bh')[1]
        Assert.Equal([0.05, 0.12, 0.12, 0.03, 0.2, 0.12], holm.Select(x => Math.Round(x, 12)));
        Assert.Equal([0.03, 0.048, 0.048, 0.03, 0.2, 0.048], bh.Select(x => Math.Round(x, 12)));
        Assert.Equal(p, none);
        Assert.Empty(MultipleTesting.Adjust([], Correction.Holm));
    }

    [Fact]
    public void AdjustedPValuesAreCappedAtOne()
    {
        Assert.All(MultipleTesting.Adjust([0.6, 0.7, 0.9], Correction.Holm), x => Assert.Equal(1.0, x));
        Assert.All(MultipleTesting.Adjust([0.9, 0.95, 0.99], Correction.BenjaminiHochberg), x => Assert.Equal(0.99, x, 15));
    }

    [Fact]
    public void SrmMatchesScipyChisquare()
    {
        var warnings = new List<string>();
        var srm = new SrmInput(new Dictionary<string, long> { ["control"] = 10_500, ["treatment"] = 9_500 }, new Dictionary<string, double> { ["control"] = 1, ["treatment"] = 1 });

        var r = SrmTest.Evaluate(srm, warnings)!;

        // scipy.stats.chisquare([10500, 9500]) -> (50.0, 1.537459794428033e-12)
        Assert.Equal(50.0, r.ChiSquare, 12);
        Assert.True(Fixtures.Close(r.PValue, 1.537459794428033e-12, 1e-9));
        Assert.True(r.Mismatch);
        Assert.Equal(1, r.DegreesOfFreedom);
        Assert.Empty(warnings);
    }
}
