using System.Globalization;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Every metric type at a grain, on SQLite and PostgreSQL, against a plain computation over the same rows: zero-filled
/// days, a day without events, weeks and months in a non-UTC time zone across the daylight-saving change, dimension
/// joins, filters, offsets, cumulative windows, and a metric named after a reserved word.
/// </summary>
public sealed class MetricQueryCorrectnessTests : IClassFixture<MetricQueryCorrectnessTests.Data>
{
    /// <summary>One event: id, user, type, UTC time, revenue.</summary>
    public sealed record Event(string Id, string User, string Type, DateTime At, double? Revenue);

    public sealed class Data : IDisposable
    {
        public static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

        public IReadOnlyList<Event> Events { get; }

        public IReadOnlyDictionary<string, string> Country { get; } = new Dictionary<string, string>
        {
            ["u1"] = "DE", ["u2"] = "DE", ["u3"] = "US", ["u4"] = "US", ["u5"] = "FR", ["u6"] = "FR",
        };

        public EngineProject Utc { get; }

        public EngineProject Local { get; }

        public Data()
        {
            var events = new List<Event>();
            var random = new Random(20260329);
            var day = new DateTime(2026, 3, 16);
            var id = 0;
            for (var d = 0; d < 35; d++, day = day.AddDays(1))
            {
                if (d is 6 or 20)
                    continue; // days without any event
                foreach (var user in Country.Keys.Where((_, i) => (i + d) % 3 != 0))
                {
                    var count = random.Next(0, 4);
                    for (var k = 0; k < count; k++)
                    {
                        // Late evening UTC times land on the next local day in Berlin.
                        var at = day.AddMinutes(random.Next(0, 24 * 60));
                        var purchase = random.Next(0, 3) == 0;
                        events.Add(new Event($"e{++id}", user, purchase ? "purchase" : "page_view", at, purchase ? Math.Round(random.NextDouble() * 100, 2) : null));
                    }
                }
            }

            // Around the month boundary and the DST change (2026-03-29 02:00 local).
            events.Add(new Event($"e{++id}", "u1", "purchase", new DateTime(2026, 3, 31, 22, 30, 0), 10));   // 2026-04-01 00:30 in Berlin
            events.Add(new Event($"e{++id}", "u2", "purchase", new DateTime(2026, 3, 28, 23, 30, 0), 20));   // 2026-03-29 00:30 (CET)
            events.Add(new Event($"e{++id}", "u3", "purchase", new DateTime(2026, 3, 29, 22, 30, 0), 30));   // 2026-03-30 00:30 (CEST)
            Events = events;

            var tables = new[]
            {
                new RawTable("raw_events",
                    [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("event_type"), EngineProject.Text("occurred_at"), EngineProject.Number("revenue")],
                    events.Select(e => new object?[] { e.Id, e.User, e.Type, e.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), e.Revenue }).ToList()),
                new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at"), EngineProject.Text("country")],
                    Country.Select(c => new object?[] { c.Key, "2026-01-01 00:00:00", c.Value }).ToList()),
                new RawTable("raw_logins", [EngineProject.Text("user_id"), EngineProject.Text("logged_in_at"), EngineProject.Text("device")],
                    [["u1", "2026-03-20 10:00:00", "phone"], ["u1", "2026-03-21 10:00:00", "laptop"]]),
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
                  - {name: revenue, type: number}
              - name: users
                table: raw_users
                entity: user_id
                event_time: signup_at
                unique_key: user_id
                columns:
                  - {name: user_id, type: string}
                  - {name: signup_at, type: timestamp}
                  - {name: country, type: string}
              - name: logins
                table: raw_logins
                entity: user_id
                event_time: logged_in_at
                columns:
                  - {name: user_id, type: string}
                  - {name: logged_in_at, type: timestamp}
                  - {name: device, type: string}
            metrics:
              - {name: events_count, source: events, agg: count}
              - {name: purchases, source: events, agg: count, filter: "event_type = 'purchase'"}
              - {name: revenue, source: events, agg: sum, expr: revenue, filter: "event_type = 'purchase'"}
              - {name: active_users, source: events, agg: count_distinct, expr: user_id}
              - {name: average_order, source: events, agg: average, expr: revenue, filter: "event_type = 'purchase'"}
              - {name: smallest_order, source: events, agg: min, expr: revenue}
              - {name: largest_order, source: events, agg: max, expr: revenue}
              - {name: purchaser_share, source: events, agg: proportion, filter: "event_type = 'purchase'"}
              - {name: order_value, type: ratio, numerator: revenue, denominator: purchases}
              - name: revenue_change_7d
                type: derived
                expr: revenue - revenue_week_ago
                metrics:
                  - revenue
                  - {name: revenue, alias: revenue_week_ago, offset: 7 days}
              - name: revenue_previous_period
                type: derived
                expr: earlier
                metrics:
                  - {name: revenue, alias: earlier, offset: 1 period}
              - {name: wau, type: cumulative, metric: active_users, window: 7 days}
              - {name: revenue_mtd, type: cumulative, metric: revenue, grain_to_date: month}
              - {name: returning, source: events, agg: count, filter: "event_type = 'page_view'"}
            """;

        public void Dispose()
        {
            Utc.Dispose();
            Local.Dispose();
        }
    }

    private readonly Data _data;

    public MetricQueryCorrectnessTests(Data data) => _data = data;

    private static DateOnly LocalDay(DateTime utc, TimeZoneInfo? zone) =>
        DateOnly.FromDateTime(zone is null ? utc : TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), zone));

    private static DateOnly Week(DateOnly day) => day.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    private static DateOnly Month(DateOnly day) => new(day.Year, day.Month, 1);

    private static IEnumerable<DateOnly> Days(DateOnly from, DateOnly through)
    {
        for (var d = from; d <= through; d = d.AddDays(1))
            yield return d;
    }

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    [Theory]
    [MemberData(nameof(Engines))]
    public void Simple_aggregations_by_day_fill_days_without_events(string engine)
    {
        var start = new DateOnly(2026, 3, 18);
        var end = new DateOnly(2026, 4, 8);
        var result = _data.Utc.Query(engine, new MetricQuery(
            ["events_count", "purchases", "revenue", "active_users", "average_order", "smallest_order", "largest_order", "purchaser_share", "returning"],
            ["metric_time__day"], Start: start, End: end));

        var days = Days(start, end).ToList();
        Assert.Equal(days.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), EngineProject.Keys(result, "metric_time__day"));
        var byDay = days.Select(d => _data.Events.Where(e => LocalDay(e.At, null) == d).ToList()).ToList();
        var purchases = byDay.Select(rows => rows.Where(e => e.Type == "purchase").ToList()).ToList();
        EngineProject.Close(byDay.Select(r => (double?)r.Count).ToList(), EngineProject.Column(result, "events_count"), "events_count");
        EngineProject.Close(purchases.Select(r => (double?)r.Count).ToList(), EngineProject.Column(result, "purchases"), "purchases");
        EngineProject.Close(purchases.Select(r => (double?)r.Sum(e => e.Revenue!.Value)).ToList(), EngineProject.Column(result, "revenue"), "revenue");
        EngineProject.Close(byDay.Select(r => (double?)r.Select(e => e.User).Distinct().Count()).ToList(), EngineProject.Column(result, "active_users"), "active_users");
        EngineProject.Close(purchases.Select(r => r.Count == 0 ? null : (double?)r.Average(e => e.Revenue!.Value)).ToList(), EngineProject.Column(result, "average_order"), "average_order");
        EngineProject.Close(byDay.Select(r => r.Any(e => e.Revenue is not null) ? r.Where(e => e.Revenue is not null).Min(e => e.Revenue) : null).ToList(), EngineProject.Column(result, "smallest_order"), "smallest_order");
        EngineProject.Close(byDay.Select(r => r.Any(e => e.Revenue is not null) ? r.Where(e => e.Revenue is not null).Max(e => e.Revenue) : null).ToList(), EngineProject.Column(result, "largest_order"), "largest_order");
        EngineProject.Close(byDay.Select((r, i) => r.Count == 0 ? null : (double?)purchases[i].Select(e => e.User).Distinct().Count() / r.Select(e => e.User).Distinct().Count()).ToList(),
            EngineProject.Column(result, "purchaser_share"), "purchaser_share");
        EngineProject.Close(byDay.Select(r => (double?)r.Count(e => e.Type == "page_view")).ToList(), EngineProject.Column(result, "returning"), "returning (a reserved word)");
        Assert.Contains(0.0, EngineProject.Column(result, "events_count")); // the days without events are rows with 0
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Weeks_and_months_follow_the_project_time_zone_across_the_dst_change(string engine)
    {
        var start = new DateOnly(2026, 3, 23);
        var end = new DateOnly(2026, 4, 12);
        foreach (var (grain, bucket) in new (string, Func<DateOnly, DateOnly>)[] { ("week", Week), ("month", Month) })
        {
            var result = _data.Local.Query(engine, new MetricQuery(["revenue", "purchases"], [$"metric_time__{grain}"], Start: start, End: end));
            var rows = _data.Events.Where(e => e.Type == "purchase")
                .Select(e => (Day: LocalDay(e.At, Data.Berlin), e.Revenue!.Value))
                .Where(e => e.Day >= start && e.Day <= end)
                .ToList();
            var buckets = Days(start, end).Select(bucket).Distinct().ToList();
            Assert.Equal(buckets.Select(b => b.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), EngineProject.Keys(result, $"metric_time__{grain}"));
            EngineProject.Close(buckets.Select(b => (double?)rows.Where(r => bucket(r.Day) == b).Sum(r => r.Value)).ToList(), EngineProject.Column(result, "revenue"), $"revenue by {grain}");
            EngineProject.Close(buckets.Select(b => (double?)rows.Count(r => bucket(r.Day) == b)).ToList(), EngineProject.Column(result, "purchases"), $"purchases by {grain}");
        }

        // The purchase at 2026-03-31 22:30 UTC is on April 1 in Berlin, and one of April's purchases.
        var april = _data.Local.Query(engine, new MetricQuery(["purchases"], ["metric_time__day"], Start: new DateOnly(2026, 4, 1), End: new DateOnly(2026, 4, 1)));
        var utcApril = _data.Utc.Query(engine, new MetricQuery(["purchases"], ["metric_time__day"], Start: new DateOnly(2026, 4, 1), End: new DateOnly(2026, 4, 1)));
        Assert.Equal(_data.Events.Count(e => e.Type == "purchase" && LocalDay(e.At, Data.Berlin) == new DateOnly(2026, 4, 1)), (int)EngineProject.Column(april, "purchases")[0]!.Value);
        Assert.Equal(_data.Events.Count(e => e.Type == "purchase" && LocalDay(e.At, null) == new DateOnly(2026, 4, 1)), (int)EngineProject.Column(utcApril, "purchases")[0]!.Value);
        Assert.NotEqual(EngineProject.Column(april, "purchases")[0], EngineProject.Column(utcApril, "purchases")[0]);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_ratio_by_a_joined_dimension_with_a_filter(string engine)
    {
        var result = _data.Utc.Query(engine, new MetricQuery(["order_value", "revenue"], ["country"], Where: "country <> 'FR'"));
        Assert.Equal(["DE", "US"], EngineProject.Keys(result, "country"));
        var expected = new[] { "DE", "US" }.Select(c =>
        {
            var rows = _data.Events.Where(e => e.Type == "purchase" && _data.Country[e.User] == c).ToList();
            return ((double?)rows.Sum(e => e.Revenue!.Value) / rows.Count, (double?)rows.Sum(e => e.Revenue!.Value));
        }).ToList();
        EngineProject.Close(expected.Select(e => e.Item1).ToList(), EngineProject.Column(result, "order_value"), "order_value");
        EngineProject.Close(expected.Select(e => e.Item2).ToList(), EngineProject.Column(result, "revenue"), "revenue");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Offsets_compare_with_seven_days_and_one_period_earlier(string engine)
    {
        var start = new DateOnly(2026, 3, 25);
        var end = new DateOnly(2026, 4, 10);
        double Revenue(DateOnly from, DateOnly through) =>
            _data.Events.Where(e => e.Type == "purchase" && LocalDay(e.At, null) >= from && LocalDay(e.At, null) <= through).Sum(e => e.Revenue!.Value);

        var daily = _data.Utc.Query(engine, new MetricQuery(["revenue_change_7d"], ["metric_time__day"], Start: start, End: end));
        EngineProject.Close(Days(start, end).Select(d => (double?)(Revenue(d, d) - Revenue(d.AddDays(-7), d.AddDays(-7)))).ToList(),
            EngineProject.Column(daily, "revenue_change_7d"), "revenue - revenue 7 days earlier");

        var weekly = _data.Utc.Query(engine, new MetricQuery(["revenue_previous_period"], ["metric_time__week"], Start: new DateOnly(2026, 3, 30), End: new DateOnly(2026, 4, 12)));
        EngineProject.Close([Revenue(new DateOnly(2026, 3, 23), new DateOnly(2026, 3, 29)), Revenue(new DateOnly(2026, 3, 30), new DateOnly(2026, 4, 5))],
            EngineProject.Column(weekly, "revenue_previous_period"), "revenue one week earlier");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Cumulative_windows_are_read_over_a_spine_and_at_each_period_end(string engine)
    {
        var start = new DateOnly(2026, 3, 20);
        var end = new DateOnly(2026, 4, 9);
        int Active(DateOnly from, DateOnly through) =>
            _data.Events.Where(e => LocalDay(e.At, null) >= from && LocalDay(e.At, null) <= through).Select(e => e.User).Distinct().Count();
        double MonthToDate(DateOnly day) =>
            _data.Events.Where(e => e.Type == "purchase" && LocalDay(e.At, null) >= Month(day) && LocalDay(e.At, null) <= day).Sum(e => e.Revenue!.Value);

        var daily = _data.Utc.Query(engine, new MetricQuery(["wau", "revenue_mtd"], ["metric_time__day"], Start: start, End: end));
        EngineProject.Close(Days(start, end).Select(d => (double?)Active(d.AddDays(-6), d)).ToList(), EngineProject.Column(daily, "wau"), "wau by day");
        EngineProject.Close(Days(start, end).Select(d => (double?)MonthToDate(d)).ToList(), EngineProject.Column(daily, "revenue_mtd"), "month-to-date revenue");

        // At week grain the value is the one on the week's last day inside the range (the last week is partial).
        var weekly = _data.Utc.Query(engine, new MetricQuery(["wau"], ["metric_time__week"], Start: start, End: end));
        var weeks = Days(start, end).GroupBy(Week).Select(g => g.Max()).ToList();
        EngineProject.Close(weeks.Select(d => (double?)Active(d.AddDays(-6), d)).ToList(), EngineProject.Column(weekly, "wau"), "wau by week");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Totals_without_a_grain_cover_the_range(string engine)
    {
        var result = _data.Utc.Query(engine, new MetricQuery(["revenue", "active_users"], [], Start: new DateOnly(2026, 3, 20), End: new DateOnly(2026, 3, 31)));
        var rows = _data.Events.Where(e => LocalDay(e.At, null) >= new DateOnly(2026, 3, 20) && LocalDay(e.At, null) <= new DateOnly(2026, 3, 31)).ToList();
        EngineProject.Close([rows.Where(e => e.Type == "purchase").Sum(e => e.Revenue!.Value)], EngineProject.Column(result, "revenue"), "revenue");
        EngineProject.Close([rows.Select(e => e.User).Distinct().Count()], EngineProject.Column(result, "active_users"), "active_users");
    }

    [Fact]
    public void A_dimension_that_would_fan_out_is_refused_with_the_reason()
    {
        var error = Assert.Throws<QueryException>(() => QueryPlanner.Plan(_data.Utc.Project, new MetricQuery(["revenue"], ["device"])));
        Assert.Contains("`logins`, which may hold several rows per `user_id`", error.Message);
        Assert.Contains("declare `unique_key: user_id`", error.Message);
    }

    [Fact]
    public void Unknown_names_are_refused_with_a_suggestion()
    {
        Assert.Contains("did you mean `revenue`?", Assert.Throws<QueryException>(() => QueryPlanner.Plan(_data.Utc.Project, new MetricQuery(["revenu"], []))).Message);
        Assert.Contains("did you mean `country`?", Assert.Throws<QueryException>(() => QueryPlanner.Plan(_data.Utc.Project, new MetricQuery(["revenue"], ["countri"]))).Message);
        Assert.Contains("not a time grain", Assert.Throws<QueryException>(() => QueryPlanner.Plan(_data.Utc.Project, new MetricQuery(["revenue"], ["metric_time__hour"]))).Message);
    }
}
