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
    /// <summary>A query the runner reads right after building the node (staging: the rows each rule dropped).</summary>
    public StagingAudit? Audit { get; init; }

    /// <summary>
    /// A holdout's exposures: <see cref="Query"/> gives the eligible units and their hash values; the runner assigns each
    /// unit its variant from its namespace position and writes the exposures table.
    /// </summary>
    public Core.Semantics.BoundHoldout? Holdout { get; init; }

    /// <summary>A view is created instead of a table (SQL models with <c>config(materialized='view')</c>).</summary>
    public bool IsView { get; init; }

    /// <summary>
    /// A SQL model with <c>config(materialized='incremental')</c>, or the staging of a source with <c>incremental:</c>: a
    /// run may keep the days of the table before its window and recompute the rest (<see cref="IncrementalSql"/>).
    /// </summary>
    public Core.Models.IncrementalConfig? Incremental { get; init; }

    /// <summary>An incremental source's staging, in parts: what <see cref="IncrementalSql.Rebuild"/> stages a window with.</summary>
    public StagingQuery? Staging { get; init; }

    /// <summary><c>table</c>, <c>view</c> or <c>incremental</c>.</summary>
    public string MaterializedName => IsView ? "view" : Incremental is not null ? "incremental" : "table";

    /// <summary>The checksum of the definition as written (a SQL model's file), when there is one.</summary>
    public string? DefinitionChecksum { get; init; }

    /// <summary>
    /// The event-time range this node reads of a node it depends on, for each one it reads only a range of (an
    /// experiment's exposures inside its window, its events from the CUPED lookback to the window's end). A run reuses
    /// the table in place when what changed in those nodes since it was built is outside the range (<see cref="Reusable"/>).
    /// </summary>
    public IReadOnlyDictionary<string, EventTimeRange> ReadRanges { get; init; } = EmptyRanges;

    /// <summary>A metric table's metric, grain and dimensions, from which a run can recompute its latest periods.</summary>
    public MetricTableSpec? MetricTable { get; init; }

    /// <summary>A staging's key whose duplicates it removes, so every staged row is distinct; null for other nodes.</summary>
    public string? UniqueKey { get; init; }

    /// <summary>A staging's <c>retention_days</c>: each run drops the rows older than that; null for other nodes.</summary>
    public int? RetentionDays { get; init; }

    /// <summary>
    /// Whether the node's rows are a function of the rows it reads alone (no clock, no variable, no assignment in the
    /// runner), so a run may keep its table in place when nothing it reads changed: experiment tables and metric tables.
    /// </summary>
    public bool Reusable => !IsView && Holdout is null && Kind is NodeKind.Exposures or NodeKind.UnitMetrics or NodeKind.Statistics or NodeKind.SrmCounts or NodeKind.MetricTable;

    private static readonly IReadOnlyDictionary<string, EventTimeRange> EmptyRanges = new Dictionary<string, EventTimeRange>(StringComparer.Ordinal);

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
/// What a metric table materializes. <see cref="RecomputesFromADay"/>: each period's value comes from that period's rows
/// alone (a simple aggregation: no window, offset or second source), so a run can recompute the periods from a day on
/// and keep the earlier ones.
/// </summary>
public sealed record MetricTableSpec(string Metric, Sql.Model.TimeGrain Grain, IReadOnlyList<string> Dimensions, bool RecomputesFromADay);

/// <summary>The rows of a node whose event time is in [<see cref="From"/>, <see cref="Until"/>), as UTC instants.</summary>
public sealed record EventTimeRange(DateTime From, DateTime Until);

/// <summary>
/// Staging's account of the raw rows: a row per reason in <see cref="DroppedColumns"/> a rule dropped raw rows for, in
/// <see cref="StagingAuditColumns.DroppedBy"/>, with their count, and a row (the reason null) for the rows every rule
/// kept, with the values made null among them (<see cref="NulledColumns"/>). The raw rows are the sum of the counts; the
/// raw rows minus every drop minus the staged rows are the duplicates removed.
/// </summary>
public sealed record StagingAudit(QueryExpr Query, IReadOnlyList<string> DroppedColumns)
{
    /// <summary>Counts of values (not rows) staging made null in the rows it kept: <see cref="StagingAuditColumns.NotANumber"/>, <see cref="StagingAuditColumns.Negative"/>.</summary>
    public IReadOnlyList<string> NulledColumns { get; init; } = [];
}

/// <summary>The columns of a staging audit, declared once.</summary>
public static class StagingAuditColumns
{
    public const string RawRows = "raw_rows";

    /// <summary>The audit query's grouping column: the rule that dropped the rows, or null for the rows kept.</summary>
    public const string DroppedBy = "dropped_by";

    /// <summary>The audit query's count of raw rows per <see cref="DroppedBy"/>.</summary>
    public const string AuditedRows = "audited_rows";
    public const string MissingEntity = "missing_entity";
    public const string MissingTime = "missing_or_unparsable_time";
    public const string OutsideRetention = "outside_retention";
    public const string WithoutConsent = "without_consent";

    /// <summary>Values of integer and number columns that are not numbers (`'N/A'`, `''`): null in staging.</summary>
    public const string NotANumber = "not_a_number";

    /// <summary>Negative values of `non_negative` columns: null in staging.</summary>
    public const string Negative = "negative";

    /// <summary>Not a column of the audit query: computed by the runner from the staged row count.</summary>
    public const string Duplicates = "duplicates";
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

    /// <summary>
    /// A source freshness test: <see cref="FailingRows"/> returns the latest event time (<see cref="FreshnessColumns.Latest"/>),
    /// which the runner compares with the run's reference time.
    /// </summary>
    public Core.Model.FreshnessDefinition? Freshness { get; init; }

    /// <summary>A row-count parity test: <see cref="FailingRows"/> is the staging audit query.</summary>
    public RowCountParity? Parity { get; init; }
}

/// <summary>
/// Row-count parity between a source and its staging: <see cref="Audit"/> counts the raw rows and what each staging rule
/// dropped; the runner adds the duplicates (raw minus drops minus staged rows) and compares the dropped share.
/// </summary>
public sealed record RowCountParity(StagingAudit Audit, double? MaxDroppedShare, double? WarnDroppedShare)
{
    /// <summary>0.015 as <c>1.5%</c>.</summary>
    public static string Percent(double share) => (share * 100).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "%";
}

public static class FreshnessColumns
{
    public const string Latest = "latest_event_at";
}
