using System.Globalization;
using MetricCompiler.Planning.Queries;
using static MetricCompiler.Integration.Tests.MetricLayer.LifecycleEvents;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// Activation metrics on SQLite, DuckDB and PostgreSQL against a plain C# computation over the same rows: an action
/// just inside and exactly at the end of the D days, actions before the anchor, a user without events, two anchors, a
/// cohort across a month boundary, cohorts not yet complete by the last event (and one complete exactly on it), and
/// the per-unit 0/1 value of an experiment, anchored at first exposure.
/// </summary>
public sealed class ActivationMetricTests : IClassFixture<ActivationMetricTests.Data>
{
    private static readonly string[] Actions = ["page_view", "click", "purchase"];
    private const int Required = 2;
    private const int WithinDays = 7;

    public sealed class Data : IDisposable
    {
        public List<LifecycleEvent> Events { get; }

        public List<LifecycleExposure> Exposures { get; }

        public EngineProject Project { get; }

        public Data()
        {
            Events = LifecycleEvents.Random(20260214);
            var id = 0;
            void Add(string user, string type, string at) => Events.Add(new LifecycleEvent($"x{++id:00}", user, type, T(at)));
            Add("edge_in", "sign_up", "2026-01-06 10:00:00");    // a page view a second before the 7 days end, and a click
            Add("edge_in", "page_view", "2026-01-13 09:59:59");
            Add("edge_in", "click", "2026-01-07 10:00:00");
            Add("edge_out", "sign_up", "2026-01-06 10:00:00");   // the page view exactly 7 days later is outside
            Add("edge_out", "page_view", "2026-01-13 10:00:00");
            Add("edge_out", "click", "2026-01-07 10:00:00");
            Add("before", "page_view", "2026-01-05 10:00:00");   // actions before the sign-up do not count
            Add("before", "click", "2026-01-05 11:00:00");
            Add("before", "sign_up", "2026-01-06 10:00:00");
            Add("twice", "sign_up", "2026-01-06 10:00:00");      // anchored at the first sign-up; the actions come 8 days later
            Add("twice", "sign_up", "2026-01-10 10:00:00");
            Add("twice", "page_view", "2026-01-14 10:00:00");
            Add("twice", "click", "2026-01-14 11:00:00");
            Add("month", "sign_up", "2026-01-31 22:00:00");      // a January cohort activating in February
            Add("month", "click", "2026-02-01 09:00:00");
            Add("month", "purchase", "2026-02-03 09:00:00");
            Add("complete", "sign_up", "2026-02-22 12:00:00");   // its 7 days end exactly at the last event
            Add("complete", "click", "2026-02-22 13:00:00");
            Add("complete", "purchase", "2026-02-23 13:00:00");
            Add("recent", "sign_up", "2026-02-25 12:00:00");     // its 7 days are not over: left out
            Add("recent", "click", "2026-02-25 13:00:00");
            Add("recent", "page_view", "2026-03-01 12:00:00");   // the last event in the data
            Exposures = LifecycleEvents.Exposures(14,
                new LifecycleExposure("edge_in", "control", T("2026-01-06 10:00:00")),
                new LifecycleExposure("edge_out", "treatment", T("2026-01-06 10:00:00")),
                new LifecycleExposure("before", "treatment", T("2026-01-06 10:00:00")),
                new LifecycleExposure("no_events", "control", T("2026-01-09 12:00:00")));
            Project = new EngineProject(Sources + """
                metrics:
                  - name: activation
                    type: activation
                    source: events
                    anchor: event_type = 'sign_up'
                    actions:
                      - {name: viewed, filter: "event_type = 'page_view'"}
                      - {name: clicked, filter: "event_type = 'click'"}
                      - {name: purchased, filter: "event_type = 'purchase'"}
                    required: 2
                    within: 7 days
                  - name: activation_all
                    type: activation
                    source: events
                    anchor: event_type = 'sign_up'
                    actions:
                      - {name: viewed, filter: "event_type = 'page_view'"}
                      - {name: clicked, filter: "event_type = 'click'"}
                      - {name: purchased, filter: "event_type = 'purchase'"}
                    required: 3
                    within: 7 days
                  - {name: signed_up, source: events, agg: proportion, filter: "event_type = 'sign_up'"}
                  - name: activation_via_metric
                    type: activation
                    source: events
                    anchor_metric: signed_up
                    actions:
                      - {name: viewed, filter: "event_type = 'page_view'"}
                      - {name: clicked, filter: "event_type = 'click'"}
                      - {name: purchased, filter: "event_type = 'purchase'"}
                    required: 2
                    within: 7 days

                """ + Experiment("activation", "activation_all"), Tables(Events, Exposures));
            foreach (var engine in EngineProject.Engines)
                Project.Build(engine);
        }

        public void Dispose() => Project.Dispose();
    }

    private readonly Data _data;

    public ActivationMetricTests(Data data) => _data = data;

    public static TheoryData<string> Engines => new(EngineProject.Engines);

    private static bool Activated(IEnumerable<LifecycleEvent> events, DateTime anchor, DateTime before, int required) =>
        Actions.Count(a => events.Any(e => e.Type == a && e.At >= anchor && e.At < anchor.AddDays(WithinDays) && e.At < before)) >= required;

    /// <summary>Per bucket of the anchor's day: (anchored users with complete days, of them activated, users not yet complete).</summary>
    private IReadOnlyList<(int Anchored, int Activated, int Undecided)> Reference(IReadOnlyList<DateOnly> buckets, Func<DateOnly, DateOnly> bucket, int required)
    {
        var last = _data.Events.Max(e => e.At);
        var anchors = _data.Events.Where(e => e.Type == "sign_up").GroupBy(e => e.User).ToDictionary(g => g.Key, g => g.Min(e => e.At));
        return buckets.Select(b =>
        {
            var cohort = anchors.Where(a => bucket(Day(a.Value)) == b).ToList();
            var complete = cohort.Where(a => a.Value.AddDays(WithinDays) <= last).ToList();
            var activated = complete.Count(a => Activated(_data.Events.Where(e => e.User == a.Key), a.Value, DateTime.MaxValue, required));
            return (complete.Count, activated, cohort.Count - complete.Count);
        }).ToList();
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Activation_by_anchor_day_week_and_month_matches_the_rows(string engine)
    {
        var start = new DateOnly(2026, 1, 1);
        var end = new DateOnly(2026, 3, 1);
        foreach (var (grain, bucket) in new (string, Func<DateOnly, DateOnly>)[] { ("day", d => d), ("week", Week), ("month", Month) })
        {
            var result = _data.Project.Query(engine, new MetricQuery(["activation", "activation_all", "activation_via_metric"], [$"metric_time__{grain}"], Start: start, End: end));
            var buckets = Days(start, end).Select(bucket).Distinct().ToList();
            Assert.Equal(buckets.Select(Key), EngineProject.Keys(result, $"metric_time__{grain}"));
            foreach (var (metric, required) in new[] { ("activation", Required), ("activation_all", 3), ("activation_via_metric", Required) })
            {
                var expected = Reference(buckets, bucket, required);
                var what = $"{engine} by {grain}: {metric}";
                EngineProject.Close(expected.Select(e => (double?)e.Anchored).ToList(), EngineProject.Column(result, $"{metric}__anchored"), $"{what} anchored");
                EngineProject.Close(expected.Select(e => (double?)e.Activated).ToList(), EngineProject.Column(result, $"{metric}__activated"), $"{what} activated");
                EngineProject.Close(expected.Select(e => (double?)e.Undecided).ToList(), EngineProject.Column(result, $"{metric}__undecided"), $"{what} undecided");
                EngineProject.Close(expected.Select(e => e.Anchored == 0 ? null : (double?)e.Activated / e.Anchored).ToList(), EngineProject.Column(result, metric), what);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Edge_cases_land_where_the_definition_says(string engine)
    {
        var result = _data.Project.Query(engine, new MetricQuery(["activation"], ["metric_time__day"],
            Where: "user_id in ('edge_in', 'edge_out', 'before', 'twice', 'month', 'complete', 'recent', 'no_events')",
            Start: new DateOnly(2026, 1, 6), End: new DateOnly(2026, 2, 28)));
        var days = EngineProject.Keys(result, "metric_time__day").ToList();
        double? At(string column, string day) => EngineProject.Column(result, column)[days.IndexOf(day)];
        Assert.Equal(4.0, At("activation__anchored", "2026-01-06"));  // edge_in, edge_out, before, twice
        Assert.Equal(1.0, At("activation__activated", "2026-01-06")); // only edge_in
        Assert.Equal(0.0, At("activation__anchored", "2026-01-10"));  // twice's second sign-up is no anchor
        Assert.Equal(1.0, At("activation", "2026-01-31"));
        Assert.Equal(1.0, At("activation", "2026-02-22"));            // complete exactly at the last event
        Assert.Null(At("activation", "2026-02-25"));                  // recent: not decided, no value
        Assert.Equal(1.0, At("activation__undecided", "2026-02-25"));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Per_unit_value_counts_actions_in_the_days_after_first_exposure(string engine)
    {
        var exposed = FirstExposures(_data.Exposures);
        var rows = _data.Project.Rows(engine, "select unit_id, activation, activation_all from exp_trial__unit_metrics order by unit_id");
        Assert.Equal(exposed.Keys.Order(StringComparer.Ordinal), rows.Select(r => (string)r["unit_id"]!));
        foreach (var (metric, required) in new[] { ("activation", Required), ("activation_all", 3) })
        {
            var expected = rows.Select(r =>
            {
                var user = (string)r["unit_id"]!;
                return (double?)(Activated(_data.Events.Where(e => e.User == user), exposed[user], ExperimentEnd, required) ? 1 : 0);
            }).ToList();
            EngineProject.Close(expected, rows.Select(r => (double?)Convert.ToDouble(r[metric], CultureInfo.InvariantCulture)).ToList(), $"{engine}: {metric} per unit");
        }

        var units = rows.ToDictionary(r => (string)r["unit_id"]!, r => Convert.ToDouble(r["activation"], CultureInfo.InvariantCulture));
        Assert.Equal(1.0, units["edge_in"]);
        Assert.Equal(0.0, units["edge_out"]);
        Assert.Equal(0.0, units["before"]);
        Assert.Equal(0.0, units["no_events"]);
        Assert.Contains(1.0, units.Values);
    }
}
