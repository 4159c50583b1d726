using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Semantics;

/// <summary>A declared column of a source, as bound: its name as declared, its type, and whether it is personal data.</summary>
public sealed record BoundColumn(string Name, ColumnType Type, string? Description, bool Pii = false, bool NonNegative = false);

/// <summary>A source's consent rule, bound: staging keeps the rows whose column equals the value (of the column's type).</summary>
public sealed record BoundConsent(BoundColumn Column, SqlExpr Value, string ValueText);

/// <summary>
/// What staging enforces on a source before any table keeps its rows: <c>pii: true</c> columns hashed with a salted SHA-256,
/// rows without consent dropped, rows older than <see cref="RetentionDays"/> dropped.
/// </summary>
public sealed record SourceGovernance(IReadOnlyList<BoundColumn> PiiColumns, BoundConsent? Consent, int? RetentionDays)
{
    public static SourceGovernance None { get; } = new([], null, null);

    /// <summary>Whether staging filters rows for governance (consent or retention).</summary>
    public bool FiltersRows => Consent is not null || RetentionDays is not null;
}

/// <summary>
/// A source after binding: its entity, event time and unique key are resolved columns, so later stages need no lookups.
/// </summary>
public sealed record BoundSource(
    SourceDefinition Definition,
    BoundColumn Entity,
    BoundColumn EventTime,
    BoundColumn? UniqueKey,
    IReadOnlyList<BoundColumn> Columns,
    SourceGovernance? Governance = null)
{
    public string Name => Definition.Name;

    public SourceGovernance Rules => Governance ?? SourceGovernance.None;

    public string Table => Definition.Table;

    public SourceLocation Location => Definition.Location;

    /// <summary>One row per entity: its unique key is its entity, so joining it by the entity cannot fan out.</summary>
    public bool IsOneRowPerEntity => UniqueKey is { } key && key.Name == Entity.Name;

    public BoundColumn? FindColumn(string name) =>
        Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Where an experiment's exposures come from, bound, and how a unit's variant is known.</summary>
public sealed record BoundExposure(BoundSource Source, VariantOrigin Variant, SqlExpr? Filter);

/// <summary>How an exposed unit's variant is known.</summary>
public abstract record VariantOrigin;

/// <summary>The exposure log says it: a column of the exposure source.</summary>
public sealed record LoggedVariant(BoundColumn Column) : VariantOrigin;

/// <summary>A holdout: the unit's position in the namespace says it (inside the held-out range: the holdout).</summary>
public sealed record HeldOutByHash(BoundHoldout Holdout) : VariantOrigin;

/// <summary>A holdout, bound: the exposure-source columns whose joined values are hashed, and the held-out range.</summary>
public sealed record BoundHoldout(HoldoutDefinition Definition, IReadOnlyList<BoundColumn> HashAttributes, MetricCompiler.Assignment.NamespaceRange Range)
{
    /// <summary>The variant of a unit with this hash value (its attributes joined as <c>Assigner.HashValue</c> joins them).</summary>
    public string VariantOf(string hashValue) => Range.Contains(hashValue) ? HoldoutVariants.Holdout : HoldoutVariants.Released;
}

/// <summary>
/// A declared assignment, bound: the exposure-source columns whose joined values are hashed, and the rule the audit and
/// <c>metricc assign</c> evaluate (weights in variant order).
/// </summary>
public sealed record BoundAssignment(AssignmentDefinition Definition, IReadOnlyList<BoundColumn> HashAttributes, MetricCompiler.Assignment.AssignmentRule Rule);

/// <summary>A metric an experiment analyses, with its role; guardrails carry their harm direction and margin.</summary>
public sealed record BoundExperimentMetric(BoundMetric Metric, MetricRole Role, GuardrailDefinition? Guardrail);

/// <summary>A segment dimension of an experiment, bound to its source column.</summary>
public sealed record BoundSegment(SegmentDefinition Definition, BoundSource Source, BoundColumn Column)
{
    public string Name => Definition.Name;
}

/// <summary>
/// A unit attribute used as a covariate, bound to its column of a source with one row per unit. Numeric: its value
/// (0 when null) and a missing indicator; categorical: one 0/1 column per declared level after the first (the reference).
/// </summary>
public sealed record BoundAttributeCovariate(AttributeCovariateDefinition Definition, BoundSource Source, BoundColumn Column)
{
    public string Name => Definition.Attribute.ToLowerInvariant();

    public IReadOnlyList<string>? Levels => Definition.Levels;

    /// <summary>The unit-metrics columns, in design order, each with the level it indicates (null: the numeric value; "" the missing indicator).</summary>
    public IReadOnlyList<(string Column, string? Level)> UnitColumnsWithLevels
    {
        get
        {
            if (Levels is not { } levels)
                return [($"{Name}__attr", null), ($"{Name}__missing", "")];
            var result = new List<(string, string?)>();
            for (var i = 1; i < levels.Count; i++)
            {
                var suffix = levels[i].ToLowerInvariant();
                if (suffix.Length == 0 || !suffix.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
                    || levels.Where((l, j) => j != i && string.Equals(l, levels[i], StringComparison.OrdinalIgnoreCase)).Any())
                    suffix = $"level{i + 1}";
                result.Add(($"{Name}__{suffix}", levels[i]));
            }

            return result;
        }
    }

    public IReadOnlyList<string> UnitColumns => [.. UnitColumnsWithLevels.Select(c => c.Column)];
}

/// <summary>
/// An experiment after binding. <see cref="Metrics"/> lists every analysed metric once, primary before secondary before
/// guardrail; each has a per-unit value (binding refused the types that have none).
/// </summary>
public sealed record BoundExperiment(
    ExperimentDefinition Definition,
    BoundExposure Exposure,
    VariantDefinition Control,
    IReadOnlyList<BoundExperimentMetric> Metrics,
    IReadOnlyList<BoundSegment> Segments,
    BoundAssignment? Assignment = null)
{
    public string Id => Definition.Id;

    public AnalysisSettings Analysis => Definition.Analysis;

    /// <summary>
    /// <c>analysis.covariates</c>, bound: simple count-like metrics whose pre-exposure values adjust every count-like
    /// metric of the experiment together (empty: none).
    /// </summary>
    public IReadOnlyList<SimpleMetric> Covariates { get; init; } = [];

    /// <summary><c>analysis.covariates</c>' unit attributes, bound (empty: none); they follow <see cref="Covariates"/> in the design.</summary>
    public IReadOnlyList<BoundAttributeCovariate> AttributeCovariates { get; init; } = [];

    /// <summary>The number of covariate columns k of the regression adjustment: one per metric, the attributes' columns.</summary>
    public int CovariateColumnCount => Covariates.Count + AttributeCovariates.Sum(a => a.UnitColumns.Count);

    /// <summary>The holdout this experiment is, or null for an experiment whose variants are logged.</summary>
    public BoundHoldout? Holdout => (Exposure.Variant as HeldOutByHash)?.Holdout;

    public IReadOnlyList<VariantDefinition> Variants => Definition.Variants;

    /// <summary>The metrics whose per-unit values the unit-metrics table holds: the analysed ones and their inputs.</summary>
    public IReadOnlyList<BoundMetric> UnitMetrics()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<BoundMetric>();
        void Add(BoundMetric metric)
        {
            foreach (var input in metric.Inputs)
                Add(input);
            if (seen.Add(metric.Name))
                result.Add(metric);
        }

        foreach (var metric in Metrics)
            Add(metric.Metric);
        return result;
    }
}

/// <summary>
/// The project after binding and validation: every reference resolved and typed. It exists only when binding found no
/// error, so the planner, the readout and the simulation read it without lookups or null checks.
/// </summary>
public sealed record BoundProject(
    ProjectDefinition Definition,
    IReadOnlyList<BoundSource> Sources,
    IReadOnlyList<BoundMetric> Metrics,
    IReadOnlyList<BoundExperiment> Experiments,
    ProjectTime Time)
{
    public string Name => Definition.Name;

    public BoundMetric Metric(string name) => Metrics.First(m => m.Name == name);

    public BoundMetric? FindMetric(string name) => Metrics.FirstOrDefault(m => m.Name == name);

    public BoundExperiment? FindExperiment(string id) => Experiments.FirstOrDefault(e => e.Id == id);
}
