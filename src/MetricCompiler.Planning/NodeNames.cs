namespace MetricCompiler.Planning;

/// <summary>How plan nodes (and so warehouse tables) are named; dbt users will recognise the prefixes.</summary>
public static class NodeNames
{
    public const string ExperimentResults = "experiment_results";

    /// <summary>
    /// The one-row table holding the salt of <c>pii: true</c> columns while a run builds staging; the runner writes it
    /// from the environment variable (as a bound parameter, never in SQL text) and drops it when the run ends.
    /// </summary>
    public const string PiiSalt = "metricc_pii_salt";

    public static string Staging(string source) => MetricCompiler.Core.Metrics.RowSet.StagingNode(source);

    /// <summary>The table a metric is materialized into at its declared grain.</summary>
    public static string MetricTable(string metric) => $"fct_{metric}";

    public static string Exposures(string experiment) => $"exp_{experiment}__exposures";

    public static string UnitMetrics(string experiment) => $"exp_{experiment}__unit_metrics";

    public static string Statistics(string experiment) => $"exp_{experiment}__statistics";

    public static string SrmCounts(string experiment) => $"exp_{experiment}__srm";

    public static string SegmentStatistics(string experiment) => $"exp_{experiment}__segment_statistics";

    /// <summary>The column of a unit-metrics table holding a unit's value of a segment dimension.</summary>
    public static string Segment(string segment) => $"segment__{segment}";

    /// <summary>The segment value of units the dimension's source has no row for.</summary>
    public const string MissingSegment = "(none)";

    /// <summary>The column of a unit-metrics table holding a metric's pre-exposure value (the CUPED covariate).</summary>
    public static string Covariate(string metric) => Core.Metrics.UnitValueBuilder.Covariate(metric);
}

/// <summary>Values of the <c>assignment_status</c> column of an exposures table.</summary>
public static class AssignmentStatus
{
    public const string Analysed = "analysed";
    public const string MultipleVariants = "multiple_variants";
    public const string UndeclaredVariant = "undeclared_variant";
}
