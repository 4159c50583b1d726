namespace MetricCompiler.Assignment;

/// <summary>
/// A share of a namespace: experiments in the same namespace with ranges that do not overlap never share a unit
/// (mutually exclusive layers). A unit's namespace position is <c>UnitHash.Bucket("__" + name, unit, 1)</c>, as the SDKs do.
/// </summary>
public sealed record NamespaceRange(string Name, double Start, double End)
{
    public double Position(string unit) => UnitHash.Bucket("__" + Name, unit, 1)!.Value;

    public bool Contains(string unit) => new BucketRange(Start, End).Contains(Position(unit));

    public bool Overlaps(NamespaceRange other) => Name == other.Name && Start < other.End && other.Start < End;
}

/// <summary>How an experiment assigns its units: the inputs of <see cref="Assigner.Assign"/>.</summary>
/// <param name="Seed">Hash seed; experiments default it to their id.</param>
/// <param name="HashVersion">1 or 2 (see <see cref="UnitHash"/>).</param>
/// <param name="Variants">Variant names in bucket order.</param>
/// <param name="Weights">One weight per variant, summing to 1.</param>
/// <param name="Coverage">The share of eligible units that enter the experiment.</param>
/// <param name="Namespace">The namespace share the experiment runs in, if any.</param>
/// <param name="Overrides">Units forced into a variant (QA accounts, allow-lists).</param>
public sealed record AssignmentRule(
    string Seed,
    int HashVersion,
    IReadOnlyList<string> Variants,
    IReadOnlyList<double> Weights,
    double Coverage,
    NamespaceRange? Namespace,
    IReadOnlyDictionary<string, string> Overrides)
{
    public IReadOnlyList<BucketRange> Ranges { get; } = BucketRange.ForVariants(Variants.Count, Coverage, Weights);
}

/// <summary>Why a unit got the variant it got (or none).</summary>
public enum AssignmentReason
{
    /// <summary>By the hash of the unit in the experiment's seed.</summary>
    Hashed,
    /// <summary>By an entry of the rule's overrides.</summary>
    Override,
    /// <summary>The unit's hash falls outside every variant's range (coverage below 1).</summary>
    OutsideCoverage,
    /// <summary>The unit is outside the experiment's share of its namespace.</summary>
    OutsideNamespace,
}

/// <summary>The outcome for one unit: its variant (null when not in the experiment), its bucket, and why.</summary>
public sealed record Assignment(string Unit, string? Variant, double? Bucket, AssignmentReason Reason)
{
    public bool InExperiment => Variant is not null;
}
