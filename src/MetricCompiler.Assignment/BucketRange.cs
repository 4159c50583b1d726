namespace MetricCompiler.Assignment;

/// <summary>A half-open share of the unit interval, <c>[Start, End)</c>, that one variant takes.</summary>
public readonly record struct BucketRange(double Start, double End)
{
    public bool Contains(double bucket) => bucket >= Start && bucket < End;

    /// <summary>Equal weights for <paramref name="count"/> variants (none for a count below one).</summary>
    public static IReadOnlyList<double> EqualWeights(int count) =>
        count < 1 ? [] : Enumerable.Repeat(1.0 / count, count).ToArray();

    /// <summary>
    /// One range per variant: variant i starts where the weights before it end and takes <c>coverage x weight</c> of its
    /// share, so that lowering coverage removes units from every variant without moving anyone between variants. Coverage
    /// is clamped to [0, 1]; weights that do not match the variant count or do not sum to 1 (within 0.01) fall back to equal.
    /// </summary>
    public static IReadOnlyList<BucketRange> ForVariants(int count, double coverage, IReadOnlyList<double>? weights)
    {
        coverage = Math.Clamp(coverage, 0, 1);
        if (weights is null || weights.Count != count || Math.Abs(weights.Sum() - 1) > 0.01)
            weights = EqualWeights(count);

        var ranges = new BucketRange[count];
        var cumulative = 0.0;
        for (var i = 0; i < count; i++)
        {
            var start = cumulative;
            cumulative += weights[i];
            ranges[i] = new BucketRange(start, start + coverage * weights[i]);
        }

        return ranges;
    }

    /// <summary>The index of the first range holding <paramref name="bucket"/>, or -1 when none does.</summary>
    public static int Choose(double bucket, IReadOnlyList<BucketRange> ranges)
    {
        for (var i = 0; i < ranges.Count; i++)
            if (ranges[i].Contains(bucket))
                return i;
        return -1;
    }
}
