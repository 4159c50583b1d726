using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Planning;

public enum NodeKind
{
    /// <summary>A source's rows, typed and with duplicate event ids removed.</summary>
    Staging,
    /// <summary>A metric materialized at a grain: keys, <c>metric_date</c> and <c>metric_value</c>, for dashboards.</summary>
    MetricTable,
    /// <summary>One row per unit exposed to an experiment: first exposure, variant, how many variants it saw.</summary>
    Exposures,
    /// <summary>One row per analysed unit: every metric of the experiment (and CUPED covariates) from one pass over events.</summary>
    UnitMetrics,
    /// <summary>Per metric and variant: n, sums, sums of squares and cross-products for the statistics engine.</summary>
    Statistics,
    /// <summary>Units per variant, for the sample ratio mismatch check.</summary>
    SrmCounts,
    /// <summary>The statistics engine's readout, written to <c>experiment_results</c>.</summary>
    Readout,
}

/// <summary>
/// One table the plan builds: its query (null for the readout, which the statistics engine computes), what it depends
/// on, and the YAML definition it came from.
/// </summary>
public sealed record PlanNode(
    string Name,
    NodeKind Kind,
    string Description,
    QueryExpr? Query,
    IReadOnlyList<string> DependsOn,
    IReadOnlyList<string> SourceTables,
    SourceLocation Origin,
    IReadOnlyList<string> Tags,
    string? ExperimentId = null)
{
    public string KindName => Kind switch
    {
        NodeKind.Staging => "staging",
        NodeKind.MetricTable => "metric_table",
        NodeKind.Exposures => "exposures",
        NodeKind.UnitMetrics => "unit_metrics",
        NodeKind.Statistics => "statistics",
        NodeKind.SrmCounts => "srm_counts",
        NodeKind.Readout => "readout",
        _ => throw new ArgumentOutOfRangeException(),
    };
}
