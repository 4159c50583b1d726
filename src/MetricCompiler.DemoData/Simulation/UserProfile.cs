namespace MetricCompiler.DemoData.Simulation;

/// <summary>
/// A user's persistent traits. They hold for the whole period, which is what makes pre-period behaviour predict
/// in-experiment behaviour (and lets CUPED remove variance).
/// </summary>
internal sealed record UserProfile(
    int UserNumber,
    string UserId,
    long SignupAt,
    string Country,
    string Platform,
    double SessionsPerDay,
    double PageContinuationProbability,
    double ClickProbability,
    double ErrorProbabilityPerPageView,
    double PageLoadMultiplier,
    double SignUpProbabilityPerSession,
    double PurchaseProbabilityPerSession,
    double RevenueMultiplier);
