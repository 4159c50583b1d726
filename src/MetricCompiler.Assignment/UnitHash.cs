namespace MetricCompiler.Assignment;

/// <summary>
/// The unit hash of the widely deployed feature-flag SDKs (GrowthBook's <c>hash(seed, value, version)</c>), so that a
/// variant an SDK gave a unit in a browser is the one computed here. Both versions are FNV-1a 32-bit over the UTF-16 code
/// units of a string (JavaScript's <c>charCodeAt</c>):
/// <list type="bullet">
/// <item>version 1: <c>fnv1a32(value + seed) mod 1000 / 1000</c> (three decimals);</item>
/// <item>version 2: <c>fnv1a32(decimal(fnv1a32(seed + value))) mod 10000 / 10000</c> (four decimals; the inner hash breaks
/// the correlation between seeds that share a prefix).</item>
/// </list>
/// </summary>
public static class UnitHash
{
    private const uint OffsetBasis = 0x811C9DC5;
    private const uint Prime = 16777619;

    /// <summary>FNV-1a, 32 bits, over the string's UTF-16 code units.</summary>
    public static uint Fnv1a32(string text)
    {
        var hash = OffsetBasis;
        foreach (var unit in text)
        {
            hash ^= unit;
            hash = unchecked(hash * Prime);
        }

        return hash;
    }

    /// <summary>The unit's position in [0, 1) for this seed, or null for a hash version that does not exist.</summary>
    public static double? Bucket(string seed, string value, int version) => version switch
    {
        1 => Fnv1a32(value + seed) % 1000 / 1000.0,
        2 => Fnv1a32(Fnv1a32(seed + value).ToString(System.Globalization.CultureInfo.InvariantCulture)) % 10000 / 10000.0,
        _ => null,
    };

    /// <summary>The hash versions <see cref="Bucket"/> knows.</summary>
    public static IReadOnlyList<int> Versions { get; } = [1, 2];
}
