using System.Globalization;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// <c>type: retention</c> at the day grain on every engine, against a plain computation over the same rows: a return
/// exactly on day N, a return on day N-1 only, a return less than 24 hours later on the next day, incomplete cohorts
/// (left out, not counted as not retained), a sign-up cohort, a return filter, and day numbers counted in
/// Europe/Berlin across the 2026-03-29 daylight-saving change.
/// </summary>
public sealed class RetentionMetricTests : IClassFixture<RetentionMetricTests.Data>
{
    public sealed record Event(string Id, string User, string Type, DateTime At);

    /// <summary>A retention metric as the reference reads it: days, and which rows start a cohort and count as a return.</summary>
    public sealed record Definition(string Name, int FirstDay, int LastDay, Func<Event, bool> Cohort, Func<Event, bool> Return);

    public static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static readonly Definition[] Metrics =
    [
        new("d1", 1, 1, _ => true, _ => true),
        new("d3", 3, 3, _ => true, _ => true),
        new("days_1_3", 1, 3, _ => true, _ => true),
        new("signup_d1", 1, 1, e => e.Type == "sign_up", _ => true),
        new("d1_purchase", 1, 1, _ => true, e => e.Type == "purchase"),
    ];

    public sealed class Data : IDisposable
    {
        public IReadOnlyList<Event> Events { get; }

        public EngineProject Utc { get; }

        public EngineProject Local { get; }

        public Data()
        {
            var id = 0;
            Event E(string user, string type, string at) =>
                new($"e{++id:D3}", user, type, DateTime.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal));
            Events =
            [
                E("u1", "page_view", "2026-03-01 10:00:00"), E("u1", "page_view", "2026-03-04 09:00:00"),   // back exactly on day 3
                E("u2", "page_view", "2026-03-01 23:59:00"), E("u2", "purchase", "2026-03-03 00:01:00"),    // day 2 only (N-1 for d3)
                E("u3", "page_view", "2026-03-01 08:00:00"), E("u3", "purchase", "2026-03-02 07:00:00"),    // day 1, 23 hours later
                E("u4", "page_view", "2026-03-02 12:00:00"),                                                // never back
                E("u7", "page_view", "2026-03-05 10:00:00"), E("u7", "sign_up", "2026-03-10 10:00:00"), E("u7", "click", "2026-03-11 09:00:00"),
                // Across the DST change: 22:30 UTC on 03-28 is 23:30 CET (03-28); 22:15 UTC on 03-29 is 00:15 CEST on 03-30:
                // day 1 in UTC, day 2 in Berlin.
                E("u8", "page_view", "2026-03-28 22:30:00"), E("u8", "page_view", "2026-03-29 22:15:00"),
                // 23:30 UTC on 03-28 is 00:30 CET on 03-29; 22:30 UTC on 03-29 is 00:30 CEST on 03-30: day 1 in Berlin, 23 hours later.
                E("u9", "page_view", "2026-03-28 23:30:00"), E("u9", "page_view", "2026-03-29 22:30:00"),
                E("u5", "page_view", "2026-03-29 12:00:00"), E("u5", "page_view", "2026-03-30 12:00:00"),  // day 3 after the data ends
                E("u6", "page_view", "2026-03-30 09:00:00"),                                                // the last date: no day 1 yet
            ];
            var tables = new[]
            {
                new RawTable("raw_events",
                    [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at")],
                    Events.Select(e => new object?[] { e.Id, e.User, e.Type, e.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) }).ToList()),
            };
            Utc = new EngineProject(Definitions(""), tables);
            Local = new EngineProject(Definitions("time_zone: Europe/Berlin\n"), tables);
            foreach (var project in new[] { Utc, Local })
                foreach (var engine in EngineProject.Engines)
                    project.Build(engine);
        }

        private static string Definitions(string time) => time + """
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
            metrics:
              - {name: d1, type: retention, source: events, return_on: day 1}
              - {name: d3, type: retention, source: events, return_on: day 3}
              - {name: days_1_3, type: retention, source: events, return_within: [1, 3]}
              - {name: signup_d1, type: retention, source: events, cohort_filter: "event_type = 'sign_up'", return_on: day 1}
              - {name: d1_purchase, type: retention, source: events, return_filter: "event_type = 'purchase'", return_on: 1}
            """;

        public void Dispose()
        {
            Utc.Dispose();
            Local.Dispose();
        }
    }

    private readonly Data _data;

    public RetentionMetricTests(Data data) => _data = data;

    public static TheoryData<string> Engines => [.. EngineProject.Engines];

    /// <summary>The reference: cohorts by local first-seen date, retained per day number, incomplete cohorts left out.</summary>
    private static (List<string> Days, Dictionary<string, List<double?>> Values) Expected(IReadOnlyList<Event> events, TimeZoneInfo zone)
    {
        DateOnly Local(DateTime utc) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, zone));
        var lastDate = events.Max(e => Local(e.At));
        var cohorts = Metrics.ToDictionary(m => m.Name, m => events.Where(m.Cohort).GroupBy(e => e.User)
            .Select(g => (User: g.Key, Day: Local(g.Min(e => e.At))))
            .Select(c => (c.Day,
                Complete: c.Day.AddDays(m.LastDay) <= lastDate,
                Retained: events.Any(e => e.User == c.User && m.Return(e) && Local(e.At).DayNumber - c.Day.DayNumber is var n && n >= m.FirstDay && n <= m.LastDay)))
            .ToList());
        var first = cohorts.Values.SelectMany(c => c).Min(c => c.Day);
        var last = cohorts.Values.SelectMany(c => c).Max(c => c.Day);
        var days = Enumerable.Range(0, last.DayNumber - first.DayNumber + 1).Select(first.AddDays).ToList();
        var values = cohorts.ToDictionary(c => c.Key, c => days.Select(day =>
        {
            var complete = c.Value.Where(m => m.Day == day && m.Complete).ToList();
            return complete.Count == 0 ? (double?)null : complete.Count(m => m.Retained) / (double)complete.Count;
        }).ToList());
        return (days.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToList(), values);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Cohort_table_matches_a_plain_computation_in_utc(string engine) =>
        Check(_data.Utc, engine, TimeZoneInfo.Utc);

    [Theory]
    [MemberData(nameof(Engines))]
    public void Days_are_counted_in_the_project_time_zone_across_daylight_saving(string engine) =>
        Check(_data.Local, engine, Berlin);

    [Fact]
    public void The_reference_exercises_each_edge_case()
    {
        var (days, utc) = Expected(_data.Events, TimeZoneInfo.Utc);
        var (localDays, local) = Expected(_data.Events, Berlin);
        double? At(List<string> d, Dictionary<string, List<double?>> v, string metric, string day) => v[metric][d.IndexOf(day)];
        Assert.Equal(1 / 3.0, At(days, utc, "d1", "2026-03-01"));          // u3 back 23 hours later; u1 and u2 not on day 1
        Assert.Equal(1 / 3.0, At(days, utc, "d3", "2026-03-01"));          // u1 exactly on day 3; u2 on day 2 only
        Assert.Equal(1.0, At(days, utc, "days_1_3", "2026-03-01"));        // all three within days 1..3
        Assert.Equal(1 / 3.0, At(days, utc, "d1_purchase", "2026-03-01")); // only u3's return is a purchase
        Assert.Equal(1.0, At(days, utc, "signup_d1", "2026-03-10"));       // u7's cohort is its sign-up day
        Assert.Equal(0.0, At(days, utc, "d1", "2026-03-05"));
        Assert.Equal(1.0, At(days, utc, "d1", "2026-03-28"));              // u8 and u9 by UTC days
        Assert.Null(At(days, utc, "d3", "2026-03-29"));                    // u5: day 3 is after the data ends
        Assert.Null(At(days, utc, "d1", "2026-03-30"));                    // u6: the last date
        Assert.Equal(0.0, At(localDays, local, "d1", "2026-03-28"));       // u8: day 2 in Berlin
        Assert.Equal(1.0, At(localDays, local, "d1", "2026-03-29"));       // u9: day 1 in Berlin, 23 hours later; u5 too
    }

    private void Check(EngineProject project, string engine, TimeZoneInfo zone)
    {
        var (days, values) = Expected(_data.Events, zone);
        var result = project.Query(engine, new MetricQuery(Metrics.Select(m => m.Name).ToList(), ["metric_time"]));
        Assert.Equal(days, EngineProject.Keys(result, "metric_time__day").Select(k => k![..10]));
        foreach (var metric in Metrics)
            EngineProject.Close(values[metric.Name], EngineProject.Column(result, metric.Name), $"{engine} {zone.Id} {metric.Name}");
    }
}

/// <summary>
/// A retention metric per exposed unit on every engine: 1 when the unit has a row in the 24-hour days N..M counted from
/// its first exposure (bounds: exactly N days later counts, exactly M+1 days later does not), 0 otherwise, including a
/// unit without any events.
/// </summary>
public sealed class RetentionExperimentTests
{
    private static readonly Dictionary<string, DateTime> Exposed = new()
    {
        ["u1"] = new(2026, 3, 1, 12, 0, 0), ["u2"] = new(2026, 3, 1, 12, 0, 0), ["u3"] = new(2026, 3, 1, 12, 0, 0),
        ["u4"] = new(2026, 3, 1, 12, 0, 0), ["u5"] = new(2026, 3, 2, 8, 0, 0),
    };

    private static readonly (string User, DateTime At)[] Events =
    [
        ("u1", new(2026, 3, 2, 11, 59, 0)),   // 23:59 after exposure: day 0
        ("u2", new(2026, 3, 2, 12, 0, 0)),    // exactly 1 day after: day 1
        ("u3", new(2026, 3, 5, 12, 0, 0)),    // exactly 4 days after: after days 1..3
        ("u5", new(2026, 3, 1, 10, 0, 0)),    // before exposure
        ("u5", new(2026, 3, 4, 9, 0, 0)),     // day 2
    ];

    [Fact]
    public void Per_unit_retention_counts_days_from_first_exposure()
    {
        using var project = new EngineProject("""
            sources:
              - name: events
                table: raw_events
                entity: user_id
                event_time: occurred_at
                columns:
                  - {name: user_id, type: string}
                  - {name: occurred_at, type: timestamp}
              - name: exposures
                table: raw_exposures
                entity: user_id
                event_time: exposed_at
                columns:
                  - {name: user_id, type: string}
                  - {name: variant, type: string}
                  - {name: exposed_at, type: timestamp}
            metrics:
              - {name: d1, type: retention, source: events, return_on: day 1}
              - {name: days_1_3, type: retention, source: events, return_within: [1, 3]}
            experiments:
              - id: r
                exposure: {source: exposures, variant_column: variant}
                variants:
                  - {name: control, weight: 0.5, control: true}
                  - {name: treatment, weight: 0.5}
                start: 2026-03-01
                end: 2026-03-10
                metrics:
                  primary: [d1]
                  secondary: [days_1_3]
            """,
            new RawTable("raw_events", [EngineProject.Text("user_id"), EngineProject.Text("occurred_at")],
                Events.Select(e => new object?[] { e.User, e.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) }).ToList()),
            new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")],
                Exposed.Select((x, i) => new object?[] { x.Key, i % 2 == 0 ? "control" : "treatment", x.Value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) }).ToList()));
        double Expected(string unit, int from, int to) =>
            Events.Any(e => e.User == unit && e.At >= Exposed[unit].AddDays(from) && e.At < Exposed[unit].AddDays(to + 1)) ? 1 : 0;
        Assert.Equal([0.0, 1, 0, 0, 0], Exposed.Keys.Order(StringComparer.Ordinal).Select(u => Expected(u, 1, 1)));
        Assert.Equal([0.0, 1, 0, 0, 1], Exposed.Keys.Order(StringComparer.Ordinal).Select(u => Expected(u, 1, 3)));
        foreach (var engine in EngineProject.Engines)
        {
            project.Build(engine);
            var rows = project.Rows(engine, "select unit_id, d1, days_1_3 from exp_r__unit_metrics order by unit_id");
            Assert.Equal(Exposed.Keys.Order(StringComparer.Ordinal), rows.Select(r => r["unit_id"]!.ToString()));
            foreach (var row in rows)
            {
                var unit = row["unit_id"]!.ToString()!;
                Assert.True(Expected(unit, 1, 1) == Convert.ToDouble(row["d1"], CultureInfo.InvariantCulture), $"{engine} {unit} d1");
                Assert.True(Expected(unit, 1, 3) == Convert.ToDouble(row["days_1_3"], CultureInfo.InvariantCulture), $"{engine} {unit} days_1_3");
            }
        }
    }
}
