namespace MetricCompiler.DemoData.Simulation;

/// <summary>How a variant changes behaviour for events at or after the user's first exposure, until the window ends.</summary>
internal sealed record VariantEffect(
    double PurchaseMultiplier = 1.0,
    double ClickMultiplier = 1.0,
    double SignUpMultiplier = 1.0,
    double PageLoadMultiplier = 1.0,
    double ErrorMultiplier = 1.0)
{
    public static readonly VariantEffect None = new();
}

internal sealed record VariantDefinition(string Name, double Weight, VariantEffect Effect);

/// <summary>
/// An experiment of the demo: its window (inclusive days), its variants (the first is control), the share of users active
/// in the window who get exposed at their first visit, and how often later visits in the window log another exposure.
/// </summary>
internal sealed record ExperimentDefinition(
    string Id,
    DateOnly WindowStart,
    DateOnly WindowEnd,
    IReadOnlyList<VariantDefinition> Variants,
    double ExposedShareOfActiveUsers,
    double RepeatExposureProbability,
    SdkAssignment? Sdk = null);

/// <summary>
/// Assignment by the feature-flag SDKs' hash of the user id (as the experiment's <c>assignment:</c> declares it), instead
/// of the generator's own hash, with an optional planted fault the assignment audit should find.
/// </summary>
internal sealed record SdkAssignment(string Seed, int HashVersion, StaleVariantFault? Fault);

/// <summary>
/// On the days <c>From..To</c>, a stale cache serves <see cref="Served"/> to a share of the users assigned
/// <see cref="Assigned"/> at their first exposure; they keep it (the stale entry is sticky) and behave as that variant.
/// </summary>
internal sealed record StaleVariantFault(DateOnly From, DateOnly To, string Assigned, string Served, double Share);

/// <summary>An experiment's window in simulation seconds, clipped to the generated period (contains nothing when they do not overlap).</summary>
internal sealed record ExperimentWindow(long FirstSecond, long LastSecond)
{
    public bool Contains(long second) => second >= FirstSecond && second <= LastSecond;

    public static ExperimentWindow Clip(ExperimentDefinition experiment, DateOnly periodStart, DateOnly periodEnd)
    {
        var first = UtcTimestamp.StartOfDay(experiment.WindowStart > periodStart ? experiment.WindowStart : periodStart);
        var last = UtcTimestamp.EndOfDay(experiment.WindowEnd < periodEnd ? experiment.WindowEnd : periodEnd);
        return new ExperimentWindow(first, last);
    }
}

/// <summary>The two experiments of the demo project with their planted effects.</summary>
internal static class DemoExperiments
{
    /// <summary>Treatment lifts the chance a session ends in a purchase by 10 % and clicks a little; no guardrail harm.</summary>
    public static readonly ExperimentDefinition HomepageCta = new(
        "homepage_cta",
        new DateOnly(2026, 1, 5),
        new DateOnly(2026, 1, 18),
        [
            new VariantDefinition("control", 0.5, VariantEffect.None),
            new VariantDefinition("treatment", 0.5, new VariantEffect(PurchaseMultiplier: 1.10, ClickMultiplier: 1.06)),
        ],
        ExposedShareOfActiveUsers: 0.60,
        RepeatExposureProbability: 0.55);

    /// <summary>Streamlined lifts sign-ups clearly but loads pages 12 % slower and raises errors 25 % (guardrail breach).</summary>
    public static readonly ExperimentDefinition OnboardingFlow = new(
        "onboarding_flow",
        new DateOnly(2026, 1, 12),
        new DateOnly(2026, 1, 25),
        [
            new VariantDefinition("control", 0.5, VariantEffect.None),
            new VariantDefinition("streamlined", 0.5, new VariantEffect(SignUpMultiplier: 1.6, PageLoadMultiplier: 1.12, ErrorMultiplier: 1.25)),
        ],
        ExposedShareOfActiveUsers: 0.40,
        RepeatExposureProbability: 0.35,
        Sdk: new SdkAssignment("onboarding_flow", 2,
            new StaleVariantFault(new DateOnly(2026, 1, 19), new DateOnly(2026, 1, 20), Assigned: "streamlined", Served: "control", Share: 0.15)));

    public static readonly IReadOnlyList<ExperimentDefinition> All = [HomepageCta, OnboardingFlow];
}
