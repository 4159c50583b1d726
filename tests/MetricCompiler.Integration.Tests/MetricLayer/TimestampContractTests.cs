using System.Globalization;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// The timestamp contract (issue 9): a timestamp column read as text means the same UTC instant on every engine: ISO
/// 8601 with a space or `T`, fractions of a second kept, `Z`, an offset, or no zone (UTC); text that is no timestamp is
/// null (and the row leaves staging), never a failed run. .NET's own parser is the reference.
/// </summary>
public sealed class TimestampContractTests : IDisposable
{
    private static readonly string[] Texts =
    [
        "2026-01-05T12:00:00+02:00",   // PostgreSQL's timestamp cast used to drop the offset (12:00, not 10:00)
        "2026-01-05T12:00:00Z",
        "2026-01-05 12:00:00",
        "2026-01-05T23:30:00-01:30",   // the next UTC day
        "2026-01-05 08:00:00.250",     // SQLite's datetime() used to drop the fraction
        "2026-01-05T08:00:00.750Z",
        "2026-01-05T08:00:00.500+00:00",
        "2026-01-05",
        "not a time",
        "2026-01-05T25:00:00",
    ];

    /// <summary>One source read as the contract says, and two metrics on it.</summary>
    private const string Project = """
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: occurred_at, type: timestamp}
        metrics:
          - {name: events_count, source: events, agg: count}
          - {name: after_eight, source: events, agg: count, filter: "occurred_at >= '2026-01-05 08:00:00.500'"}
        """;

    private readonly EngineProject _project = new(Project,
        new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("occurred_at")],
            Texts.Select((t, i) => new object?[] { $"e{i:D2}", "u1", t }).ToList()));

    /// <summary>The reference: the instant .NET reads (no zone means UTC), or null when it reads none.</summary>
    private static string? Expected(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)
            : null;

    [Fact]
    public void Every_engine_reads_the_same_instants()
    {
        var expected = Texts.Select((t, i) => (Id: $"e{i:D2}", At: Expected(t))).Where(e => e.At is not null).ToList();
        Assert.Equal(8, expected.Count);
        foreach (var engine in EngineProject.Engines)
        {
            _project.Build(engine, "stg_events");
            var rows = _project.Rows(engine, "select event_id, occurred_at from stg_events order by event_id");
            Assert.Equal(expected.Select(e => $"{e.Id} {e.At}"), rows.Select(r => $"{r["event_id"]} {Instant(r["occurred_at"])}"));

            // Comparisons keep the fraction: 08:00:00.250 is before 08:00:00.500; .500, .750, 10:00 and both 12:00 are not.
            var counts = _project.Query(engine, new MetricQuery(["events_count", "after_eight"], ["metric_time"]));
            Assert.Equal(["2026-01-05", "2026-01-06"], EngineProject.Keys(counts, "metric_time__day").Select(k => k![..10]));
            EngineProject.Close([7, 1], EngineProject.Column(counts, "events_count"), $"{engine} events per day");
            EngineProject.Close([5, 1], EngineProject.Column(counts, "after_eight"), $"{engine} events at or after 08:00:00.500");
        }
    }

    /// <summary>
    /// A raw table whose time column is a native timestamp (as a loader writes one): staged as the same instants on every
    /// engine (DuckDB takes it as it is instead of parsing its text; fractions of a second kept).
    /// </summary>
    [Fact]
    public void A_native_timestamp_column_is_staged_as_it_is()
    {
        DateTime[] instants = [new(2026, 1, 5, 12, 0, 0), new(2026, 1, 5, 8, 0, 0, 250), new(2026, 1, 6, 0, 0, 0), new(2025, 12, 31, 23, 59, 59)];
        using var project = new EngineProject(Project,
            new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), new("occurred_at", Sql.Model.SqlType.Timestamp)],
                instants.Select((t, i) => new object?[] { $"e{i:D2}", "u1", t }).ToList()));
        foreach (var engine in EngineProject.Engines)
        {
            project.Build(engine, "stg_events");
            var rows = project.Rows(engine, "select event_id, occurred_at from stg_events order by event_id");
            Assert.Equal(instants.Select((t, i) => $"e{i:D2} {t:yyyy-MM-dd HH:mm:ss.fff}"), rows.Select(r => $"{r["event_id"]} {Instant(r["occurred_at"])}"));
        }
    }

    /// <summary>An instant as an engine returns it (DateTime, or SQLite's text) in one spelling.</summary>
    private static string Instant(object? value) => value switch
    {
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        string s => DateTime.Parse(s, CultureInfo.InvariantCulture).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        _ => $"unexpected {value?.GetType().Name ?? "null"}",
    };

    public void Dispose() => _project.Dispose();
}
