using System.Globalization;
using MetricCompiler.Planning.Queries;
using static MetricCompiler.Integration.Tests.MetricLayer.LifecycleEvents;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Conversion (funnel) metrics on SQLite, DuckDB and PostgreSQL against a plain C# search over the same rows: a step
/// exactly at the window's edge, a conversion before the base event, a user without events, two base events, a funnel
/// across a month boundary, steps out of order, at each grain and without one, and the per-unit 0/1 value of an
/// experiment.
/// </summary>
public sealed class ConversionMetricTests : IClassFixture<ConversionMetricTests.Data>
{
    private static readonly string[] Funnel = ["sign_up", "page_view", "purchase"];
    private static readonly string[] Converted = ["sign_up", "purchase"];
    private const int WindowDays = 7;

    public sealed class Data : IDisposable
    {
        public List<LifecycleEvent> Events { get; }

        public List<LifecycleExposure> Exposures { get; }

        public EngineProject Project { get; }

        /// <summary>The same rows and metrics in the Europe/Berlin time zone.</summary>
        public EngineProject Local { get; }

        public Data()
        {
            Events = LifecycleEvents.Random(20260107);
            var id = 0;
            void Add(string user, string type, string at) => Events.Add(new LifecycleEvent($"x{++id:00}", user, type, T(at)));
            Add("edge", "sign_up", "2026-01-06 10:00:00");      // converts exactly at the window's edge
            Add("edge", "purchase", "2026-01-13 10:00:00");
            Add("late", "sign_up", "2026-01-06 10:00:00");      // a second after the window: not converted
            Add("late", "purchase", "2026-01-13 10:00:01");
            Add("before", "purchase", "2026-01-06 09:00:00");   // purchase before the sign-up
            Add("before", "sign_up", "2026-01-06 10:00:00");
            Add("twice", "sign_up", "2026-01-06 10:00:00");     // two sign-ups: only the second is within 7 days of the purchase
            Add("twice", "sign_up", "2026-01-08 10:00:00");
            Add("twice", "purchase", "2026-01-14 12:00:00");
            Add("month", "sign_up", "2026-01-30 20:00:00");     // converts in February, counted in January
            Add("month", "page_view", "2026-01-31 23:00:00");
            Add("month", "purchase", "2026-02-02 08:00:00");
            Add("order", "sign_up", "2026-01-12 08:00:00");     // purchase then page view: not the three-step funnel
            Add("order", "purchase", "2026-01-12 09:00:00");
            Add("order", "page_view", "2026-01-12 10:00:00");
            Add("exposed_late", "sign_up", "2026-01-09 10:00:00"); // signed up before exposure, purchased after it
            Add("exposed_late", "purchase", "2026-01-10 10:00:00");
            Add("zone", "sign_up", "2026-02-28 23:30:00");       // March 1 in Berlin
            Add("zone", "purchase", "2026-03-01 08:00:00");
            Add("zones", "sign_up", "2026-02-27 10:00:00");      // February everywhere; its second sign-up is March 1 in Berlin only
            Add("zones", "sign_up", "2026-02-28 23:30:00");
            Add("zones", "purchase", "2026-03-01 08:00:00");
            Exposures = LifecycleEvents.Exposures(7,
                new LifecycleExposure("edge", "control", T("2026-01-06 09:00:00")),
                new LifecycleExposure("late", "treatment", T("2026-01-06 09:00:00")),
                new LifecycleExposure("twice", "treatment", T("2026-01-07 09:00:00")),
                new LifecycleExposure("exposed_late", "control", T("2026-01-09 12:00:00")),
                new LifecycleExposure("no_events", "control", T("2026-01-09 12:00:00")));
            var definitions = Sources + """
                metrics:
                  - name: converted
                    type: conversion
                    source: events
                    window: 7 days
                    materialize: {grain: month}
                    steps:
                      - {name: sign_up, filter: "event_type = 'sign_up'"}
                      - {name: purchase, filter: "event_type = 'purchase'"}
                  - name: funnel
                    type: conversion
                    source: events
                    window: 7 days
                    steps:
                      - {name: sign_up, filter: "event_type = 'sign_up'"}
                      - {name: page_view, filter: "event_type = 'page_view'"}
                      - {name: purchase, filter: "event_type = 'purchase'"}

                """ + Experiment("converted", "funnel");
            Project = new EngineProject(definitions, Tables(Events, Exposures));
            Local = new EngineProject("time_zone: Europe/Berlin\n" + definitions, Tables(Events, Exposures));
            foreach (var engine in EngineProject.Engines)
            {
                Project.Build(engine);
                Local.Build(engine, "+fct_converted");
            }
        }

        public void Dispose()
        {
            Project.Dispose();
            Local.Dispose();
        }
    }

    private readonly Data _data;

    public ConversionMetricTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    /// <summary>Whether some sequence of the user's events does steps 2..k in order, each after the previous, within the window of <paramref name="start"/>.</summary>
    private static bool Reaches(IReadOnlyList<LifecycleEvent> events, string[] steps, DateTime start, int k)
    {
        var deadline = start.AddDays(WindowDays);
        bool From(int step, DateTime previous) =>
            step == k || events.Any(e => e.Type == steps[step] && e.At > previous && e.At <= deadline && From(step + 1, e.At));
        return From(1, start);
    }

    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    /// <summary>Per bucket: how many users reached each step, from each user's first sign-up in the bucket (days in UTC, or in <paramref name="zone"/>).</summary>
    private IReadOnlyList<int[]> Reference(string[] steps, IReadOnlyList<DateOnly> buckets, Func<DateOnly, DateOnly> bucket, TimeZoneInfo? zone = null) =>
        buckets.Select(b =>
        {
            var counts = new int[steps.Length];
            foreach (var user in _data.Events.GroupBy(e => e.User))
            {
                var starts = user.Where(e => e.Type == steps[0] && bucket(Day(zone is null ? e.At : TimeZoneInfo.ConvertTimeFromUtc(e.At, zone))) == b).ToList();
                if (starts.Count == 0)
                    continue;
                var start = starts.Min(e => e.At);
                for (var k = 1; k <= steps.Length; k++)
                    counts[k - 1] += Reaches(user.ToList(), steps, start, k) ? 1 : 0;
            }

            return counts;
        }).ToList();

    private static void AssertFunnel(string metric, string[] steps, IReadOnlyList<int[]> expected, MetricCompiler.Execution.Queries.QueryResult result, string what)
    {
        for (var k = 0; k < steps.Length; k++)
            EngineProject.Close(expected.Select(c => (double?)c[k]).ToList(), EngineProject.Column(result, $"{metric}__{steps[k]}"), $"{what}: {metric} step {steps[k]}");
        for (var k = 1; k < steps.Length; k++)
            EngineProject.Close(expected.Select(c => c[k - 1] == 0 ? null : (double?)(1 - (double)c[k] / c[k - 1])).ToList(),
                EngineProject.Column(result, $"{metric}__{steps[k]}_dropoff"), $"{what}: {metric} drop-off at {steps[k]}");
        EngineProject.Close(expected.Select(c => c[0] == 0 ? null : (double?)c[^1] / c[0]).ToList(), EngineProject.Column(result, metric), $"{what}: {metric}");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Funnels_by_day_week_and_month_match_a_search_over_the_rows(string engine)
    {
        var start = new DateOnly(2026, 1, 1);
        var end = new DateOnly(2026, 2, 28);
        foreach (var (grain, bucket) in new (string, Func<DateOnly, DateOnly>)[] { ("day", d => d), ("week", Week), ("month", Month) })
        {
            var result = _data.Project.Query(engine, new MetricQuery(["converted", "funnel"], [$"metric_time__{grain}"], Start: start, End: end));
            var buckets = Days(start, end).Select(bucket).Distinct().ToList();
            Assert.Equal(buckets.Select(Key), EngineProject.Keys(result, $"metric_time__{grain}"));
            AssertFunnel("converted", Converted, Reference(Converted, buckets, bucket), result, $"{engine} by {grain}");
            AssertFunnel("funnel", Funnel, Reference(Funnel, buckets, bucket), result, $"{engine} by {grain}");
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Edge_cases_land_where_the_definition_says(string engine)
    {
        var result = _data.Project.Query(engine, new MetricQuery(["converted", "funnel"], ["metric_time__day"], Where: "user_id in ('edge', 'late', 'before', 'twice', 'month', 'order', 'no_events')",
            Start: new DateOnly(2026, 1, 6), End: new DateOnly(2026, 1, 30)));
        var days = EngineProject.Keys(result, "metric_time__day").ToList();
        double? At(string column, string day) => EngineProject.Column(result, column)[days.IndexOf(day)];
        Assert.Equal(4.0, At("converted__sign_up", "2026-01-06"));   // edge, late, before, and twice's first sign-up
        Assert.Equal(1.0, At("converted__purchase", "2026-01-06"));  // only edge: late is a second too late, before purchased first, twice 8 days later
        Assert.Equal(1.0, At("converted", "2026-01-08"));             // twice's second sign-up converts
        Assert.Equal(1.0, At("funnel", "2026-01-30"));                // month: sign-up in January, purchase in February
        Assert.Equal(0.0, At("funnel", "2026-01-12"));                // order: purchase before the page view
        Assert.Equal(1.0, At("converted", "2026-01-12"));
        Assert.Null(At("converted", "2026-01-07"));                   // no sign-up that day: no rate
        Assert.Equal(0.0, At("converted__sign_up", "2026-01-07"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Without_a_grain_each_user_starts_at_the_first_sign_up(string engine)
    {
        var result = _data.Project.Query(engine, new MetricQuery(["converted", "funnel"], []));
        AssertFunnel("converted", Converted, Reference(Converted, [default], _ => default), result, $"{engine} total");
        AssertFunnel("funnel", Funnel, Reference(Funnel, [default], _ => default), result, $"{engine} total");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Per_unit_value_is_one_when_a_funnel_started_after_first_exposure_completes(string engine)
    {
        var exposed = FirstExposures(_data.Exposures);
        var rows = _data.Project.Rows(engine, "select unit_id, converted, funnel from exp_trial__unit_metrics order by unit_id");
        Assert.Equal(exposed.Keys.Order(StringComparer.Ordinal), rows.Select(r => (string)r["unit_id"]!));
        foreach (var (metric, steps) in new[] { ("converted", Converted), ("funnel", Funnel) })
        {
            var expected = rows.Select(r =>
            {
                var user = (string)r["unit_id"]!;
                var events = _data.Events.Where(e => e.User == user).ToList();
                var value = events.Any(e => e.Type == steps[0] && e.At >= exposed[user] && e.At < ExperimentEnd && Reaches(events, steps, e.At, steps.Length));
                return (double?)(value ? 1 : 0);
            }).ToList();
            EngineProject.Close(expected, rows.Select(r => (double?)Convert.ToDouble(r[metric], CultureInfo.InvariantCulture)).ToList(), $"{engine}: {metric} per unit");
        }

        var units = rows.ToDictionary(r => (string)r["unit_id"]!, r => Convert.ToDouble(r["converted"], CultureInfo.InvariantCulture));
        Assert.Equal(1.0, units["edge"]);
        Assert.Equal(0.0, units["late"]);
        Assert.Equal(1.0, units["twice"]);         // the sign-up after exposure (01-08) converts
        Assert.Equal(0.0, units["exposed_late"]);  // its sign-up was before exposure
        Assert.Equal(0.0, units["no_events"]);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Buckets_are_local_days_and_the_table_keeps_its_conventional_columns(string engine)
    {
        var start = new DateOnly(2026, 1, 1);
        var end = new DateOnly(2026, 3, 31);
        var months = new[] { new DateOnly(2026, 1, 1), new DateOnly(2026, 2, 1), new DateOnly(2026, 3, 1) };
        var local = _data.Local.Query(engine, new MetricQuery(["converted"], ["metric_time__month"], Start: start, End: end));
        var expected = Reference(Converted, months, Month, Berlin);
        AssertFunnel("converted", Converted, expected, local, $"{engine} by Berlin month");
        Assert.Equal(2, expected[2][0] - Reference(Converted, months, Month)[2][0]); // zone and zones start a funnel in March in Berlin

        var table = _data.Local.Rows(engine, "select * from fct_converted order by metric_date");
        Assert.Equal(["metric_date", "metric_value"], table[0].Keys.Order(StringComparer.Ordinal));
        EngineProject.Close(expected.Select(c => (double?)c[1] / c[0]).ToList(),
            table.Select(r => r["metric_value"] is null ? null : (double?)Convert.ToDouble(r["metric_value"], CultureInfo.InvariantCulture)).ToList(), $"{engine}: fct_converted");
    }
}
