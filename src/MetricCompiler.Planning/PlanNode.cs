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
    /// <summary>A SQL model: a user's <c>.sql</c> file, built as a table or a view.</summary>
    Model,
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
    /// <summary>A view is created instead of a table (SQL models with <c>config(materialized='view')</c>).</summary>
    public bool IsView { get; init; }

    /// <summary>The checksum of the definition as written (a SQL model's file), when there is one.</summary>
    public string? DefinitionChecksum { get; init; }

    public string KindName => Kind switch
    {
        NodeKind.Staging => "staging",
        NodeKind.MetricTable => "metric_table",
        NodeKind.Exposures => "exposures",
        NodeKind.UnitMetrics => "unit_metrics",
        NodeKind.Statistics => "statistics",
        NodeKind.SrmCounts => "srm_counts",
        NodeKind.Readout => "readout",
        NodeKind.Model => "model",
        _ => throw new ArgumentOutOfRangeException(),
    };
}

/// <summary>
/// A data test: a query whose rows are failures. It runs right after the node it is attached to (for a SQL test, the
/// last of the nodes it reads), and an <c>error</c> failure skips that node's descendants.
/// </summary>
/// <param name="Kind">not_null, unique, accepted_values, relationships or sql.</param>
/// <param name="AttachedTo">The node after which it runs; null when it reads no node of the plan (it runs first).</param>
/// <param name="Reads">Every node it reads (their descendants are skipped when it fails).</param>
public sealed record PlannedTest(
    string Name,
    string Kind,
    string? AttachedTo,
    IReadOnlyList<string> Reads,
    QueryExpr FailingRows,
    Core.Model.TestSeverity Severity,
    SourceLocation Origin,
    string Description)
{
    public string SeverityName => Severity == Core.Model.TestSeverity.Warn ? "warn" : "error";
}
