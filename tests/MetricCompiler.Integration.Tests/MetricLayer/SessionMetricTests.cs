using System.Globalization;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// <c>type: sessions</c> on every engine against a plain sessionization of the same rows: a gap of exactly 30 minutes
/// (a new session), gaps just under it (fractions of a second kept), rows at the same instant, single-row sessions
/// (bounces), a session across midnight (bucketed by its start), a session id column, and, in an experiment, sessions
/// from first exposure on, with an exposed unit that has no events at all.
/// </summary>
public sealed class SessionMetricTests : IClassFixture<SessionMetricTests.Data>
{
    public sealed record Event(string Id, string User, DateTime At, string? SessionId);

    public sealed record Session(string User, DateTime Start, int Events, double Seconds);

    private static readonly DateTime WindowEnd = new(2026, 3, 11);

    /// <summary>First exposures (all in `control` but u2 and u3).</summary>
    private static readonly Dictionary<string, (string Variant, DateTime At)> Exposed = new()
    {
        ["u1"] = ("control", new DateTime(2026, 3, 1, 9, 0, 0)),
        ["u2"] = ("treatment", new DateTime(2026, 3, 1, 10, 15, 0)),   // after u2's first session started
        ["u3"] = ("treatment", new DateTime(2026, 3, 1, 9, 0, 0)),
        ["u4"] = ("control", new DateTime(2026, 3, 1, 9, 0, 0)),       // no events at all
    };

    public sealed class Data : IDisposable
    {
        public IReadOnlyList<Event> Events { get; }

        public EngineProject Project { get; }

        public Data()
        {
            var id = 0;
            Event E(string user, string at, string? session = null) =>
                new($"e{++id:D3}", user, DateTime.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), session);
            Events =
            [
                E("u1", "2026-03-02 10:00:00", "s1"), E("u1", "2026-03-02 10:10:00", "s1"),
                E("u1", "2026-03-02 10:40:00", "s1"), E("u1", "2026-03-02 10:41:00", "s2"),   // exactly 30 minutes: a new session
                E("u1", "2026-03-02 12:00:00"),                                              // a single-row session
                E("u2", "2026-03-01 10:00:00"),                                              // before u2's exposure
                E("u2", "2026-03-02 10:00:00"), E("u2", "2026-03-02 10:29:59.500"),          // 29:59.5 later: the same session
                E("u2", "2026-03-02 10:59:59"), E("u2", "2026-03-02 11:30:00"),              // 30:01 later: a new one
                E("u2", "2026-03-02 11:30:00"),                                              // the same instant: the same session
                E("u3", "2026-03-02 23:50:00"), E("u3", "2026-03-03 00:10:00"),              // across midnight: day of its start
                E("u5", "2026-03-03 08:00:00"),
            ];
            Project = new EngineProject("""
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
                      - {name: session_id, type: string}
                  - name: exposures
                    table: raw_exposures
                    entity: user_id
                    event_time: exposed_at
                    columns:
                      - {name: user_id, type: string}
                      - {name: variant, type: string}
                      - {name: exposed_at, type: timestamp}
                metrics:
                  - {name: sessions_per_user, type: sessions, source: events, measure: count}
                  - {name: session_seconds, type: sessions, source: events, measure: duration, gap: 30 minutes}
                  - {name: events_per_session, type: sessions, source: events, measure: events_per_session}
                  - {name: bounce_rate, type: sessions, source: events, measure: bounce_rate}
                  - {name: tagged_sessions, type: sessions, source: events, measure: count, session_id: session_id}
                experiments:
                  - id: sessions_test
                    exposure: {source: exposures, variant_column: variant}
                    variants:
                      - {name: control, weight: 0.5, control: true}
                      - {name: treatment, weight: 0.5}
                    start: 2026-03-01
                    end: 2026-03-10
                    metrics:
                      primary: [sessions_per_user]
                      secondary: [bounce_rate]
                """,
                new RawTable("raw_events",
                    [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("occurred_at"), EngineProject.Text("session_id")],
                    Events.Select(e => new object?[] { e.Id, e.User, e.At.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), e.SessionId }).ToList()),
                new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")],
                    Exposed.Select(x => new object?[] { x.Key, x.Value.Variant, x.Value.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) }).ToList()));
            foreach (var engine in EngineProject.Engines)
                Project.Build(engine);
        }

        public void Dispose() => Project.Dispose();
    }

    private readonly Data _data;

    public SessionMetricTests(Data data) => _data = data;

    public static TheoryData<string> Engines => [.. EngineProject.Engines];

    /// <summary>The reference sessionization: per user in time order, a row 30 minutes or more after the previous starts a session.</summary>
    private static List<Session> ByGap(IEnumerable<Event> events)
    {
        var sessions = new List<Session>();
        foreach (var user in events.GroupBy(e => e.User))
        {
            var rows = user.OrderBy(e => e.At).ToList();
            var start = 0;
            for (var i = 1; i <= rows.Count; i++)
            {
                if (i < rows.Count && (rows[i].At - rows[i - 1].At).TotalSeconds < 30 * 60)
                    continue;
                sessions.Add(new Session(user.Key, rows[start].At, i - start, (rows[i - 1].At - rows[start].At).TotalSeconds));
                start = i;
            }
        }

        return sessions;
    }

    private static List<Session> ById(IEnumerable<Event> events) =>
        events.Where(e => e.SessionId is not null).GroupBy(e => (e.User, e.SessionId))
            .Select(g => new Session(g.Key.User, g.Min(e => e.At), g.Count(), (g.Max(e => e.At) - g.Min(e => e.At)).TotalSeconds)).ToList();

    [Fact]
    public void The_reference_sees_the_edge_cases()
    {
        var sessions = ByGap(_data.Events);
        Assert.Equal(3, sessions.Count(s => s.User == "u1"));       // 10:00-10:10, 10:40-10:41 (a 30-minute gap), 12:00
        Assert.Equal(3, sessions.Count(s => s.User == "u2"));       // 03-01 10:00, 10:00-10:59:59, 11:30 twice
        Assert.Contains(sessions, s => s is { User: "u2", Events: 3, Seconds: 3599 });
        Assert.Contains(sessions, s => s is { User: "u2", Events: 2, Seconds: 0 });
        Assert.Contains(sessions, s => s is { User: "u3", Events: 2, Seconds: 1200 });
        Assert.Equal(2, ById(_data.Events).Count);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Session_measures_per_day_match_a_plain_sessionization(string engine)
    {
        var sessions = ByGap(_data.Events);
        var tagged = ById(_data.Events);
        var days = new[] { "2026-03-01", "2026-03-02", "2026-03-03" };
        List<Session> On(List<Session> all, string day) => all.Where(s => s.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == day).ToList();
        double? PerUser(List<Session> s) => s.Count == 0 ? null : s.Count / (double)s.Select(x => x.User).Distinct().Count();
        double? Mean(List<Session> s, Func<Session, double> value) => s.Count == 0 ? null : s.Average(value);

        var result = _data.Project.Query(engine, new MetricQuery(
            ["sessions_per_user", "session_seconds", "events_per_session", "bounce_rate", "tagged_sessions"], ["metric_time"]));
        Assert.Equal(days, EngineProject.Keys(result, "metric_time__day").Select(k => k![..10]));
        EngineProject.Close(days.Select(d => PerUser(On(sessions, d))).ToList(), EngineProject.Column(result, "sessions_per_user"), $"{engine} sessions per user");
        EngineProject.Close(days.Select(d => Mean(On(sessions, d), s => s.Seconds)).ToList(), EngineProject.Column(result, "session_seconds"), $"{engine} session seconds");
        EngineProject.Close(days.Select(d => Mean(On(sessions, d), s => s.Events)).ToList(), EngineProject.Column(result, "events_per_session"), $"{engine} events per session");
        EngineProject.Close(days.Select(d => Mean(On(sessions, d), s => s.Events == 1 ? 1 : 0)).ToList(), EngineProject.Column(result, "bounce_rate"), $"{engine} bounce rate");
        EngineProject.Close(days.Select(d => PerUser(On(tagged, d))).ToList(), EngineProject.Column(result, "tagged_sessions"), $"{engine} sessions by id");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Per_unit_sessions_count_from_first_exposure(string engine)
    {
        var sessions = ByGap(_data.Events);
        var rows = _data.Project.Rows(engine, "select * from exp_sessions_test__unit_metrics order by unit_id");
        Assert.Equal(Exposed.Keys.Order(StringComparer.Ordinal), rows.Select(r => r["unit_id"]!.ToString()));
        foreach (var row in rows)
        {
            var unit = row["unit_id"]!.ToString()!;
            var counted = sessions.Where(s => s.User == unit && s.Start >= Exposed[unit].At && s.Start < WindowEnd).ToList();
            Assert.Equal((double)counted.Count, Convert.ToDouble(row["sessions_per_user"], CultureInfo.InvariantCulture));
            Assert.Equal((double)counted.Count, Convert.ToDouble(row["bounce_rate__sessions"], CultureInfo.InvariantCulture));
            Assert.Equal((double)counted.Count(s => s.Events == 1), Convert.ToDouble(row["bounce_rate__bounced"], CultureInfo.InvariantCulture));
        }

        Assert.Equal(0.0, Convert.ToDouble(rows.Single(r => r["unit_id"]!.ToString() == "u4")["sessions_per_user"], CultureInfo.InvariantCulture));
    }
}
