namespace MetricCompiler.DemoData.Randomness;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): used to expand one 64-bit seed into generator state and as a
/// strong 64-bit finaliser for stable hashes. Pure integer arithmetic, so identical on every platform.
/// </summary>
internal static class SplitMix64
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    /// <summary>Advances <paramref name="state"/> and returns the next output.</summary>
    public static ulong Next(ref ulong state)
    {
        state += GoldenGamma;
        return Mix(state);
    }

    /// <summary>The SplitMix64 output function: a bijective avalanche of all 64 bits.</summary>
    public static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}
