namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014, "Fast splittable pseudorandom number generators"): pure 64-bit integer
/// arithmetic, so a seed gives the same stream on every platform and runtime (unlike <see cref="System.Random"/>, whose
/// algorithm is not part of its contract).
/// </summary>
internal sealed class SplitMix64(ulong state)
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private ulong _state = state;

    /// <summary>An independent stream per run: the run index is mixed into the seed, so runs do not depend on each other.</summary>
    public static SplitMix64 ForRun(ulong seed, int run) => new(Mix(seed ^ Mix((ulong)run + GoldenGamma)));

    public ulong NextUInt64()
    {
        _state += GoldenGamma;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }
}
