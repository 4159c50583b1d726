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

/// <summary>Everything one user does over the period, in time order: events, and the exposure log kept separately.</summary>
internal sealed class UserTimeline
{
    public UserTimeline(UserProfile profile, int experimentCount)
    {
        Profile = profile;
        Exposures = new ExposureLog(profile.UserId, experimentCount);
    }

    public UserProfile Profile { get; }

    public List<GeneratedEvent> Events { get; } = [];

    /// <summary>Outlives the events: it is completed (faults planted) only after every user has been simulated.</summary>
    public ExposureLog Exposures { get; }
}

/// <summary>One user's exposure rows across experiments, ordered by (time, experiment, variant), and the first exposure per experiment.</summary>
internal sealed class ExposureLog
{
    private readonly List<GeneratedExposure> _rows = [];
    private readonly FirstExposure?[] _firstExposures;

    public ExposureLog(string userId, int experimentCount)
    {
        UserId = userId;
        _firstExposures = new FirstExposure?[experimentCount];
    }

    public string UserId { get; }

    public IReadOnlyList<GeneratedExposure> Rows => _rows;

    public FirstExposure? FirstExposureIn(int experimentIndex) => _firstExposures[experimentIndex];

    public void RecordFirstExposure(int experimentIndex, FirstExposure exposure, string variant)
    {
        if (_firstExposures[experimentIndex] is not null)
        {
            throw new InvalidOperationException($"{UserId} already has a first exposure in experiment #{experimentIndex}.");
        }

        _firstExposures[experimentIndex] = exposure;
        AddRow(new GeneratedExposure(exposure.ExposedAt, experimentIndex, variant));
    }

    /// <summary>Adds an exposure row in order; the comparison is total, so the order never depends on a sort's stability.</summary>
    public void AddRow(GeneratedExposure exposure)
    {
        var index = _rows.Count;
        while (index > 0 && Compare(_rows[index - 1], exposure) > 0)
        {
            index--;
        }

        _rows.Insert(index, exposure);
    }

    /// <summary>Number of experiments in which this user has exposure rows in more than one variant.</summary>
    public int MultiVariantExperimentCount() =>
        _rows.GroupBy(exposure => exposure.ExperimentIndex).Count(group => group.Select(exposure => exposure.Variant).Distinct().Count() > 1);

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
