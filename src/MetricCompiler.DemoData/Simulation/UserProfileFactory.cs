using System.Globalization;
using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Simulation;

/// <summary>Draws a user's sign-up time, country, platform and heterogeneous behavioural traits.</summary>
internal sealed class UserProfileFactory
{
    /// <summary>Share of users who sign up within the first <see cref="EarlySignupDays"/> days of the period.</summary>
    public const double EarlySignupShare = 0.72;

    public const int EarlySignupDays = 14;

    /// <summary>Late sign-ups stop this many days before the period ends, so they still have some activity.</summary>
    public const int LateSignupCutoffDays = 6;

    private static readonly WeightedChoice<string> Countries = new(
    [
        ("US", 34), ("IN", 12), ("GB", 10), ("DE", 9), ("BR", 8), ("FR", 6), ("CA", 6), ("JP", 5), ("ES", 5), ("NL", 5),
    ]);

    private static readonly WeightedChoice<string> Platforms = new([("web", 45), ("ios", 31), ("android", 24)]);

    private readonly DateOnly _periodStart;
    private readonly DateOnly _periodEnd;

    public UserProfileFactory(DateOnly periodStart, DateOnly periodEnd)
    {
        _periodStart = periodStart;
        _periodEnd = periodEnd;
    }

    public static string FormatUserId(int userNumber) => "u" + userNumber.ToString("D6", CultureInfo.InvariantCulture);

    public UserProfile Create(int userNumber, Xoshiro256StarStar random)
    {
        var signupDay = SampleSignupDay(random);
        var signupAt = UtcTimestamp.StartOfDay(signupDay) + ActivityCalendar.SampleSecondOfDay(random);
        var country = Countries.Sample(random);
        var platform = Platforms.Sample(random);

        var (platformLoad, platformErrors, platformPurchases) = platform switch
        {
            "ios" => (0.92, 0.85, 1.15),
            "android" => (1.18, 1.25, 0.90),
            _ => (1.0, 1.0, 1.0),
        };

        return new UserProfile(
            userNumber,
            FormatUserId(userNumber),
            signupAt,
            country,
            platform,
            SessionsPerDay: Math.Min(4.0, random.NextGammaWithMean(mean: 0.24, shape: 2.0)),
            PageContinuationProbability: 0.20 + (0.30 * random.NextDouble()),
            ClickProbability: 0.18 + (0.36 * random.NextDouble()),
            ErrorProbabilityPerPageView: Math.Min(0.30, platformErrors * random.NextGammaWithMean(mean: 0.04, shape: 3.0)),
            PageLoadMultiplier: platformLoad * random.NextLogNormalWithMean(mean: 1.0, sigma: 0.20),
            SignUpProbabilityPerSession: Math.Min(0.50, random.NextGammaWithMean(mean: 0.035, shape: 2.0)),
            PurchaseProbabilityPerSession: Math.Min(0.60, platformPurchases * random.NextGammaWithMean(mean: 0.16, shape: 1.0)),
            RevenueMultiplier: random.NextLogNormalWithMean(mean: 1.0, sigma: 0.35));
    }

    private DateOnly SampleSignupDay(Xoshiro256StarStar random)
    {
        var periodDays = _periodEnd.DayNumber - _periodStart.DayNumber + 1;
        var earlyDays = Math.Min(EarlySignupDays, periodDays);
        var lateDays = periodDays - earlyDays - LateSignupCutoffDays;
        var isEarly = lateDays <= 0 || random.NextDouble() < EarlySignupShare;
        return isEarly
            ? _periodStart.AddDays(random.NextInt(earlyDays))
            : _periodStart.AddDays(earlyDays + random.NextInt(lateDays));
    }
}
