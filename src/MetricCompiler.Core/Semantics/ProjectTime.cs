using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Core.Semantics;

/// <summary>
/// The project's time zone (<c>time_zone</c>, UTC by default). Stored instants are UTC; dates the YAML and the command
/// line name (experiment windows, query ranges) and the days metrics are grouped by are local dates of this zone.
/// </summary>
public sealed record ProjectTime(string ZoneId, TimeZoneInfo Zone, SourceLocation Location)
{
    public static ProjectTime Utc { get; } = new("UTC", TimeZoneInfo.Utc, SourceLocation.None);

    public bool IsUtc => Zone.Equals(TimeZoneInfo.Utc) || ZoneId is "UTC" or "Etc/UTC";

    /// <summary>The UTC instant at which a local date of the project's zone begins.</summary>
    public DateTime StartOfDayUtc(DateOnly date)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        if (IsUtc)
            return local;
        // A day that starts inside a gap (a DST jump at midnight) starts at the first valid instant after it.
        while (Zone.IsInvalidTime(local))
            local = local.AddMinutes(15);
        return TimeZoneInfo.ConvertTimeToUtc(local, Zone);
    }
}
