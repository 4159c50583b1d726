namespace MetricCompiler.Statistics.Tests;

/// <summary>Guardrail statuses on constructed cases (n, mean, sd chosen so the outcome is clear-cut).</summary>
public sealed class GuardrailTests
{
    private static MetricInput Latency(long n, double controlMean, double variantMean, double sd) =>
        TestData.Metric("latency", MetricKind.Mean, ("control", TestData.Mean(n, controlMean, sd)), ("treatment", TestData.Mean(n, variantMean, sd)));

    private static GuardrailResult Eval(MetricInput m, HarmDirection harm, double margin, double alpha = 0.05) =>
        Guardrails.Evaluate(m, "control", "treatment", harm, margin, alpha);

    [Fact]
    public void NoChangeWithPrecisionPasses()
    {
        var r = Eval(Latency(50_000, 100, 100, 10), HarmDirection.Increase, 0.01);

        Assert.Equal(GuardrailStatus.Passed, r.Status);
        Assert.Equal(0.0, r.RelativeLift!.Value, 12);
        Assert.True(r.HarmBound < 0.01);
        Assert.True(r.NonInferiorityPValue < 0.05);
        Assert.Equal(0.5, r.HarmPValue!.Value, 9);
    }

    [Fact]
    public void LargeSignificantIncreaseIsBreached()
    {
        var r = Eval(Latency(50_000, 100, 105, 10), HarmDirection.Increase, 0.02);

        Assert.Equal(GuardrailStatus.Breached, r.Status);
        Assert.True(r.HarmPValue < 1e-10);
        Assert.True(r.HarmBound > 0.05);
        Assert.True(r.NonInferiorityPValue > 0.5);
    }

    [Fact]
    public void LargeButNoisyIncreaseIsNotProven()
    {
        var r = Eval(Latency(20, 100, 105, 30), HarmDirection.Increase, 0.02);

        Assert.Equal(GuardrailStatus.NotProven, r.Status);
        Assert.True(r.RelativeLift > 0.02);
        Assert.True(r.HarmPValue > 0.05);
    }

    [Fact]
    public void SignificantHarmWithinMarginStillPasses()
    {
        var r = Eval(Latency(200_000, 100, 101, 10), HarmDirection.Increase, 0.05);

        Assert.True(r.HarmPValue < 1e-10);
        Assert.Equal(GuardrailStatus.Passed, r.Status);
    }

    [Fact]
    public void ImprovementPassesTheIncreaseGuardrail()
    {
        var r = Eval(Latency(5_000, 100, 95, 10), HarmDirection.Increase, 0.01);

        Assert.Equal(GuardrailStatus.Passed, r.Status);
        Assert.True(r.HarmPValue > 0.99);
    }

    [Fact]
    public void DecreaseDirectionMirrorsIncrease()
    {
        var conversion = TestData.Metric("conv", MetricKind.Proportion,
            ("control", new VariantStatistics(100_000, 20_000)), ("treatment", new VariantStatistics(100_000, 18_000)));
        var flat = TestData.Metric("conv", MetricKind.Proportion,
            ("control", new VariantStatistics(100_000, 20_000)), ("treatment", new VariantStatistics(100_000, 20_000)));

        var breached = Eval(conversion, HarmDirection.Decrease, 0.05);
        var passed = Eval(flat, HarmDirection.Decrease, 0.05);
        var upward = Eval(conversion, HarmDirection.Increase, 0.05);

        Assert.Equal(GuardrailStatus.Breached, breached.Status);
        Assert.Equal(-0.1, breached.RelativeLift!.Value, 12);
        Assert.True(breached.HarmBound < -0.1 && breached.HarmBound > -0.15); // lower bound: beyond the estimate
        Assert.Equal(GuardrailStatus.Passed, passed.Status);
        Assert.True(passed.HarmBound > -0.05 && passed.HarmBound < 0);
        Assert.Equal(GuardrailStatus.Passed, upward.Status);
    }

    [Fact]
    public void BoundAndNonInferiorityPValueAgree()
    {
        // At the margin exactly on the bound, the non-inferiority p-value equals alpha.
        var m = Latency(1_000, 100, 100.5, 10);
        var probe = Eval(m, HarmDirection.Increase, 0.01);
        var atBound = Eval(m, HarmDirection.Increase, probe.HarmBound!.Value);

        Assert.Equal(0.05, atBound.NonInferiorityPValue!.Value, 9);
        Assert.NotEqual(GuardrailStatus.Breached, atBound.Status);
    }

    [Fact]
    public void UndefinedDataIsNotProvenWithWarning()
    {
        var m = TestData.Metric("errors", MetricKind.Mean, ("control", new VariantStatistics(100, 0, 0)), ("treatment", TestData.Mean(100, 0.1, 0.3)));

        var r = Eval(m, HarmDirection.Increase, 0.05);

        Assert.Equal(GuardrailStatus.NotProven, r.Status);
        Assert.Null(r.RelativeLift);
        Assert.Null(r.HarmBound);
        Assert.Null(r.NonInferiorityPValue);
        Assert.Contains(r.Warnings!, w => w.Contains("control mean is 0", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingVariantIsNotProvenWithWarning()
    {
        var r = Guardrails.Evaluate(Latency(100, 1, 1, 1), "control", "v9", HarmDirection.Increase, 0.05, 0.05);

        Assert.Equal(GuardrailStatus.NotProven, r.Status);
        Assert.Contains(r.Warnings!, w => w.Contains("variant 'v9' is missing", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.0, 0.05)]
    [InlineData(-0.1, 0.05)]
    [InlineData(0.05, 0.0)]
    [InlineData(0.05, 1.0)]
    public void InvalidParametersThrow(double margin, double alpha)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Eval(Latency(100, 1, 1, 1), HarmDirection.Increase, margin, alpha));
    }
}
