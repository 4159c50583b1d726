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

    /// <summary>Users of the default options, and the events they generate (README.md): the ratio <see cref="ForEvents"/> scales by.</summary>
    public const int DefaultUsers = 40_000;

    public const long DefaultEvents = 1_115_054;

    public const ulong DefaultSeed = 20260105;

    /// <summary>
    /// The demo scaled to about <paramref name="events"/> raw events (within a fraction of a percent): the same period and
    /// behaviour, with as many users as the default options' events per user need (40,000 users give 1,115,054
    /// events). Deterministic per seed like any other options; the exact count is in the seeding summary.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one user or more than <see cref="MaxUsers"/> would be needed
    /// (at most about 27.9 million events).</exception>
    public static DemoDataOptions ForEvents(long events, ulong seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(events);
        var users = Math.Round((double)events * DefaultUsers / DefaultEvents, MidpointRounding.AwayFromZero);
        if (users > MaxUsers)
            throw new ArgumentOutOfRangeException(nameof(events), events, $"{events:N0} events need more than {MaxUsers:N0} users, the most the demo data holds");
        return new DemoDataOptions(Math.Max(1, (int)users), seed);
    }

    public DemoDataOptions(int Users = DefaultUsers, ulong Seed = DefaultSeed, DateOnly? PeriodStart = null, DateOnly? PeriodEnd = null)
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
