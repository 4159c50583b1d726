using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Metrics;

/// <summary>
/// Rows a measure aggregates: a source's staged rows, or rows a metric type derives from staged sources (sessions,
/// conversions, cohorts). Either way a row belongs to an entity and has a time; per-unit measures join on the entity
/// and frame by the time, per-grain measures bucket by the time.
/// </summary>
public abstract record RowSet
{
    /// <summary>A name unique in the project (the source's name, or the metric type's relation name).</summary>
    public abstract string Name { get; }

    public abstract string EntityColumn { get; }

    public abstract string TimeColumn { get; }

    /// <summary>The staged sources the rows come from.</summary>
    public abstract IReadOnlyList<BoundSource> Reads { get; }

    /// <summary>The plan node holding a source's staged rows (<c>stg_&lt;source&gt;</c>), which derived rows read.</summary>
    public static string StagingNode(string source) => $"stg_{source}";

    public static implicit operator RowSet(BoundSource source) => new SourceRows(source);
}

/// <summary>The staged rows of a source (<c>stg_&lt;source&gt;</c>).</summary>
public sealed record SourceRows(BoundSource Source) : RowSet
{
    public override string Name => Source.Name;

    public override string EntityColumn => Source.Entity.Name;

    public override string TimeColumn => Source.EventTime.Name;

    public override IReadOnlyList<BoundSource> Reads => [Source];

    // Equal as a record is (the same source by value); hashed by the source's name, which value-equal sources share,
    // instead of hashing the whole source definition each time measures are grouped by their rows.
    public bool Equals(SourceRows? other) => other is not null && (ReferenceEquals(Source, other.Source) || Source.Equals(other.Source));

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Source.Name);
}

/// <summary>
/// Rows derived by a metric type: <see cref="Query"/> reads staged sources (as <see cref="NodeRef"/>s to their staging
/// nodes) and returns at least <see cref="EntityColumn"/> and <see cref="TimeColumn"/>. The lowering places it in a
/// <c>with</c> clause named <see cref="Name"/>, once per query.
/// </summary>
public sealed record DerivedRows(string Name, string EntityColumn, string TimeColumn, QueryExpr Query, IReadOnlyList<BoundSource> Reads, string Description) : RowSet
{
    public override string Name { get; } = Name;

    public override string EntityColumn { get; } = EntityColumn;

    public override string TimeColumn { get; } = TimeColumn;

    public override IReadOnlyList<BoundSource> Reads { get; } = Reads;
}
