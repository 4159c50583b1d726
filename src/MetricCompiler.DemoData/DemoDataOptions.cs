namespace MetricCompiler.DemoData;

/// <summary>
/// What to generate. The same options always produce byte-identical data.
/// </summary>
/// <remarks>
/// A record with an explicit constructor (rather than positional) because <see cref="DateOnly"/> defaults cannot be
/// compile-time constants: omitted dates become 2025-12-01 .. 2026-01-31. Call it as
/// <c>new DemoDataOptions(Users: 2_000, Seed: 7)</c>; <c>with</c> expressions work as usual.
/// </remarks>
public sealed record DemoDataOptions
{
    public static readonly DateOnly DefaultPeriodStart = new(2025, 12, 1);
    public static readonly DateOnly DefaultPeriodEnd = new(2026, 1, 31);

    /// <summary>User ids are <c>u</c> + six digits, so at most 999,999 users.</summary>
    public const int MaxUsers = 999_999;

    public DemoDataOptions(int Users = 40_000, ulong Seed = 20260105, DateOnly? PeriodStart = null, DateOnly? PeriodEnd = null)
    {
        this.Users = Users;
        this.Seed = Seed;
        this.PeriodStart = PeriodStart ?? DefaultPeriodStart;
        this.PeriodEnd = PeriodEnd ?? DefaultPeriodEnd;
    }

    /// <summary>Number of users (rows of raw_users).</summary>
    public int Users { get; init; }

    /// <summary>Seed of every random choice.</summary>
    public ulong Seed { get; init; }

    /// <summary>First day of generated activity (UTC).</summary>
    public DateOnly PeriodStart { get; init; }

    /// <summary>Last day of generated activity (UTC, inclusive).</summary>
    public DateOnly PeriodEnd { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when the options cannot produce a data set.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Users);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Users, MaxUsers);
        if (PeriodEnd < PeriodStart)
        {
            throw new ArgumentOutOfRangeException(nameof(PeriodEnd), PeriodEnd, $"PeriodEnd must not be before PeriodStart ({PeriodStart:yyyy-MM-dd}).");
        }
    }
}
