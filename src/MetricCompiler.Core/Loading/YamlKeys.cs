namespace MetricCompiler.Core.Loading;

/// <summary>
/// Every key the loader reads, by the kind of mapping it is read from: the one place that says what the YAML may hold.
/// <see cref="YamlMappingReader"/> refuses to read a key its mapping's entry does not list (a loader bug, never a
/// user's), so a key the loader accepts is always here; docs/schema/metrics.schema.json is tested against this table.
/// A mapping reads only the keys that apply (a ratio metric does not read `expr`), and reports the others as MC1002.
/// </summary>
public static class YamlKeys
{
    public const string Project = "project";
    public const string IncludedFile = "included_file";
    public const string DemoData = "demo_data";
    public const string Notify = "notify";
    public const string Source = "source";
    public const string SourceColumn = "source_column";
    public const string Consent = "consent";
    public const string Freshness = "freshness";
    public const string SourceIncremental = "source_incremental";
    public const string FreshnessThreshold = "freshness_threshold";
    public const string DataTest = "data_test";
    public const string Model = "model";
    public const string ModelColumn = "model_column";
    public const string Metric = "metric";
    public const string Cap = "cap";
    public const string Materialize = "materialize";
    public const string EventStep = "event_step";
    public const string DerivedInput = "derived_input";
    public const string Experiment = "experiment";
    public const string Exposure = "exposure";
    public const string Variant = "variant";
    public const string ExperimentMetrics = "experiment_metrics";
    public const string Guardrail = "guardrail";
    public const string Assignment = "assignment";
    public const string Namespace = "namespace";
    public const string Holdout = "holdout";
    public const string Analysis = "analysis";
    public const string Cuped = "cuped";
    public const string Prior = "prior";
    public const string Segment = "segment";
    public const string Covariate = "covariate";
    public const string Decision = "decision";

    /// <summary>
    /// A target is a free-form mapping of settings (any key, or <c>key_env</c> naming an environment variable) of which
    /// only this one is required; it is read without a <see cref="YamlMappingReader"/>.
    /// </summary>
    public const string TargetAdapter = "adapter";

    private static readonly string[] Definitions = ["sources", "metrics", "experiments", "models"];

    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ByMapping { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [Project] = ["version", "name", "default_target", "time_zone", "pii_salt_env", "targets", "demo_data", "notify", "include", .. Definitions, "sql_models", "sql_tests"],
        [IncludedFile] = Definitions,
        [DemoData] = ["users", "seed"],
        // `webhook_url` is read only to refuse it (MC1005): the URL of a webhook is its credential
        [Notify] = ["webhook_url_env", "timeout_seconds", "readout_base_url", "webhook_url"],
        [Source] = ["name", "description", "table", "model", "entity", "event_time", "unique_key", "columns", "tags", "consent", "retention_days", "tests", "freshness", "incremental"],
        [SourceColumn] = ["name", "type", "description", "pii", "non_negative", "tests"],
        [Consent] = ["column", "value"],
        [SourceIncremental] = ["lookback_days"],
        [Freshness] = ["warn_after", "error_after"],
        [FreshnessThreshold] = ["count", "period"],
        [DataTest] = ["severity", "column", "values", "to", "field", "max_dropped_share", "warn_dropped_share"],
        [Model] = ["name", "description", "tags", "tests", "columns"],
        [ModelColumn] = ["name", "description", "tests"],
        [Metric] =
        [
            // every metric
            "name", "label", "description", "owner", "type", "desired_direction", "tags", "materialize", "tests", "cap",
            // simple (and percentile) metrics, and the source of the types that read one
            "source", "agg", "expr", "filter", "percentile",
            // ratio
            "numerator", "denominator",
            // cumulative
            "metric", "window", "grain_to_date",
            // derived
            "metrics",
            // conversion and activation
            "steps", "anchor", "anchor_metric", "actions", "required", "within",
            // retention
            "cohort_filter", "return_filter", "return_on", "return_within",
            // sessions
            "measure", "gap", "session_id",
        ],
        [Cap] = ["percentile", "value"],
        [Materialize] = ["grain", "dimensions"],
        [EventStep] = ["name", "filter", "source"],
        [DerivedInput] = ["name", "alias", "offset"],
        [Experiment] = ["id", "name", "hypothesis", "owner", "exposure", "variants", "start", "end", "metrics", "analysis", "decision", "assignment", "holdout", "tags"],
        [Exposure] = ["source", "variant_column", "filter"],
        [Variant] = ["name", "weight", "control", "description"],
        [ExperimentMetrics] = ["primary", "secondary", "guardrails"],
        [Guardrail] = ["metric", "harmful_direction", "margin"],
        [Assignment] = ["hash_attribute", "hash_attributes", "seed", "hash_version", "coverage", "namespace", "overrides"],
        [Namespace] = ["name", "range"],
        [Holdout] = ["namespace", "range", "hash_attribute"],
        [Analysis] = ["alpha", "correction", "method", "cuped", "srm_threshold", "minimum_detectable_effect", "power", "sequential_tuning", "balance_threshold", "prior", "segments", "scale", "covariates"],
        [Cuped] = ["enabled", "lookback_days"],
        [Prior] = ["mean", "variance"],
        [Segment] = ["name", "source", "column"],
        [Covariate] = ["attribute", "source", "levels"],
        [Decision] = ["ship_when_primary", "guardrails", "require_srm_clean"],
    };

    /// <summary>Keys the loader reads only to refuse them with a clear error (a literal secret): the schema forbids them.</summary>
    public static IReadOnlyList<string> Refused { get; } = ["webhook_url"];

    /// <summary>Every key of every mapping (and a target's <c>adapter</c>), each once, in order.</summary>
    public static IReadOnlyList<string> All() =>
        ByMapping.Values.SelectMany(keys => keys).Append(TargetAdapter).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}
