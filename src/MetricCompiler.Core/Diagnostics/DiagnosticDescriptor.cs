namespace MetricCompiler.Core.Diagnostics;

/// <summary>How a code is reported: as an error, as a warning, or as either, depending on the case.</summary>
public enum DescriptorSeverity
{
    Error,
    Warning,
    ErrorOrWarning,
}

/// <summary>
/// A stable diagnostic code: its one-line title, how it is reported, when it is reported and how to fix it. The
/// reference table of docs/diagnostics.md is generated from these (<see cref="DiagnosticReference"/>).
/// </summary>
public sealed record DiagnosticDescriptor(string Code, string Title, DescriptorSeverity Severity = DescriptorSeverity.Error, string When = "", string Fix = "");

/// <summary>
/// Every diagnostic the compiler can report. Codes are stable: MC1xxx reading YAML, MC2xxx references,
/// MC3xxx experiment design, MC4xxx SQL expressions, MC5xxx checks against warehouse data, MC6xxx SQL models and data tests.
/// </summary>
public static class DiagnosticCodes
{
    public static readonly DiagnosticDescriptor YamlSyntax = new("MC1001", "YAML syntax error", DescriptorSeverity.Error,
        "`metrics.yml` or an included file is not valid YAML (bad indentation, an unclosed quote or bracket, an unquoted value containing `: `); nothing else in that file is read.",
        "Fix the YAML at the position given (the parser may stop a little after the mistake); quote values that contain `: `.");
    public static readonly DiagnosticDescriptor UnknownKey = new("MC1002", "Unknown key", DescriptorSeverity.Error,
        "A mapping holds a key that is not allowed there: a typo, or a key that belongs elsewhere.",
        "Use the key the hint suggests, or move the key to where it belongs (docs/spec.md lists every key).");
    public static readonly DiagnosticDescriptor WrongNodeType = new("MC1003", "Value has the wrong shape", DescriptorSeverity.Error,
        "A value is the wrong kind of YAML node: a list where a mapping is expected or the reverse, a mapping where text is expected.",
        "Write the value in the shape the message names: `key: value` lines for a mapping, `- ` lines for a list.");
    public static readonly DiagnosticDescriptor MissingKey = new("MC1004", "Required key is missing", DescriptorSeverity.Error,
        "A required key is absent or empty (`key:`, `~`, `null`).",
        "Add the key with a value.");
    public static readonly DiagnosticDescriptor InvalidValue = new("MC1005", "Invalid value", DescriptorSeverity.Error,
        "A value cannot be read as its type (number, whole number, boolean, `YYYY-MM-DD` date) or is not one of the allowed words.",
        "Write a value of the type the message names, or one of the words the hint lists.");
    public static readonly DiagnosticDescriptor IncludeMatchedNothing = new("MC1006", "Include pattern matched no file", DescriptorSeverity.Warning,
        "An `include` (or `sql_models`, `sql_tests`) pattern matches no file.",
        "Patterns are relative to the folder of `metrics.yml` and `**` matches any depth; fix the pattern or remove it.");
    public static readonly DiagnosticDescriptor FileNotFound = new("MC1007", "File not found", DescriptorSeverity.Error,
        "The project file does not exist, or a file matched by `include` cannot be read.",
        "Run `metricc` from the folder holding `metrics.yml`, or pass `--project-dir`.");
    public static readonly DiagnosticDescriptor UnsupportedVersion = new("MC1008", "Unsupported spec version", DescriptorSeverity.Error,
        "`version` is a whole number other than 1.",
        "Write `version: 1`.");
    public static readonly DiagnosticDescriptor InvalidName = new("MC1009", "Invalid name", DescriptorSeverity.Error,
        "A source, metric, experiment, segment, step or action name is not lowercase letters, digits and `_` (starting with a letter or `_`), or contains the reserved `__`.",
        "Rename it: these names become table and column names in the warehouse.");
    public static readonly DiagnosticDescriptor FileRefused = new("MC1010", "File refused", DescriptorSeverity.Error,
        "A file the project would read is refused: outside the project folder (also through a symlink), not a regular file, or too large.",
        "Keep every project file inside the project folder, as a regular file of reasonable size.");
    public static readonly DiagnosticDescriptor NotUtf8 = new("MC1011", "File is not UTF-8 text", DescriptorSeverity.Error,
        "A project file holds bytes that are not UTF-8 (Latin-1, UTF-16, binary data).",
        "Save the file as UTF-8; the position is the first bad byte.");
    public static readonly DiagnosticDescriptor YamlLimit = new("MC1012", "YAML exceeds a limit", DescriptorSeverity.Error,
        "A file nests collections deeper than 64 levels, or stands for more than 200,000 nodes once every alias is counted (an alias bomb).",
        "Flatten the nesting or write the repeated parts out; real projects are far below both limits.");

    public static readonly DiagnosticDescriptor DuplicateName = new("MC2001", "Duplicate name", DescriptorSeverity.Error,
        "Two sources, metrics, experiments, models or tests share a name, or two variants, segments, steps or actions of one definition do.",
        "Rename one of them; the hint points at the first.");
    public static readonly DiagnosticDescriptor UnknownSource = new("MC2002", "Unknown source", DescriptorSeverity.Error,
        "A metric's `source`, an experiment's `exposure.source` or a segment's `source` names a source that is not declared.",
        "Declare the source under `sources`, or use the name the hint suggests.");
    public static readonly DiagnosticDescriptor UnknownMetric = new("MC2003", "Unknown metric", DescriptorSeverity.Error,
        "A ratio's `numerator` or `denominator`, a derived metric's input, or an experiment's primary, secondary or guardrail metric names a metric that is not declared.",
        "Declare the metric, or use the name the hint suggests.");
    public static readonly DiagnosticDescriptor UnknownColumn = new("MC2004", "Unknown column", DescriptorSeverity.Error,
        "A column is used (as `entity`, `event_time`, `unique_key`, in an `expr` or `filter`, by a segment) but not declared under the source's `columns`.",
        "Declare the column under the source's `columns`, or use the name the hint suggests.");
    public static readonly DiagnosticDescriptor MetricCycle = new("MC2005", "Metric definitions form a cycle", DescriptorSeverity.Error,
        "Following metrics' inputs (ratio parts, derived inputs) leads back to where it started; the message prints the path.",
        "Break the cycle: a metric cannot be computed from itself.");
    public static readonly DiagnosticDescriptor UnknownTarget = new("MC2006", "Unknown target", DescriptorSeverity.Error,
        "`default_target` names a target that is not declared under `targets`.",
        "Declare the target, or name one of the declared targets.");
    public static readonly DiagnosticDescriptor DuplicateColumn = new("MC2007", "Duplicate column", DescriptorSeverity.Error,
        "A source declares two columns whose names are equal ignoring case.",
        "Remove or rename one of them.");
    public static readonly DiagnosticDescriptor MaterializationInvalid = new("MC2008", "Metric cannot be materialized", DescriptorSeverity.Error,
        "A metric's `materialize:` names a dimension that `metricc query --group-by` would refuse: unknown, ambiguous, or one that would fan out the join.",
        "Name a dimension from a source with one row per entity, qualified as `source__column` when ambiguous.");
    public static readonly DiagnosticDescriptor UnsupportedOnEngine = new("MC2009", "Metric cannot be computed on the target's engine", DescriptorSeverity.Error,
        "A metric (or one it is computed from) needs an aggregate the target's engine does not have, such as a percentile on SQLite.",
        "Use another target for this metric, or another aggregation.");

    public static readonly DiagnosticDescriptor WeightsDoNotSumToOne = new("MC3001", "Variant weights do not sum to 1", DescriptorSeverity.Error,
        "The `weight`s of an experiment's variants do not add up to 1 (tolerance 1e-6).",
        "Make the planned traffic shares add up to 1.");
    public static readonly DiagnosticDescriptor StartAfterEnd = new("MC3002", "Experiment starts after it ends", DescriptorSeverity.Error,
        "An experiment's `start` is a later date than its `end`.",
        "Swap or correct the dates; `start` equal to `end` is a one-day experiment.");
    public static readonly DiagnosticDescriptor ControlVariant = new("MC3003", "Exactly one control variant is required", DescriptorSeverity.Error,
        "An experiment has fewer than two variants, no variant with `control: true`, or more than one.",
        "Give the experiment at least two variants, exactly one of them with `control: true`.");
    public static readonly DiagnosticDescriptor OutOfRange = new("MC3004", "Value out of range", DescriptorSeverity.Error,
        "A number is readable but outside its range (a weight, margin, alpha, power, threshold, window, percentile, ...).",
        "Use a value inside the range the message gives.");
    public static readonly DiagnosticDescriptor NoPrimaryMetric = new("MC3005", "Experiment has no primary metric", DescriptorSeverity.Error,
        "An experiment's `metrics` has no `primary` entry, or an empty one.",
        "List at least one primary metric: the decision rests on them.");
    public static readonly DiagnosticDescriptor MetricListedTwice = new("MC3006", "Metric listed twice in one experiment", DescriptorSeverity.Warning,
        "A metric appears more than once among one experiment's primary, secondary and guardrail metrics; it is analysed once, in its first role.",
        "List each metric once, in the role it should have.");
    public static readonly DiagnosticDescriptor UnsupportedCombination = new("MC3007", "Unsupported combination", DescriptorSeverity.ErrorOrWarning,
        "Keys or settings that do not go together (on a metric, an experiment or its analysis); a few such combinations are warnings.",
        "Remove one of the keys, as the message and hint say.");
    public static readonly DiagnosticDescriptor NamespaceOverlap = new("MC3008", "Experiments overlap in a namespace", DescriptorSeverity.Error,
        "Two experiments take overlapping shares of the same namespace while their dates overlap.",
        "Give them disjoint `range`s of the namespace, or dates that do not overlap.");
    public static readonly DiagnosticDescriptor InvalidCovariate = new("MC3009", "Invalid covariate", DescriptorSeverity.Error,
        "An entry of `analysis.covariates` is not a simple count, sum, count_distinct or proportion metric, or is listed twice.",
        "Name count-like metrics of one source, each once.");
    public static readonly DiagnosticDescriptor InvalidAttributeCovariate = new("MC3010", "Invalid unit-attribute covariate", DescriptorSeverity.Error,
        "An `{attribute, source, levels}` entry of `analysis.covariates` names a column its source lacks, is a text column without `levels`, has fewer than two or repeated levels, or is listed twice.",
        "Name a numeric column, or a categorical one with its `levels` (the first is the reference), of a source with one row per unit.");
    public static readonly DiagnosticDescriptor AttributeSourceNotPerUnit = new("MC3011", "Attribute covariate source is not one row per unit", DescriptorSeverity.Error,
        "The source of a unit-attribute covariate does not declare `unique_key` equal to its `entity`, so a unit could have several values.",
        "Use a source with one row per unit (`unique_key:` its entity column), such as a users table.");

    public static readonly DiagnosticDescriptor MinimumDetectableEffectUnreachable = new("MC5001", "Experiment cannot reach its minimum detectable effect", DescriptorSeverity.Warning,
        "`metricc validate`: given the baseline data in the warehouse, an experiment cannot reach its declared `minimum_detectable_effect`.",
        "Run longer, raise the MDE, or pick a primary metric with less variance.");
    public static readonly DiagnosticDescriptor PowerCheckSkipped = new("MC5002", "Power check skipped", DescriptorSeverity.Warning,
        "`metricc validate`: the MDE check could not run for a primary metric (its staging table is not built yet, or too few units have data).",
        "Build the project (`metricc build`) and validate again, or pass `--offline`.");
    public static readonly DiagnosticDescriptor SourceTableMissing = new("MC5003", "Source table not in the warehouse", DescriptorSeverity.Error,
        "`metricc validate --live`: a source's `table` is not in the target's catalog.",
        "Fix the table name (or the target's schema), or load the table.");
    public static readonly DiagnosticDescriptor SourceColumnMissing = new("MC5004", "Source column not in the warehouse", DescriptorSeverity.Error,
        "`metricc validate --live`: a declared column is not a column of the source's table.",
        "Fix the column name or remove the declaration.");
    public static readonly DiagnosticDescriptor SourceColumnType = new("MC5005", "Source column has another type in the warehouse", DescriptorSeverity.Error,
        "`metricc validate --live`: the warehouse type of a column cannot hold the declared `type` without losing values.",
        "Declare the type the column has, or cast it in a SQL model.");

    public static readonly DiagnosticDescriptor ExpressionSyntax = new("MC4001", "Expression is not a single SQL expression", DescriptorSeverity.Error,
        "An `expr`, a `filter` or an `exposure.filter` is not one SQL expression over the source's own columns.",
        "Write a single expression of the language docs/spec.md describes; the column points at the offending character.");
    public static readonly DiagnosticDescriptor ColumnTypeMismatch = new("MC4002", "Column has the wrong type for its role", DescriptorSeverity.Error,
        "A column has the wrong type for its role, such as an `event_time` that is not a `timestamp`.",
        "Declare the column with the type its role needs.");

    public static readonly DiagnosticDescriptor TemplateSyntax = new("MC6001", "Template syntax error", DescriptorSeverity.Error,
        "A SQL model or SQL test is not a template the compiler can render (an unclosed tag, an unknown function, a wrong argument).",
        "Fix the template at the position given; the functions are `ref`, `source`, `var` and `config`.");
    public static readonly DiagnosticDescriptor UnknownRef = new("MC6002", "Unknown ref", DescriptorSeverity.Error,
        "`{{ ref('x') }}` (or a source's `model:`, a `models:` entry) names no node of the plan.",
        "Name a SQL model or a node `metricc ls` lists, or the one the hint suggests.");
    public static readonly DiagnosticDescriptor UnknownTemplateSource = new("MC6003", "Unknown source in a template", DescriptorSeverity.Error,
        "`{{ source('raw', 'x') }}` names no declared source.",
        "Name a declared source (the last argument is its `name`).");
    public static readonly DiagnosticDescriptor UnknownVar = new("MC6004", "Unknown var", DescriptorSeverity.Error,
        "`{{ var('x') }}` is rendered without `--vars` giving `x` and without a default.",
        "Pass `--vars '{x: ...}'` or give a default: `var('x', 7)`.");
    public static readonly DiagnosticDescriptor ModelCycle = new("MC6005", "Dependency cycle through a model", DescriptorSeverity.Error,
        "SQL models read each other in a circle, or a model reads the staging node of a source that reads the model.",
        "Break the cycle; the position is the `ref` that names the next node of it.");
    public static readonly DiagnosticDescriptor InvalidModelConfig = new("MC6006", "Invalid model config", DescriptorSeverity.Error,
        "`{{ config(...) }}` sets something the compiler does not have (a model takes `materialized`, a SQL test `severity`).",
        "Use `materialized='table'`, `'view'` or `'incremental'` in a model, `severity='error'` or `'warn'` in a test.");
    public static readonly DiagnosticDescriptor InvalidDataTest = new("MC6007", "Invalid data test", DescriptorSeverity.Error,
        "A `tests:` entry names no data test, misses its `column`, `values` or `to`, or sits on a metric without `materialize:`.",
        "Write the test as docs/spec.md (Data tests) shows.");
    public static readonly DiagnosticDescriptor InvalidIncrementalConfig = new("MC6008", "Invalid incremental model config", DescriptorSeverity.Error,
        "An incremental model has no `event_time`, a `lookback_days` that is not 0 to 3650, a key it does not need (`unique_key`), or a model that is not incremental sets `event_time` or `lookback_days`.",
        "Write `{{ config(materialized='incremental', event_time='event_date', lookback_days=3) }}`.");
    public static readonly DiagnosticDescriptor DbtIncrementalFilter = new("MC6009", "dbt's incremental filter in a model", DescriptorSeverity.Error,
        "An incremental model uses dbt's `{% if is_incremental() %}` or `{{ this }}`; the compiler filters it on `event_time` itself, and a hand-written filter would lose the lookback days.",
        "Write the full query and remove the `is_incremental()` block.");
    public static readonly DiagnosticDescriptor InvalidFreshness = new("MC6010", "Invalid source freshness", DescriptorSeverity.Error,
        "A source's `freshness:` has neither `warn_after` nor `error_after`, a `count` outside 1 to 100,000, or a `warn_after` longer than its `error_after`.",
        "Write `freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 1, period: day}}`.");
}
