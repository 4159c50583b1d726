using System.Globalization;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>One product event of the lifecycle tests (UTC time).</summary>
public sealed record LifecycleEvent(string Id, string User, string Type, DateTime At);

/// <summary>One exposure of the lifecycle tests' experiment.</summary>
public sealed record LifecycleExposure(string User, string Variant, DateTime At);

/// <summary>
/// Rows shared by the conversion and activation tests: hand-made users for each edge case, seeded random users for
/// breadth, a users table (one user without any event) and exposures to one experiment, with the calendar helpers the
/// plain C# references use.
/// </summary>
public static class LifecycleEvents
{
    public static readonly DateTime ExperimentStart = new(2026, 1, 5);

    /// <summary>The first instant after the experiment window (end 2026-01-25, inclusive).</summary>
    public static readonly DateTime ExperimentEnd = new(2026, 1, 26);

    public static readonly string[] Types = ["sign_up", "page_view", "click", "purchase"];

    public static DateTime T(string text) => DateTime.ParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Seeded random users u01..u24 with 0-14 events each in January and February 2026.</summary>
    public static List<LifecycleEvent> Random(int seed)
    {
        var random = new Random(seed);
        var events = new List<LifecycleEvent>();
        for (var u = 1; u <= 24; u++)
        {
            var count = random.Next(0, 15);
            for (var k = 0; k < count; k++)
            {
                var at = new DateTime(2026, 1, 1).AddMinutes(random.Next(0, 58 * 24 * 60));
                var type = Types[random.Next(0, random.Next(0, 3) == 0 ? 1 : Types.Length)];
                events.Add(new LifecycleEvent($"r{u:00}_{k:00}", $"u{u:00}", type, at));
            }
        }

        return events;
    }

    /// <summary>Exposures of every other random user, and of the given users, to experiment `trial`.</summary>
    public static List<LifecycleExposure> Exposures(int seed, params LifecycleExposure[] extra)
    {
        var random = new Random(seed);
        var exposures = new List<LifecycleExposure>(extra);
        for (var u = 1; u <= 24; u += 2)
        {
            var at = ExperimentStart.AddMinutes(random.Next(0, 20 * 24 * 60));
            var variant = random.Next(0, 2) == 0 ? "control" : "treatment";
            exposures.Add(new LifecycleExposure($"u{u:00}", variant, at));
            exposures.Add(new LifecycleExposure($"u{u:00}", variant, at.AddHours(30))); // a repeat: the first one counts
        }

        return exposures;
    }

    public static RawTable[] Tables(IReadOnlyList<LifecycleEvent> events, IReadOnlyList<LifecycleExposure> exposures)
    {
        var users = events.Select(e => e.User).Concat(exposures.Select(x => x.User)).Append("no_events").Distinct().Order(StringComparer.Ordinal).ToList();
        return
        [
            new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at")],
                events.Select(e => new object?[] { e.Id, e.User, e.Type, Text(e.At) }).ToList()),
            new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at"), EngineProject.Text("country")],
                users.Select((u, i) => new object?[] { u, "2025-12-01 00:00:00", i % 2 == 0 ? "DE" : "US" }).ToList()),
            new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")],
                exposures.Select(x => new object?[] { x.User, x.Variant, Text(x.At) }).ToList()),
        ];
    }

    public const string Sources = """
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
          - name: users
            table: raw_users
            entity: user_id
            event_time: signup_at
            unique_key: user_id
            columns:
              - {name: user_id, type: string}
              - {name: signup_at, type: timestamp}
              - {name: country, type: string}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}

        """;

    /// <summary>Experiment `trial` over the exposures, 2026-01-05..2026-01-25, without CUPED.</summary>
    public static string Experiment(string primary, string secondary) => $$"""
        experiments:
          - id: trial
            exposure: {source: exposures, variant_column: variant}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-25
            metrics:
              primary: [{{primary}}]
              secondary: [{{secondary}}]
            analysis:
              cuped: {enabled: false}

        """;

    public static string Text(DateTime at) => at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static DateOnly Day(DateTime at) => DateOnly.FromDateTime(at);

    public static DateOnly Week(DateOnly day) => day.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    public static DateOnly Month(DateOnly day) => new(day.Year, day.Month, 1);

    public static IEnumerable<DateOnly> Days(DateOnly from, DateOnly through)
    {
        for (var d = from; d <= through; d = d.AddDays(1))
            yield return d;
    }

    /// <summary>Each analysed unit's first exposure inside the window (units that saw one variant only).</summary>
    public static Dictionary<string, DateTime> FirstExposures(IReadOnlyList<LifecycleExposure> exposures) =>
        exposures.Where(x => x.At >= ExperimentStart && x.At < ExperimentEnd)
            .GroupBy(x => x.User)
            .Where(g => g.Select(x => x.Variant).Distinct().Count() == 1)
            .ToDictionary(g => g.Key, g => g.Min(x => x.At));

    public static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
