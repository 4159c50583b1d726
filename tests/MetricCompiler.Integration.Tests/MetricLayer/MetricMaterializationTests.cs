using System.Globalization;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.MetricLayer;

/// <summary>
/// <c>materialize:</c> builds <c>fct_&lt;metric&gt;</c> with the dimensions, <c>metric_date</c> and <c>metric_value</c>, on every
/// engine: its rows equal a plain computation over the raw rows (weeks in Europe/Berlin, zero-filled weeks) and the
/// answer of <c>metricc query</c> for the same metric, grain and dimensions, so dashboards and queries read one number.
/// </summary>
public sealed class MetricMaterializationTests : IDisposable
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static readonly Dictionary<string, string> Country = new() { ["u1"] = "DE", ["u2"] = "US", ["u3"] = "DE" };

    private readonly List<(string User, DateTime At, double Revenue)> _purchases = [];
    private readonly EngineProject _project;

    public MetricMaterializationTests()
    {
        var random = new Random(7);
        var start = new DateTime(2026, 3, 2);
        for (var d = 0; d < 42; d++)
        {
            if (d / 7 == 3)
                continue; // a week without any purchase must still be a row with 0
            foreach (var user in Country.Keys.Where(_ => random.Next(0, 2) == 0))
                _purchases.Add((user, start.AddDays(d).AddMinutes(random.Next(0, 24 * 60)), Math.Round(random.NextDouble() * 50, 2)));
        }

        _purchases.Add(("u2", new DateTime(2026, 3, 29, 22, 30, 0), 7)); // Monday 2026-03-30 00:30 in Berlin: the next week
        _project = new EngineProject("""
            time_zone: Europe/Berlin
            sources:
              - name: events
                table: raw_events
                entity: user_id
                event_time: occurred_at
                columns:
                  - {name: user_id, type: string}
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
            metrics:
              - name: revenue
                source: events
                agg: sum
                expr: revenue
                materialize: {grain: week, dimensions: [country]}
            """,
            new RawTable("raw_events", [EngineProject.Text("user_id"), EngineProject.Text("occurred_at"), EngineProject.Number("revenue")],
                _purchases.Select(p => new object?[] { p.User, p.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), p.Revenue }).ToList()),
            new RawTable("raw_users", [EngineProject.Text("user_id"), EngineProject.Text("signup_at"), EngineProject.Text("country")],
                Country.Select(c => new object?[] { c.Key, "2026-01-01 00:00:00", c.Value }).ToList()));
    }

    [Fact]
    public void Materialized_metric_matches_a_plain_computation_and_the_query()
    {
        // The reference: local Monday of each purchase, summed per country, every week of the range for every country.
        static DateOnly Monday(DateTime local) => DateOnly.FromDateTime(local.Date.AddDays(-(((int)local.DayOfWeek + 6) % 7)));
        var local = _purchases.Select(p => (p.User, Week: Monday(TimeZoneInfo.ConvertTimeFromUtc(p.At, Berlin)), p.Revenue)).ToList();
        var weeks = new List<DateOnly>();
        for (var w = local.Min(p => p.Week); w <= local.Max(p => p.Week); w = w.AddDays(7))
            weeks.Add(w);
        var expected = Country.Values.Distinct().Order(StringComparer.Ordinal)
            .SelectMany(country => weeks.Select(week => (Country: country, Week: week,
                Value: local.Where(p => Country[p.User] == country && p.Week == week).Sum(p => p.Revenue))))
            .ToList();
        Assert.Contains(expected, e => e.Value == 0);

        foreach (var engine in EngineProject.Engines)
        {
            _project.Build(engine);
            var rows = _project.Rows(engine, "select country, metric_date, metric_value from fct_revenue order by country, metric_date");
            Assert.Equal(expected.Select(e => $"{e.Country} {e.Week:yyyy-MM-dd}"), rows.Select(r => $"{r["country"]} {Day(r["metric_date"])}"));
            EngineProject.Close(expected.Select(e => (double?)e.Value).ToList(), rows.Select(r => (double?)Convert.ToDouble(r["metric_value"], CultureInfo.InvariantCulture)).ToList(), $"{engine} fct_revenue");

            var query = _project.Query(engine, new MetricQuery(["revenue"], ["country", "metric_time__week"], OrderBy: ["country", "metric_time__week"]));
            EngineProject.Close(EngineProject.Column(query, "revenue"), rows.Select(r => (double?)Convert.ToDouble(r["metric_value"], CultureInfo.InvariantCulture)).ToList(), $"{engine} query vs table");
        }
    }

    /// <summary>A date as the engines return it (DateOnly, DateTime or text) in ISO form.</summary>
    private static string Day(object? value) => value switch
    {
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)![..10],
    };

    public void Dispose() => _project.Dispose();
}
