namespace MetricCompiler.DemoData.Randomness;

/// <summary>
/// xoshiro256** 1.0 (Blackman, Vigna 2018) seeded through SplitMix64. Unlike <see cref="System.Random"/>,
/// its output is fixed by the algorithm, so a seed yields the same stream on every machine and .NET version.
/// </summary>
internal sealed class Xoshiro256StarStar
{
    private const double UnitScale = 1.0 / (1UL << 53);

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        var state = seed;
        _s0 = SplitMix64.Next(ref state);
        _s1 = SplitMix64.Next(ref state);
        _s2 = SplitMix64.Next(ref state);
        _s3 = SplitMix64.Next(ref state);
    }

    /// <summary>An independent stream for one (purpose, key) pair, e.g. one user's behaviour.</summary>
    public static Xoshiro256StarStar ForStream(ulong seed, string purpose, ulong key) =>
        new(StableHash.Combine(seed, purpose, key));

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * UnitScale;

    /// <summary>Uniform on (0, 1]: safe to take the logarithm of.</summary>
    public double NextDoubleExcludingZero() => ((NextUInt64() >> 11) + 1) * UnitScale;

    /// <summary>Uniform integer on [0, <paramref name="exclusiveBound"/>) by Lemire's multiply-shift.</summary>
    public int NextInt(int exclusiveBound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveBound);
        return (int)(((NextUInt64() >> 32) * (ulong)exclusiveBound) >> 32);
    }

    /// <summary>Uniform integer on [<paramref name="minimum"/>, <paramref name="maximum"/>] (both inclusive).</summary>
    public long NextLong(long minimum, long maximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, minimum);
        var span = (ulong)(maximum - minimum) + 1;
        return span == 0 ? (long)NextUInt64() : minimum + (long)(NextUInt64() % span);
    }

    public bool NextBernoulli(double probability) => NextDouble() < probability;

    private static ulong RotateLeft(ulong value, int bits) => (value << bits) | (value >> (64 - bits));
}
