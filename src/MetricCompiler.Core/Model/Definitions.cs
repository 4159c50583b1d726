using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Core.Model;

/// <summary>A name used to point at another definition, with where it was written.</summary>
public sealed record NameReference(string Name, SourceLocation Location);

/// <summary>A SQL expression written by the user (<c>expr</c>, <c>filter</c>) and where its text starts.</summary>
public sealed record SqlSnippet(string Text, SourceLocation Location);

/// <summary>A warehouse connection. Secrets are never stored here: a key ending in <c>_env</c> names an environment variable.</summary>
public sealed record TargetDefinition(string Name, string Adapter, IReadOnlyDictionary<string, string> Settings, SourceLocation Location)
{
    public string? Setting(string key) => Settings.TryGetValue(key, out var value) ? value : null;
}

/// <summary>
/// A declared column; <paramref name="Pii"/> marks personal data that staging hashes (salted SHA-256) before any table keeps
/// it; <paramref name="NonNegative"/> (numbers only) says a negative value cannot occur, so staging makes one null and counts it.
/// </summary>
public sealed record ColumnDefinition(string Name, ColumnType Type, string? Description, SourceLocation Location, bool Pii = false, bool NonNegative = false);

/// <summary><c>consent:</c> on a source: staging keeps only rows whose <paramref name="Column"/> equals <paramref name="Value"/>.</summary>
public sealed record ConsentDefinition(NameReference Column, string Value, SourceLocation Location);

/// <summary>A warehouse table of events or assignments, keyed by an entity (the unit of analysis).</summary>
public sealed record SourceDefinition(
    string Name,
    string? Description,
    string Table,
    string Entity,
    string EventTime,
    string? UniqueKey,
    IReadOnlyList<ColumnDefinition> Columns,
    IReadOnlyList<string> Tags,
    SourceLocation Location,
    IReadOnlyDictionary<string, SourceLocation> FieldLocations,
    ConsentDefinition? Consent = null,
    int? RetentionDays = null)
{
    /// <summary><c>model: name</c> instead of <c>table:</c>: the source reads the table a SQL model builds.</summary>
    public NameReference? Model { get; init; }

    /// <summary>Data tests on the source's columns, run against its table as declared (before staging).</summary>
    public IReadOnlyList<DataTestDefinition> Tests { get; init; } = [];

    /// <summary><c>freshness:</c> how old the latest event time may be (dbt's <c>warn_after</c> / <c>error_after</c>).</summary>
    public FreshnessDefinition? Freshness { get; init; }

    /// <summary>
    /// <c>incremental: {lookback_days: n}</c>: staging keeps the staged rows before the window and stages the raw rows
    /// from <c>n</c> days before the latest staged day on (<see cref="Models.IncrementalConfig.EventTime"/> is the event time).
    /// </summary>
    public Models.IncrementalConfig? Incremental { get; init; }

    public ColumnDefinition? FindColumn(string name) =>
        Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    public SourceLocation At(string field) => FieldLocations.GetValueOrDefault(field, Location);
}

/// <summary>
/// A canonical metric as written: the keys every metric has, and its type's own settings (<see cref="Spec"/>, read and
/// bound by the type in <c>Core/Metrics/Types</c>).
/// </summary>
public sealed record MetricDefinition(
    string Name,
    string TypeName,
    string? Label,
    string? Description,
    string? Owner,
    Metrics.MetricSpec Spec,
    Direction DesiredDirection,
    IReadOnlyList<string> Tags,
    SourceLocation Location,
    IReadOnlyDictionary<string, SourceLocation> FieldLocations,
    MetricMaterialization? Materialize = null)
{
    /// <summary>Data tests on the columns of the metric's <c>fct_</c> table (the metric must be materialized).</summary>
    public IReadOnlyList<DataTestDefinition> Tests { get; init; } = [];

    /// <summary><c>cap:</c> outlier capping (winsorization) of the metric's per-unit values in experiments.</summary>
    public MetricCap? Cap { get; init; }

    public SourceLocation At(string field) => FieldLocations.GetValueOrDefault(field, Location);
}

/// <summary>
/// <c>cap:</c> on a metric: in experiments, each per-unit value (each part of a ratio, and a CUPED covariate) is
/// replaced by <c>least(value, cap)</c> before its sums are taken. The cap is either a fixed <paramref name="Value"/>
/// or the <paramref name="Percentile"/>-th percentile (0 &lt; p &lt; 1, numpy's linear interpolation) of the column's
/// values over every analysed unit of the experiment, pooled across variants; exactly one of the two is set.
/// </summary>
public sealed record MetricCap(double? Percentile, double? Value, SourceLocation Location)
{
    public string Describe() => Percentile is { } p
        ? $"p{(p * 100).ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture)}"
        : $"{Value!.Value.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// <c>materialize:</c> on a metric: build the table <c>fct_&lt;metric&gt;</c> at this time grain and by these dimensions,
/// with the conventional columns (the dimensions, <c>metric_date</c>, <c>metric_value</c>) that dashboards read.
/// </summary>
public sealed record MetricMaterialization(MetricCompiler.Sql.Model.TimeGrain Grain, IReadOnlyList<NameReference> Dimensions, SourceLocation Location);

public sealed record VariantDefinition(string Name, double Weight, bool IsControl, string? Description, SourceLocation Location);

/// <summary>Where assignments come from: a source whose entity is the unit and a column holding the variant.</summary>
public sealed record ExposureDefinition(NameReference Source, string VariantColumn, SqlSnippet? Filter, SourceLocation Location);

/// <summary>
/// <c>assignment:</c> on an experiment: how its units are assigned, so that the run can audit the logged variants. The
/// hash is the SDKs' (see <c>MetricCompiler.Assignment.UnitHash</c>); weights come from the variants, in their order.
/// </summary>
/// <param name="HashAttributes">Columns of the exposure source whose values, joined by <c>|</c>, are hashed (default: its entity).</param>
/// <param name="Seed">The hash seed (default: the experiment id).</param>
public sealed record AssignmentDefinition(
    IReadOnlyList<NameReference> HashAttributes,
    string? Seed,
    int HashVersion,
    double Coverage,
    NamespaceShare? Namespace,
    IReadOnlyDictionary<string, string> Overrides,
    SourceLocation Location,
    IReadOnlyDictionary<string, SourceLocation> FieldLocations)
{
    public SourceLocation At(string field) => FieldLocations.GetValueOrDefault(field, Location);
}

/// <summary>The share <c>[Start, End)</c> of a namespace an experiment runs in; shares of one namespace must not overlap.</summary>
public sealed record NamespaceShare(string Name, double Start, double End, SourceLocation Location);

/// <summary>
/// <c>holdout:</c> on an experiment: the share of a namespace held back from everything shipped in it. Units whose
/// namespace position falls in <see cref="Share"/> are the control variant <see cref="HoldoutVariants.Holdout"/>;
/// every other eligible unit is <see cref="HoldoutVariants.Released"/>.
/// </summary>
public sealed record HoldoutDefinition(NamespaceShare Share, IReadOnlyList<NameReference> HashAttributes, SourceLocation Location);

/// <summary>The two variants of a holdout, implied by <c>holdout:</c>.</summary>
public static class HoldoutVariants
{
    public const string Holdout = "holdout";
    public const string Released = "released";
}

/// <summary>A guardrail: the metric, which way is harm, and the relative change in that direction that is tolerated.</summary>
public sealed record GuardrailDefinition(NameReference Metric, Direction HarmfulDirection, double Margin, SourceLocation Location);

public sealed record CupedSettings(bool Enabled, int LookbackDays);

/// <summary>A normal prior on the relative lift, for <c>method: bayesian</c>.</summary>
public sealed record PriorSettings(double Mean, double Variance);

/// <summary>A dimension to break results down by: a column of a source keyed by the same unit.</summary>
public sealed record SegmentDefinition(string Name, NameReference Source, string Column, SourceLocation Location);

public sealed record AnalysisSettings(
    double Alpha,
    MultipleTestingCorrection Correction,
    AnalysisMethod Method,
    CupedSettings Cuped,
    double SrmThreshold,
    double? MinimumDetectableEffect,
    double Power,
    double SequentialTuning,
    PriorSettings? Prior,
    double BalanceThreshold,
    IReadOnlyList<SegmentDefinition> Segments,
    TestScale Scale = TestScale.Relative)
{
    /// <summary>
    /// <c>covariates:</c> metrics whose values in the <c>cuped.lookback_days</c> before first exposure adjust every
    /// count-like metric of the experiment together (regression adjustment with a covariate vector); empty: none.
    /// </summary>
    public IReadOnlyList<NameReference> Covariates { get; init; } = [];

    /// <summary>
    /// The <c>{attribute, source, levels}</c> entries of <c>covariates:</c>: unit attributes known at assignment that adjust
    /// every count-like metric together with <see cref="Covariates"/>; empty: none.
    /// </summary>
    public IReadOnlyList<AttributeCovariateDefinition> AttributeCovariates { get; init; } = [];
}

/// <summary>
/// A unit attribute used as a covariate: column <c>Attribute</c> of a source with one row per unit; numeric when
/// <c>Levels</c> is null, else categorical (one-hot of the levels after the first, which is the reference).
/// </summary>
public sealed record AttributeCovariateDefinition(string Attribute, NameReference Source, IReadOnlyList<string>? Levels, SourceLocation Location);

/// <summary>The scale the readout's p-value, interval and significance are on (one test, one scale).</summary>
public enum TestScale
{
    /// <summary>The relative lift (delta method), the scale the readout leads with.</summary>
    Relative,
    /// <summary>The absolute difference of means.</summary>
    Absolute,
}

/// <summary>Which primary metrics must be significantly better for a ship decision.</summary>
public enum PrimaryRule
{
    All,
    Any,
}

/// <summary>What guardrails must show for a ship decision.</summary>
public enum GuardrailRule
{
    /// <summary>No guardrail is significantly harmed beyond its margin.</summary>
    NoBreach,
    /// <summary>Every guardrail has shown non-inferiority (its one-sided bound is within the margin).</summary>
    NonInferior,
}

/// <summary>The experiment's decision rule; the defaults are the conservative, common one.</summary>
public sealed record DecisionRules(PrimaryRule Primary, GuardrailRule Guardrails, bool RequireCleanSrm)
{
    public static DecisionRules Default { get; } = new(PrimaryRule.All, GuardrailRule.NoBreach, true);
}

public sealed record ExperimentDefinition(
    string Id,
    string? Name,
    string? Hypothesis,
    string? Owner,
    ExposureDefinition Exposure,
    IReadOnlyList<VariantDefinition> Variants,
    DateOnly Start,
    DateOnly End,
    IReadOnlyList<NameReference> PrimaryMetrics,
    IReadOnlyList<NameReference> SecondaryMetrics,
    IReadOnlyList<GuardrailDefinition> Guardrails,
    AnalysisSettings Analysis,
    DecisionRules Decision,
    IReadOnlyList<string> Tags,
    SourceLocation Location,
    IReadOnlyDictionary<string, SourceLocation> FieldLocations,
    AssignmentDefinition? Assignment = null,
    HoldoutDefinition? Holdout = null)
{
    public VariantDefinition? Control => Variants.FirstOrDefault(v => v.IsControl);

    public SourceLocation At(string field) => FieldLocations.GetValueOrDefault(field, Location);

    /// <summary>Every metric the experiment analyses, each once, with its role (primary before secondary before guardrail).</summary>
    public IReadOnlyList<(NameReference Metric, MetricRole Role)> AllMetrics()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(NameReference, MetricRole)>();
        foreach (var m in PrimaryMetrics)
            if (seen.Add(m.Name)) result.Add((m, MetricRole.Primary));
        foreach (var m in SecondaryMetrics)
            if (seen.Add(m.Name)) result.Add((m, MetricRole.Secondary));
        foreach (var g in Guardrails)
            if (seen.Add(g.Metric.Name)) result.Add((g.Metric, MetricRole.Guardrail));
        return result;
    }
}

/// <summary>Settings of the built-in demo data generator (<c>metricc seed</c>).</summary>
public sealed record DemoDataSettings(int Users, ulong Seed, SourceLocation Location);

/// <summary>
/// <c>notify:</c>: where a changed experiment decision is posted (Slack-compatible JSON). The URL is a secret, so the
/// project names only the environment variable that holds it.
/// </summary>
/// <param name="WebhookUrlEnv">The environment variable holding the webhook URL.</param>
/// <param name="TimeoutSeconds">How long one post may take before it is given up (with a warning; the run still succeeds).</param>
/// <param name="ReadoutBaseUrl">Where <c>target/</c> is published (a CI artifacts URL, say): the link is this plus
/// <c>readouts/&lt;experiment&gt;.html</c>; without it the message names the readout's path on disk.</param>
public sealed record NotifySettings(NameReference WebhookUrlEnv, double TimeoutSeconds, string? ReadoutBaseUrl, SourceLocation Location)
{
    public const double DefaultTimeoutSeconds = 5;
}

/// <summary>A loaded project: every definition from <c>metrics.yml</c> and the files it includes.</summary>
public sealed record ProjectDefinition(
    string Name,
    int Version,
    string RootDirectory,
    string ProjectFile,
    string? DefaultTarget,
    IReadOnlyList<TargetDefinition> Targets,
    IReadOnlyList<SourceDefinition> Sources,
    IReadOnlyList<MetricDefinition> Metrics,
    IReadOnlyList<ExperimentDefinition> Experiments,
    DemoDataSettings? DemoData,
    IReadOnlyList<string> Files,
    NameReference? TimeZone = null,
    NameReference? PiiSaltEnv = null)
{
    /// <summary>The environment variable holding the salt of <c>pii: true</c> columns when the project names none.</summary>
    public const string DefaultPiiSaltEnv = "METRICC_PII_SALT";

    public string PiiSaltVariable => PiiSaltEnv?.Name ?? DefaultPiiSaltEnv;

    /// <summary><c>notify:</c>, null when the project posts no notification.</summary>
    public NotifySettings? Notify { get; init; }

    /// <summary>The SQL models (<c>sql_models:</c> patterns, default <c>models/**/*.sql</c>), in name order.</summary>
    public IReadOnlyList<SqlModelDefinition> Models { get; init; } = [];

    /// <summary>What YAML says about models: descriptions, tags and data tests.</summary>
    public IReadOnlyList<ModelProperties> ModelProperties { get; init; } = [];

    /// <summary>Custom SQL tests (<c>sql_tests:</c> patterns, default <c>tests/**/*.sql</c>).</summary>
    public IReadOnlyList<SqlTestDefinition> SqlTests { get; init; } = [];

    public SourceDefinition? FindSource(string name) => Sources.FirstOrDefault(s => s.Name == name);

    public MetricDefinition? FindMetric(string name) => Metrics.FirstOrDefault(m => m.Name == name);

    public ExperimentDefinition? FindExperiment(string id) => Experiments.FirstOrDefault(e => e.Id == id);
}

/// <summary>How bad a failing data test is: <c>error</c> skips what is downstream and fails the run, <c>warn</c> reports.</summary>
public enum TestSeverity
{
    Error,
    Warn,
}

/// <summary><c>{count: 12, period: hour}</c>: an age after which a source is stale.</summary>
public sealed record FreshnessThreshold(int Count, FreshnessPeriod Period)
{
    public TimeSpan Span => Period switch
    {
        FreshnessPeriod.Minute => TimeSpan.FromMinutes(Count),
        FreshnessPeriod.Hour => TimeSpan.FromHours(Count),
        _ => TimeSpan.FromDays(Count),
    };

    public override string ToString() => $"{Count} {Period.ToString().ToLowerInvariant()}{(Count == 1 ? "" : "s")}";
}

public enum FreshnessPeriod
{
    Minute,
    Hour,
    Day,
}

/// <summary>A source's <c>freshness:</c>: its latest event time must be younger than the thresholds, at the run's reference time.</summary>
public sealed record FreshnessDefinition(FreshnessThreshold? WarnAfter, FreshnessThreshold? ErrorAfter, SourceLocation Location);

public enum DataTestKind
{
    NotNull,
    Unique,
    AcceptedValues,
    Relationships,
    /// <summary>On a source: the share of its raw rows staging dropped, by reason, against thresholds.</summary>
    RowCountParity,
}

/// <summary>
/// A generic data test declared in YAML on a column of a source, a model or a metric's table: the rows that break it
/// are its failures.
/// </summary>
/// <param name="Values">For accepted_values: the allowed values as written.</param>
/// <param name="To">For relationships: the source, model or node the column must be found in.</param>
/// <param name="Field">For relationships: the column of <paramref name="To"/> (default: the same name).</param>
public sealed record DataTestDefinition(
    DataTestKind Kind,
    NameReference Column,
    TestSeverity Severity,
    SourceLocation Location,
    IReadOnlyList<string>? Values = null,
    NameReference? To = null,
    string? Field = null)
{
    /// <summary>For row_count_parity: above this share of dropped raw rows the test fails (or warns, with severity warn).</summary>
    public double? MaxDroppedShare { get; init; }

    /// <summary>For row_count_parity: above this share it warns.</summary>
    public double? WarnDroppedShare { get; init; }
}

/// <summary>
/// A SQL model: a <c>.sql</c> file under the model paths, rendered once at load (ref, source, var, config, if, for).
/// Its name is the file's name without <c>.sql</c>; its table is built like every other node.
/// </summary>
public sealed record SqlModelDefinition(string Name, string File, Models.RenderedSql Sql, string Checksum, SourceLocation Location);

/// <summary>YAML about a model (<c>models:</c> entries): its description, tags and data tests.</summary>
public sealed record ModelProperties(NameReference Name, string? Description, IReadOnlyList<string> Tags, IReadOnlyList<DataTestDefinition> Tests, SourceLocation Location);

/// <summary>A custom SQL test: a templated query whose rows are failures (<c>tests/**/*.sql</c>).</summary>
public sealed record SqlTestDefinition(string Name, string File, Models.RenderedSql Sql, TestSeverity Severity, SourceLocation Location);
