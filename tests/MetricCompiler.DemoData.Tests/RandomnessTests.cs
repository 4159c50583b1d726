using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Tests;

public sealed class RandomnessTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        var state = 1234567UL;
        var outputs = Enumerable.Range(0, 5).Select(_ => SplitMix64.Next(ref state)).ToArray();

        // Published test vector of the reference C implementation (seed 1234567).
        Assert.Equal([6457827717110365317UL, 3203168211198807973UL, 9817491932198370423UL, 4593380528125082431UL, 16408922859458223821UL], outputs);
    }

    [Fact]
    public void Xoshiro256StarStar_matches_an_independent_implementation()
    {
        var random = new Xoshiro256StarStar(42);
        var outputs = Enumerable.Range(0, 4).Select(_ => random.NextUInt64()).ToArray();

        // Computed with a separate Python port of xoshiro256** 1.0 seeded by SplitMix64(42).
        Assert.Equal([1546998764402558742UL, 6990951692964543102UL, 12544586762248559009UL, 17057574109182124193UL], outputs);
    }

    [Theory]
    [InlineData(-700.0)]
    [InlineData(-20.5)]
    [InlineData(-1.0)]
    [InlineData(-0.3)]
    [InlineData(0.0)]
    [InlineData(1e-9)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(6.7)]
    [InlineData(300.25)]
    public void Portable_exp_agrees_with_the_runtime_to_a_few_ulps(double x)
    {
        Assert.Equal(Math.Exp(x), PortableMath.Exp(x), Math.Exp(x) * 1e-14);
    }

    [Theory]
    [InlineData(1e-300)]
    [InlineData(5e-324)]
    [InlineData(1.1102230246251565E-16)]
    [InlineData(0.001)]
    [InlineData(0.7071)]
    [InlineData(1.0)]
    [InlineData(1.4142)]
    [InlineData(2.0)]
    [InlineData(45.0)]
    [InlineData(1e300)]
    public void Portable_log_agrees_with_the_runtime_to_a_few_ulps(double x)
    {
        var expected = Math.Log(x);
        Assert.Equal(expected, PortableMath.Log(x), Math.Max(Math.Abs(expected) * 1e-14, 1e-15));
    }

    [Fact]
    public void Portable_math_handles_its_edges()
    {
        Assert.Equal(1.0, PortableMath.Exp(0.0));
        Assert.Equal(0.0, PortableMath.Log(1.0));
        Assert.Equal(0.0, PortableMath.Exp(-800));
        Assert.Equal(double.PositiveInfinity, PortableMath.Exp(800));
        Assert.Equal(double.NegativeInfinity, PortableMath.Log(0.0));
        Assert.True(double.IsNaN(PortableMath.Log(-1.0)));
    }

    [Fact]
    public void Distributions_have_their_intended_moments()
    {
        var random = new Xoshiro256StarStar(99);
        const int draws = 200_000;
        var gamma = Enumerable.Range(0, draws).Select(_ => random.NextGammaWithMean(mean: 0.24, shape: 2.0)).ToArray();
        var smallShapeGamma = Enumerable.Range(0, draws).Select(_ => random.NextGammaWithMean(mean: 1.0, shape: 0.5)).ToArray();
        var logNormal = Enumerable.Range(0, draws).Select(_ => random.NextLogNormalWithMean(mean: 45.0, sigma: 0.35)).ToArray();
        var poisson = Enumerable.Range(0, draws).Select(_ => (double)random.NextPoisson(1.7)).ToArray();
        var normal = Enumerable.Range(0, draws).Select(_ => random.NextStandardNormal()).ToArray();

        Assert.Equal(0.24, Statistics.Mean(gamma), 0.003);
        Assert.Equal(0.24 * 0.24 / 2.0, Statistics.Variance(gamma), 0.001);
        Assert.Equal(1.0, Statistics.Mean(smallShapeGamma), 0.015);
        Assert.Equal(45.0, Statistics.Mean(logNormal), 0.2);
        Assert.Equal(1.7, Statistics.Mean(poisson), 0.01);
        Assert.Equal(1.7, Statistics.Variance(poisson), 0.03);
        Assert.Equal(0.0, Statistics.Mean(normal), 0.01);
        Assert.Equal(1.0, Statistics.Variance(normal), 0.01);
    }

    [Fact]
    public void Bounded_integers_stay_in_range_and_cover_it()
    {
        var random = new Xoshiro256StarStar(5);
        var seen = new int[7];
        for (var i = 0; i < 7_000; i++)
        {
            seen[random.NextInt(7)]++;
        }

        Assert.All(seen, count => Assert.InRange(count, 850, 1_150));
        Assert.All(Enumerable.Range(0, 1_000).Select(_ => random.NextLong(-3, 3)), value => Assert.InRange(value, -3, 3));
    }

    [Fact]
    public void Stable_hash_units_are_uniform_and_depend_on_every_input()
    {
        var key = StableHash.ScopeKey(1, "homepage_cta", "assignment");
        var units = Enumerable.Range(0, 100_000).Select(user => StableHash.Unit(key, (ulong)user)).ToArray();

        Assert.Equal(0.5, units.Average(), 0.005);
        Assert.Equal(0.5, units.Count(u => u < 0.5) / (double)units.Length, 0.005);
        Assert.NotEqual(StableHash.Unit(key, 1), StableHash.Unit(StableHash.ScopeKey(2, "homepage_cta", "assignment"), 1));
        Assert.NotEqual(StableHash.Unit(key, 1), StableHash.Unit(StableHash.ScopeKey(1, "onboarding_flow", "assignment"), 1));
        Assert.NotEqual(StableHash.Unit(key, 1), StableHash.Unit(StableHash.ScopeKey(1, "homepage_cta", "eligibility"), 1));
    }
}
