using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Planning;

/// <summary>
/// What a target engine cannot compute, checked when a query or a metric table is compiled for it: a percentile metric
/// (directly or as an input) on an engine without a percentile aggregate is <c>MC2009</c> at the metric's <c>agg</c>.
/// </summary>
public static class EngineSupport
{
    /// <param name="use">What is being compiled, for the message (<c>query</c>, <c>materialize</c>).</param>
    public static IReadOnlyList<Diagnostic> Check(IEnumerable<BoundMetric> metrics, SqlDialect dialect, string use)
    {
        var diagnostics = new DiagnosticBag();
        if (dialect.SupportsPercentile)
            return [];
        foreach (var metric in metrics)
        {
            foreach (var percentile in Closure(metric).OfType<SimpleMetric>().Where(s => s.Aggregation == Aggregation.Percentile).Distinct())
            {
                var through = percentile == metric ? "" : $" (an input of `{metric.Name}`)";
                diagnostics.Error(DiagnosticCodes.UnsupportedOnEngine, percentile.Definition.At("agg"),
                    $"metric `{percentile.Name}`{through}: `agg: percentile` cannot be compiled for the {dialect.Name} target ({use}): {dialect.Name} has no percentile aggregate",
                    "use a target whose engine has one (duckdb, postgres, snowflake, trino), for example `--target dev`; or use `agg: average` on SQLite");
            }
        }

        return diagnostics.Sorted();
    }

    private static IEnumerable<BoundMetric> Closure(BoundMetric metric) => metric.Inputs.SelectMany(Closure).Prepend(metric);
}
