namespace MetricCompiler.Statistics.Tests;

/// <summary>Builders for sufficient statistics used by the unit tests.</summary>
internal static class TestData
{
    /// <summary>Statistics of n units with the given mean and sample (n-1) standard deviation.</summary>
    public static VariantStatistics Mean(long n, double mean, double sd) =>
        new(n, n * mean, ((n - 1) * sd * sd) + (n * mean * mean));

    public static VariantStatistics FromValues(params double[] values) =>
        new(values.Length, values.Sum(), values.Sum(v => v * v));

    public static MetricInput Metric(string name, MetricKind kind, params (string Name, VariantStatistics Stats)[] variants)
    {
        var dict = new Dictionary<string, VariantStatistics>(StringComparer.Ordinal);
        foreach (var (n, s) in variants)
        {
            dict.Add(n, s);
        }

        return new MetricInput(name, kind, dict);
    }

    public static AnalysisRequest Request(params MetricInput[] metrics) => new("control", metrics);
}
