using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Simulation;

/// <summary>
/// Simulates one user's sessions over the period from that user's own random stream, so users are independent of each
/// other (and of the order or thread they are simulated on). Experiment eligibility and variant come from stable hashes
/// of (seed, experiment, user), not from the behaviour stream.
/// </summary>
internal sealed class UserSimulator
{
    /// <summary>Chance that an event is delivered twice (an exact duplicate row with the same event_id).</summary>
    public const double DuplicateEventProbability = 0.005;

    public const double MeanRevenuePerPurchase = 45.0;

    private const double RevenueSigma = 0.35;
    private const double PageLoadSigma = 0.45;
    private const double MeanDwellSeconds = 35.0;
    private const long MaxDwellSeconds = 600;
    private const int MaxPageViewsPerSession = 30;
    private const long MinSecondsBetweenSessions = 300;

    /// <summary>An exposure is logged 1..this many seconds after the landing page view of the session that triggers it.</summary>
    private const int MaxExposureDelaySeconds = 3;

    /// <summary>Marks a user who does not take part in an experiment in <see cref="Participation"/>.</summary>
    private const int NotEligible = -1;

    private readonly ulong _seed;
    private readonly IReadOnlyList<ExperimentDefinition> _experiments;
    private readonly IReadOnlyList<ExperimentWindow> _windows;
    private readonly ulong[] _eligibilityKeys;
    private readonly ulong[] _assignmentKeys;
    private readonly ulong[] _faultKeys;
    private readonly MetricCompiler.Assignment.AssignmentRule?[] _sdkRules;
    private readonly UserProfileFactory _profiles;
    private readonly DateOnly _periodStart;
    private readonly long _periodLastSecond;
    private readonly int[] _dayFactorIndexByDay;
    private readonly double[] _distinctDayFactors;

    public UserSimulator(DemoDataOptions options, IReadOnlyList<ExperimentDefinition> experiments, IReadOnlyList<ExperimentWindow> windows)
    {
        _seed = options.Seed;
        _experiments = experiments;
        _windows = windows;
        _eligibilityKeys = experiments.Select(experiment => StableHash.ScopeKey(_seed, experiment.Id, "eligibility")).ToArray();
        _assignmentKeys = experiments.Select(experiment => StableHash.ScopeKey(_seed, experiment.Id, "assignment")).ToArray();
        _faultKeys = experiments.Select(experiment => StableHash.ScopeKey(_seed, experiment.Id, "stale-variant-fault")).ToArray();
        _sdkRules = experiments.Select(experiment => experiment.Sdk is not { } sdk ? null : new MetricCompiler.Assignment.AssignmentRule(
            sdk.Seed, sdk.HashVersion, experiment.Variants.Select(v => v.Name).ToList(), experiment.Variants.Select(v => v.Weight).ToList(), 1.0, null,
            new Dictionary<string, string>())).ToArray();
        _profiles = new UserProfileFactory(options.PeriodStart, options.PeriodEnd);
        _periodStart = options.PeriodStart;
        _periodLastSecond = UtcTimestamp.EndOfDay(options.PeriodEnd);

        // Day factors take few distinct values, so each user needs only a handful of exp(-rate) for its Poisson draws.
        var dayFactors = Enumerable.Range(0, options.PeriodEnd.DayNumber - options.PeriodStart.DayNumber + 1)
            .Select(offset => ActivityCalendar.DayFactor(options.PeriodStart.AddDays(offset)))
            .ToArray();
        _distinctDayFactors = dayFactors.Distinct().ToArray();
        _dayFactorIndexByDay = dayFactors.Select(factor => Array.IndexOf(_distinctDayFactors, factor)).ToArray();
    }

    public UserTimeline Simulate(int userNumber)
    {
        var random = Xoshiro256StarStar.ForStream(_seed, "user-behaviour", (ulong)userNumber);
        var profile = _profiles.Create(userNumber, random);
        var timeline = new UserTimeline(profile, _experiments.Count);
        var participation = Participation(userNumber);
        var hasSignedUp = false;
        var previousSessionEnd = long.MinValue / 2;
        foreach (var plannedStart in PlanSessionStarts(profile, random))
        {
            var start = Math.Max(plannedStart, previousSessionEnd + MinSecondsBetweenSessions);
            if (start > _periodLastSecond)
            {
                break;
            }

            LogExposures(timeline, participation, start, random);
            previousSessionEnd = SimulateSession(timeline, start, random, ref hasSignedUp);
        }

        return timeline;
    }

    /// <summary>
    /// Per experiment, the variant index the user is assigned to, or <see cref="NotEligible"/>. Eligibility (taking part
    /// when active in the window) and assignment (against the variant weights) are stable hashes of (seed, experiment, user).
    /// </summary>
    private int[] Participation(int userNumber)
    {
        var participation = new int[_experiments.Count];
        for (var e = 0; e < _experiments.Count; e++)
        {
            var experiment = _experiments[e];
            var isEligible = StableHash.Unit(_eligibilityKeys[e], (ulong)userNumber) < experiment.ExposedShareOfActiveUsers;
            participation[e] = !isEligible ? NotEligible
                : _sdkRules[e] is { } rule ? IndexOf(experiment, MetricCompiler.Assignment.Assigner.Assign(rule, UserProfileFactory.FormatUserId(userNumber)).Variant!)
                : AssignVariant(experiment, StableHash.Unit(_assignmentKeys[e], (ulong)userNumber));
        }

        return participation;
    }

    private static int IndexOf(ExperimentDefinition experiment, string variant) =>
        experiment.Variants.Select((v, i) => (v, i)).First(p => p.v.Name == variant).i;

    private static int AssignVariant(ExperimentDefinition experiment, double u)
    {
        var totalWeight = experiment.Variants.Sum(variant => variant.Weight);
        var cumulative = 0.0;
        for (var i = 0; i < experiment.Variants.Count - 1; i++)
        {
            cumulative += experiment.Variants[i].Weight / totalWeight;
            if (u < cumulative)
            {
                return i;
            }
        }

        return experiment.Variants.Count - 1;
    }

    /// <summary>Session starts: the sign-up visit, then a Poisson number per day (rate x day factor) at diurnal times.</summary>
    private List<long> PlanSessionStarts(UserProfile profile, Xoshiro256StarStar random)
    {
        var expOfNegativeRate = new double[_distinctDayFactors.Length];
        for (var i = 0; i < expOfNegativeRate.Length; i++)
        {
            expOfNegativeRate[i] = PortableMath.Exp(-profile.SessionsPerDay * _distinctDayFactors[i]);
        }

        var starts = new List<long> { profile.SignupAt };
        var firstDayOffset = UtcTimestamp.DayOf(profile.SignupAt).DayNumber - _periodStart.DayNumber;
        for (var offset = firstDayOffset; offset < _dayFactorIndexByDay.Length; offset++)
        {
            var sessions = random.NextPoissonWithLimit(expOfNegativeRate[_dayFactorIndexByDay[offset]]);
            var dayStart = UtcTimestamp.StartOfDay(_periodStart.AddDays(offset));
            for (var i = 0; i < sessions; i++)
            {
                var start = dayStart + ActivityCalendar.SampleSecondOfDay(random);
                if (start > profile.SignupAt)
                {
                    starts.Add(start);
                }
            }
        }

        starts.Sort();
        return starts;
    }

    /// <summary>The first visit in a window exposes an eligible user; later visits in the window log repeat exposures.</summary>
    private void LogExposures(UserTimeline timeline, int[] participation, long sessionStart, Xoshiro256StarStar random)
    {
        for (var e = 0; e < _experiments.Count; e++)
        {
            var window = _windows[e];
            var variantIndex = participation[e];
            if (variantIndex == NotEligible || !window.Contains(sessionStart) || sessionStart + MaxExposureDelaySeconds > window.LastSecond)
            {
                continue;
            }

            var variant = _experiments[e].Variants[variantIndex].Name;
            if (timeline.Exposures.FirstExposureIn(e) is null)
            {
                var exposedAt = sessionStart + 1 + random.NextInt(MaxExposureDelaySeconds);
                if (_experiments[e].Sdk?.Fault is { } fault && variant == fault.Assigned && UtcTimestamp.DayOf(exposedAt) is var day
                    && day >= fault.From && day <= fault.To && StableHash.Unit(_faultKeys[e], (ulong)timeline.Profile.UserNumber) < fault.Share)
                {
                    variantIndex = participation[e] = IndexOf(_experiments[e], fault.Served);
                    variant = fault.Served;
                }

                timeline.Exposures.RecordFirstExposure(e, new FirstExposure(exposedAt, variantIndex), variant);
            }
            else if (random.NextBernoulli(_experiments[e].RepeatExposureProbability))
            {
                var exposedAt = sessionStart + 1 + random.NextInt(MaxExposureDelaySeconds);
                timeline.Exposures.AddRow(new GeneratedExposure(exposedAt, e, variant));
            }
        }
    }

    /// <summary>
    /// A session: a landing page view, more page views (each may raise an error and draw a click), then possibly a
    /// sign-up and a purchase. Returns the time the session ended.
    /// </summary>
    private long SimulateSession(UserTimeline timeline, long start, Xoshiro256StarStar random, ref bool hasSignedUp)
    {
        var profile = timeline.Profile;
        var t = start;
        var page = PageCatalog.LandingPage.Sample(random);
        for (var pageViews = 1; ; pageViews++)
        {
            var loadMultiplier = EffectMultiplier(timeline, t, static effect => effect.PageLoadMultiplier);
            var loadMs = Math.Round(page.MedianLoadMs * profile.PageLoadMultiplier * loadMultiplier * random.NextLogNormal(0.0, PageLoadSigma), 1);
            if (!TryAppend(timeline, new GeneratedEvent(t, EventType.PageView, page.Path, loadMs, null), random))
            {
                return t;
            }

            t += 1 + (long)(loadMs / 1000.0);
            var errorProbability = profile.ErrorProbabilityPerPageView * EffectMultiplier(timeline, t, static effect => effect.ErrorMultiplier);
            if (random.NextBernoulli(errorProbability))
            {
                if (!TryAppend(timeline, new GeneratedEvent(t, EventType.Error, page.Path, null, null), random))
                {
                    return t;
                }

                t += 1 + random.NextInt(4);
            }

            var dwell = Math.Min(MaxDwellSeconds, 4 + (long)random.NextExponential(MeanDwellSeconds));
            var clickAt = t + 1 + random.NextInt((int)dwell - 2);
            var clickProbability = profile.ClickProbability * EffectMultiplier(timeline, clickAt, static effect => effect.ClickMultiplier);
            if (random.NextBernoulli(clickProbability) &&
                !TryAppend(timeline, new GeneratedEvent(clickAt, EventType.Click, page.Path, null, null), random))
            {
                return clickAt;
            }

            t += dwell;
            if (pageViews >= MaxPageViewsPerSession || !random.NextBernoulli(profile.PageContinuationProbability))
            {
                break;
            }

            page = PageCatalog.NextPage.Sample(random);
        }

        if (!hasSignedUp)
        {
            var signUpProbability = profile.SignUpProbabilityPerSession * EffectMultiplier(timeline, t, static effect => effect.SignUpMultiplier);
            if (random.NextBernoulli(signUpProbability))
            {
                if (!TryAppend(timeline, new GeneratedEvent(t, EventType.SignUp, null, null, null), random))
                {
                    return t;
                }

                hasSignedUp = true;
                t += 5 + random.NextInt(40);
            }
        }

        var purchaseAt = t + 10 + random.NextInt(110);
        var purchaseProbability = profile.PurchaseProbabilityPerSession * EffectMultiplier(timeline, purchaseAt, static effect => effect.PurchaseMultiplier);
        if (random.NextBernoulli(purchaseProbability))
        {
            var revenue = Math.Max(1.0, Math.Round(random.NextLogNormalWithMean(MeanRevenuePerPurchase * profile.RevenueMultiplier, RevenueSigma), 2));
            TryAppend(timeline, new GeneratedEvent(purchaseAt, EventType.Purchase, null, null, revenue), random);
            return purchaseAt;
        }

        return t;
    }

    /// <summary>Appends an event unless it falls after the period; occasionally appends an exact duplicate delivery.</summary>
    private bool TryAppend(UserTimeline timeline, GeneratedEvent generatedEvent, Xoshiro256StarStar random)
    {
        if (generatedEvent.OccurredAt > _periodLastSecond)
        {
            return false;
        }

        timeline.Events.Add(generatedEvent);
        if (random.NextBernoulli(DuplicateEventProbability))
        {
            timeline.Events.Add(generatedEvent with { RepeatsPrevious = true });
        }

        return true;
    }

    /// <summary>Product of the variant effects acting on an event at <paramref name="at"/>: from the first exposure to the window's end.</summary>
    private double EffectMultiplier(UserTimeline timeline, long at, Func<VariantEffect, double> select)
    {
        var multiplier = 1.0;
        for (var e = 0; e < _experiments.Count; e++)
        {
            if (timeline.Exposures.FirstExposureIn(e) is { } first && at >= first.ExposedAt && at <= _windows[e].LastSecond)
            {
                multiplier *= select(_experiments[e].Variants[first.VariantIndex].Effect);
            }
        }

        return multiplier;
    }
}
