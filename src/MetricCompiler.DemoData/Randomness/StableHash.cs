using System.Text;

namespace MetricCompiler.DemoData.Randomness;

/// <summary>
/// Platform-independent hashing (never <see cref="string.GetHashCode()"/>, which is randomised per process):
/// FNV-1a over UTF-8 for names, SplitMix64 finalisation to combine the parts.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffsetBasis = 0xCBF29CE484222325UL;
    private const ulong FnvPrime = 0x100000001B3UL;
    private const double UnitScale = 1.0 / (1UL << 53);

    public static ulong OfName(string name)
    {
        var hash = FnvOffsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return hash;
    }

    public static ulong Combine(ulong seed, string purpose, ulong key) =>
        SplitMix64.Mix(SplitMix64.Mix(SplitMix64.Mix(seed + 0x9E3779B97F4A7C15UL) ^ OfName(purpose)) ^ key);

    /// <summary>A key for one (seed, scope, purpose), e.g. (seed, "homepage_cta", "assignment"); combine it with <see cref="Unit"/>.</summary>
    public static ulong ScopeKey(ulong seed, string scope, string purpose) => Combine(seed, scope, OfName(purpose));

    /// <summary>A uniform [0, 1) number for <paramref name="key"/> (e.g. a user number) within a scope.</summary>
    public static double Unit(ulong scopeKey, ulong key) => ToUnitInterval(SplitMix64.Mix(scopeKey ^ SplitMix64.Mix(key)));

    /// <summary>Maps a hash to [0, 1) using its top 53 bits.</summary>
    public static double ToUnitInterval(ulong hash) => (hash >> 11) * UnitScale;
}
