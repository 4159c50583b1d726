using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Metrics;

/// <summary>
/// A metric after binding: every reference resolved, every expression parsed and bound to its source's columns. Each
/// type's subclass lowers itself: to a value per exposed unit (<see cref="Experiment"/>) and to a value per time bucket
/// and dimensions (<see cref="AtGrain"/>). A type without one of them says so, and binding refuses that use with a
/// located error.
/// </summary>
public abstract record BoundMetric(MetricDefinition Definition)
{
    public string Name => Definition.Name;

    public string Label => Definition.Label ?? Definition.Name;

    public Direction DesiredDirection => Definition.DesiredDirection;

    public SourceLocation Location => Definition.Location;

    public abstract MetricType Type { get; }

    /// <summary>The metrics this one is computed from (ratio parts, derived inputs); empty for a metric over a source.</summary>
    public virtual IReadOnlyList<BoundMetric> Inputs => [];

    /// <summary>The sources whose staged rows this metric reads, directly or through its inputs.</summary>
    public abstract IReadOnlyList<BoundSource> Sources { get; }

    /// <summary>What the metric computes, in a few words, for comments in generated SQL and the catalog.</summary>
    public abstract string Summary { get; }

    /// <summary>
    /// Lowers the metric into an experiment's unit-metrics table and says how its sufficient statistics look; null for
    /// a type that has no value per unit.
    /// </summary>
    public virtual ExperimentStatistics? Experiment(UnitValueBuilder units) => null;

    /// <summary>Whether <see cref="Experiment"/> gives a value per unit (the check binding runs before an experiment uses it).</summary>
    public abstract bool HasUnitValue { get; }

    /// <summary>Whether an experiment can analyse the metric: a value per unit, or a percentile (compared as a quantile of per-unit values).</summary>
    public virtual bool InExperiments => HasUnitValue;

    /// <summary>The metric's value per time bucket and dimensions, as an expression over the grain query's measures.</summary>
    public abstract GrainValue AtGrain(GrainQueryBuilder query);
}

/// <summary>
/// A metric's value at a grain: its expression, and whether a bucket without rows counts as 0 (else null). A type may
/// add named <see cref="Columns"/> that a query prints next to the value (a funnel's per-step counts); they are
/// output as <c>&lt;metric&gt;__&lt;name&gt;</c> when the metric is queried itself, and ignored when another metric reads it.
/// </summary>
public sealed record GrainValue(SqlExpr Expression, bool ZeroWhenEmpty)
{
    public IReadOnlyList<GrainColumn> Columns { get; init; } = [];

    /// <summary>The output name of an extra column of <paramref name="metric"/>.</summary>
    public static string ColumnName(string metric, GrainColumn column) => $"{metric}__{column.Name}";
}

/// <summary>An extra column of a metric's value at a grain: its name (after the metric's), expression and meaning.</summary>
public sealed record GrainColumn(string Name, SqlExpr Expression, string Description);
