using System.Globalization;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Duplicate removal keeps the same copy on every engine (issue 9): copies of an event id are ordered by event time,
/// then by every other column with nulls last, written out in the SQL, so a copy whose column is NULL loses to one
/// that has a value whatever the engine's default NULL order. The reference is that order applied in C#.
/// </summary>
public sealed class DuplicateOrderTests : IDisposable
{
    private static readonly (string Id, string User, string At, string? Page, double? Load)[] Rows =
    [
        ("e1", "u1", "2026-01-05 10:00:00", null, 100),
        ("e1", "u1", "2026-01-05 10:00:00", "home", 200),
        ("e2", "u1", "2026-01-05 11:00:00", "cart", null),
        ("e2", "u1", "2026-01-05 11:00:00", "cart", 50),
        ("e3", "u2", "2026-01-05 12:00:00", "home", 10),
        ("e3", "u2", "2026-01-05 11:59:00", null, null),
    ];

    private readonly EngineProject _project = new("""
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
              - {name: page, type: string}
              - {name: load_ms, type: number}
        metrics:
          - {name: events_count, source: events, agg: count}
        """,
        new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("occurred_at"), EngineProject.Text("page"), EngineProject.Number("load_ms")],
            Rows.Select(r => new object?[] { r.Id, r.User, r.At, r.Page, r.Load }).ToList()));

    [Fact]
    public void Every_engine_keeps_the_same_copy_of_a_duplicate()
    {
        // The reference: earliest time, then each other column in declaration order with nulls last.
        var expected = Rows.GroupBy(r => r.Id)
            .Select(g => g.OrderBy(r => r.At, StringComparer.Ordinal).ThenBy(r => r.User, StringComparer.Ordinal)
                .ThenBy(r => r.Page is null).ThenBy(r => r.Page, StringComparer.Ordinal)
                .ThenBy(r => r.Load is null).ThenBy(r => r.Load).First())
            .OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => $"{r.Id} {r.Page ?? "null"} {r.Load?.ToString(CultureInfo.InvariantCulture) ?? "null"}")
            .ToList();
        Assert.Equal(["e1 home 200", "e2 cart 50", "e3 null null"], expected);
        foreach (var engine in EngineProject.Engines)
        {
            _project.Build(engine, "stg_events");
            var kept = _project.Rows(engine, "select event_id, page, load_ms from stg_events order by event_id")
                .Select(r => $"{r["event_id"]} {r["page"] ?? "null"} {(r["load_ms"] is null ? "null" : Convert.ToDouble(r["load_ms"], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture))}")
                .ToList();
            Assert.Equal(expected, kept);
        }
    }

    public void Dispose() => _project.Dispose();
}
