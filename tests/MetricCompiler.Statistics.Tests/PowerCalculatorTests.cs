namespace MetricCompiler.Statistics.Tests;

/// <summary>Power formula behaviour beyond the oracle fixture (tests/oracle/fixtures/power.json).</summary>
public sealed class PowerCalculatorTests
{
    [Fact]
    public void ClosedFormByHand()
    {
        // 2 (1.959963984540054 + 0.8416212335729143)^2 * 0.1 * 0.9 / (0.1 * 0.05)^2 = 56511.934...
        var n = PowerCalculator.SampleSizePerVariant(0.09, 0.1, 0.05);
        Assert.Equal(56_512, n);
        Assert.Equal(0.09, PowerCalculator.MetricVariance(MetricKind.Proportion, 0.1, null), 15);
        Assert.Equal(900.0, PowerCalculator.MetricVariance(MetricKind.Mean, 12.5, 30), 12);
    }

    [Fact]
    public void MdeIsTheInverseOfTheSampleSize()
    {
        const double variance = 900, mean = 12.5, mde = 0.03;
        var exact = PowerCalculator.ExactSampleSizePerVariant(variance, mean, mde);
        var n = PowerCalculator.SampleSizePerVariant(variance, mean, mde);

        // MDE scales with 1/sqrt(n): MDE(n) = mde * sqrt(exact / n).
        Assert.Equal(mde, PowerCalculator.MinimumDetectableEffect(variance, mean, n) * Math.Sqrt(n / exact), 12);
        Assert.True(PowerCalculator.MinimumDetectableEffect(variance, mean, n) <= mde);
        Assert.True(PowerCalculator.MinimumDetectableEffect(variance, mean, n - 1) > mde);
    }

    [Fact]
    public void DaysRoundUp()
    {
        Assert.Equal(12, PowerCalculator.Days(56_512, 2, 10_000));
        Assert.Equal(1, PowerCalculator.Days(5_000, 2, 10_000));
        Assert.Equal(2, PowerCalculator.Days(5_001, 2, 10_000));
        var plan = PowerCalculator.Plan(new PowerRequest(MetricKind.Proportion, 0.1, 0.05, Variants: 3, DailyUnits: 10_000));
        Assert.Equal(169_536, plan.TotalSampleSize);
        Assert.Equal(17, plan.Days);
        Assert.Null(PowerCalculator.Plan(new PowerRequest(MetricKind.Proportion, 0.1, 0.05)).Days);
    }

    [Fact]
    public void InvalidInputsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.MetricVariance(MetricKind.Mean, 10, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.MetricVariance(MetricKind.Proportion, 1.2, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.SampleSizePerVariant(1, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.SampleSizePerVariant(1, 0, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.SampleSizePerVariant(1, 1, 0.1, alpha: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.Days(100, 1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => PowerCalculator.Days(100, 2, 0));
    }
}
