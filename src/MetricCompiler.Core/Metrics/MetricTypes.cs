using MetricCompiler.Core.Metrics.Types;

namespace MetricCompiler.Core.Metrics;

/// <summary>The one place metric types are registered.</summary>
public static class MetricTypes
{
    public static IReadOnlyList<MetricType> All { get; } =
    [
        SimpleMetricType.Instance,
        RatioMetricType.Instance,
        DerivedMetricType.Instance,
        CumulativeMetricType.Instance,
        ConversionMetricType.Instance,
        ActivationMetricType.Instance,
        RetentionMetricType.Instance,
        SessionsMetricType.Instance,
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToList();

    public static MetricType? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
