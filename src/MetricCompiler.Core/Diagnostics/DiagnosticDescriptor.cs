namespace MetricCompiler.Core.Diagnostics;

/// <summary>A stable diagnostic code and its one-line title (docs/diagnostics.md lists them all).</summary>
public sealed record DiagnosticDescriptor(string Code, string Title);

/// <summary>
/// Every diagnostic the compiler can report. Codes are stable: MC1xxx reading YAML, MC2xxx references,
/// MC3xxx experiment design, MC4xxx SQL expressions, MC5xxx checks against warehouse data, MC6xxx SQL models and data tests.
/// </summary>
public static class DiagnosticCodes
{
    public static readonly DiagnosticDescriptor YamlSyntax = new("MC1001", "YAML syntax error");
    public static readonly DiagnosticDescriptor UnknownKey = new("MC1002", "Unknown key");
    public static readonly DiagnosticDescriptor WrongNodeType = new("MC1003", "Value has the wrong shape");
    public static readonly DiagnosticDescriptor MissingKey = new("MC1004", "Required key is missing");
    public static readonly DiagnosticDescriptor InvalidValue = new("MC1005", "Invalid value");
    public static readonly DiagnosticDescriptor IncludeMatchedNothing = new("MC1006", "Include pattern matched no file");
    public static readonly DiagnosticDescriptor FileNotFound = new("MC1007", "File not found");
    public static readonly DiagnosticDescriptor UnsupportedVersion = new("MC1008", "Unsupported spec version");
    public static readonly DiagnosticDescriptor InvalidName = new("MC1009", "Invalid name");
    public static readonly DiagnosticDescriptor FileRefused = new("MC1010", "File refused");
    public static readonly DiagnosticDescriptor NotUtf8 = new("MC1011", "File is not UTF-8 text");
    public static readonly DiagnosticDescriptor YamlLimit = new("MC1012", "YAML exceeds a limit");

    public static readonly DiagnosticDescriptor DuplicateName = new("MC2001", "Duplicate name");
    public static readonly DiagnosticDescriptor UnknownSource = new("MC2002", "Unknown source");
    public static readonly DiagnosticDescriptor UnknownMetric = new("MC2003", "Unknown metric");
    public static readonly DiagnosticDescriptor UnknownColumn = new("MC2004", "Unknown column");
    public static readonly DiagnosticDescriptor MetricCycle = new("MC2005", "Metric definitions form a cycle");
    public static readonly DiagnosticDescriptor UnknownTarget = new("MC2006", "Unknown target");
    public static readonly DiagnosticDescriptor DuplicateColumn = new("MC2007", "Duplicate column");
    public static readonly DiagnosticDescriptor MaterializationInvalid = new("MC2008", "Metric cannot be materialized");
    public static readonly DiagnosticDescriptor UnsupportedOnEngine = new("MC2009", "Metric cannot be computed on the target's engine");

    public static readonly DiagnosticDescriptor WeightsDoNotSumToOne = new("MC3001", "Variant weights do not sum to 1");
    public static readonly DiagnosticDescriptor StartAfterEnd = new("MC3002", "Experiment starts after it ends");
    public static readonly DiagnosticDescriptor ControlVariant = new("MC3003", "Exactly one control variant is required");
    public static readonly DiagnosticDescriptor OutOfRange = new("MC3004", "Value out of range");
    public static readonly DiagnosticDescriptor NoPrimaryMetric = new("MC3005", "Experiment has no primary metric");
    public static readonly DiagnosticDescriptor MetricListedTwice = new("MC3006", "Metric listed twice in one experiment");
    public static readonly DiagnosticDescriptor UnsupportedCombination = new("MC3007", "Unsupported combination");
    public static readonly DiagnosticDescriptor NamespaceOverlap = new("MC3008", "Experiments overlap in a namespace");

    public static readonly DiagnosticDescriptor MinimumDetectableEffectUnreachable = new("MC5001", "Experiment cannot reach its minimum detectable effect");
    public static readonly DiagnosticDescriptor PowerCheckSkipped = new("MC5002", "Power check skipped");
    public static readonly DiagnosticDescriptor SourceTableMissing = new("MC5003", "Source table not in the warehouse");
    public static readonly DiagnosticDescriptor SourceColumnMissing = new("MC5004", "Source column not in the warehouse");
    public static readonly DiagnosticDescriptor SourceColumnType = new("MC5005", "Source column has another type in the warehouse");

    public static readonly DiagnosticDescriptor ExpressionSyntax = new("MC4001", "Expression is not a single SQL expression");
    public static readonly DiagnosticDescriptor ColumnTypeMismatch = new("MC4002", "Column has the wrong type for its role");

    public static readonly DiagnosticDescriptor TemplateSyntax = new("MC6001", "Template syntax error");
    public static readonly DiagnosticDescriptor UnknownRef = new("MC6002", "Unknown ref");
    public static readonly DiagnosticDescriptor UnknownTemplateSource = new("MC6003", "Unknown source in a template");
    public static readonly DiagnosticDescriptor UnknownVar = new("MC6004", "Unknown var");
    public static readonly DiagnosticDescriptor ModelCycle = new("MC6005", "Dependency cycle through a model");
    public static readonly DiagnosticDescriptor InvalidModelConfig = new("MC6006", "Invalid model config");
    public static readonly DiagnosticDescriptor InvalidDataTest = new("MC6007", "Invalid data test");
    public static readonly DiagnosticDescriptor InvalidIncrementalConfig = new("MC6008", "Invalid incremental model config");
    public static readonly DiagnosticDescriptor DbtIncrementalFilter = new("MC6009", "dbt's incremental filter in a model");
    public static readonly DiagnosticDescriptor InvalidFreshness = new("MC6010", "Invalid source freshness");
}
