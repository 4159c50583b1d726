namespace MetricCompiler.Assignment;

/// <summary>
/// Deterministic assignment: the same unit, seed and weights give the same variant here, in the warehouse audit and in
/// the SDKs. The order of checks is the SDKs': an override wins, then the namespace, then the hash and the ranges.
/// </summary>
public static class Assigner
{
    /// <summary>The separator between the values of several hash attributes (for example tenant and user).</summary>
    public const string AttributeSeparator = "|";

    /// <summary>The hash value of a unit identified by several attributes: their values joined by <see cref="AttributeSeparator"/>.</summary>
    public static string HashValue(IReadOnlyList<string> attributeValues) => string.Join(AttributeSeparator, attributeValues);

    public static Assignment Assign(AssignmentRule rule, string unit)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(unit);
        if (rule.Overrides.TryGetValue(unit, out var forced))
            return new Assignment(unit, forced, null, AssignmentReason.Override);
        if (rule.Namespace is { } ns && !ns.Contains(unit))
            return new Assignment(unit, null, null, AssignmentReason.OutsideNamespace);

        var bucket = UnitHash.Bucket(rule.Seed, unit, rule.HashVersion)
            ?? throw new ArgumentException($"hash version {rule.HashVersion} does not exist; versions: {string.Join(", ", UnitHash.Versions)}", nameof(rule));
        var index = BucketRange.Choose(bucket, rule.Ranges);
        return index < 0
            ? new Assignment(unit, null, bucket, AssignmentReason.OutsideCoverage)
            : new Assignment(unit, rule.Variants[index], bucket, AssignmentReason.Hashed);
    }
}
