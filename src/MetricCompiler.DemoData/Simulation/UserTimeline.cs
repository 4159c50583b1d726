namespace MetricCompiler.DemoData.Simulation;

internal enum EventType
{
    PageView,
    Click,
    SignUp,
    Purchase,
    Error,
}

internal static class EventTypeNames
{
    public static string ToText(EventType type) => type switch
    {
        EventType.PageView => "page_view",
        EventType.Click => "click",
        EventType.SignUp => "sign_up",
        EventType.Purchase => "purchase",
        EventType.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown event type."),
    };
}

/// <summary>One raw event. <see cref="RepeatsPrevious"/> marks a duplicate delivery: an exact copy of the event before it, same id.</summary>
internal readonly record struct GeneratedEvent(
    long OccurredAt,
    EventType Type,
    string? Page,
    double? PageLoadMs,
    double? Revenue,
    bool RepeatsPrevious = false);

/// <summary>One exposure log row.</summary>
internal readonly record struct GeneratedExposure(long ExposedAt, int ExperimentIndex, string Variant);

/// <summary>The exposure that counts: the user's first in an experiment.</summary>
internal sealed record FirstExposure(long ExposedAt, int VariantIndex);

/// <summary>Everything one user does over the period, in time order.</summary>
internal sealed class UserTimeline
{
    private readonly List<GeneratedExposure> _exposures = [];
    private readonly FirstExposure?[] _firstExposures;

    public UserTimeline(UserProfile profile, int experimentCount)
    {
        Profile = profile;
        _firstExposures = new FirstExposure?[experimentCount];
    }

    public UserProfile Profile { get; }

    public List<GeneratedEvent> Events { get; } = [];

    public IReadOnlyList<GeneratedExposure> Exposures => _exposures;

    public FirstExposure? FirstExposureIn(int experimentIndex) => _firstExposures[experimentIndex];

    public void RecordFirstExposure(int experimentIndex, FirstExposure exposure, string variant)
    {
        if (_firstExposures[experimentIndex] is not null)
        {
            throw new InvalidOperationException($"{Profile.UserId} already has a first exposure in experiment #{experimentIndex}.");
        }

        _firstExposures[experimentIndex] = exposure;
        AddExposureRow(new GeneratedExposure(exposure.ExposedAt, experimentIndex, variant));
    }

    /// <summary>Adds an exposure row, keeping rows ordered by (time, experiment, variant) so the order never depends on a sort's stability.</summary>
    public void AddExposureRow(GeneratedExposure exposure)
    {
        var index = _exposures.Count;
        while (index > 0 && Compare(_exposures[index - 1], exposure) > 0)
        {
            index--;
        }

        _exposures.Insert(index, exposure);
    }

    /// <summary>Number of experiments in which this user has exposure rows in more than one variant.</summary>
    public int MultiVariantExperimentCount() =>
        _exposures.GroupBy(exposure => exposure.ExperimentIndex).Count(group => group.Select(exposure => exposure.Variant).Distinct().Count() > 1);

    private static int Compare(GeneratedExposure left, GeneratedExposure right)
    {
        var byTime = left.ExposedAt.CompareTo(right.ExposedAt);
        if (byTime != 0)
        {
            return byTime;
        }

        var byExperiment = left.ExperimentIndex.CompareTo(right.ExperimentIndex);
        return byExperiment != 0 ? byExperiment : string.CompareOrdinal(left.Variant, right.Variant);
    }
}
