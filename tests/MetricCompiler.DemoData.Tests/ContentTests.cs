using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.DemoData;

namespace MetricCompiler.DemoData.Tests;

public sealed partial class ContentTests(SmallDatabaseFixture fixture) : IClassFixture<SmallDatabaseFixture>
{
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";
    private readonly SeededDatabase _database = fixture.Database;

    [Theory]
    [InlineData("SELECT signup_at FROM raw_users")]
    [InlineData("SELECT occurred_at FROM raw_events")]
    [InlineData("SELECT exposed_at FROM raw_exposures")]
    public void Timestamps_have_the_exact_format_and_lie_in_the_period(string sql)
    {
        var first = _database.Options.PeriodStart.ToDateTime(TimeOnly.MinValue);
        var last = _database.Options.PeriodEnd.ToDateTime(new TimeOnly(23, 59, 59));
        var timestamps = _database.Strings(sql);

        Assert.NotEmpty(timestamps);
        foreach (var text in timestamps)
        {
            Assert.Matches(TimestampPattern(), text);
            var parsed = DateTime.ParseExact(text, TimestampFormat, CultureInfo.InvariantCulture);
            Assert.InRange(parsed, first, last);
        }
    }

    [Fact]
    public void Ids_have_their_formats_and_users_and_exposures_are_unique()
    {
        Assert.All(_database.Strings("SELECT user_id FROM raw_users"), id => Assert.Matches("^u[0-9]{6}$", id));
        Assert.All(_database.Strings("SELECT event_id FROM raw_events"), id => Assert.Matches("^e[0-9]{9}$", id));
        Assert.All(_database.Strings("SELECT exposure_id FROM raw_exposures"), id => Assert.Matches("^x[0-9]{9}$", id));
        Assert.Equal(_database.Summary.Users, _database.Count("SELECT COUNT(DISTINCT user_id) FROM raw_users"));
        Assert.Equal(_database.Summary.Exposures, _database.Count("SELECT COUNT(DISTINCT exposure_id) FROM raw_exposures"));
    }

    [Fact]
    public void Users_have_known_platforms_and_countries_and_mostly_sign_up_in_the_first_two_weeks()
    {
        Assert.Equal(["android", "ios", "web"], _database.Strings("SELECT DISTINCT platform FROM raw_users ORDER BY 1"));
        var countries = _database.Strings("SELECT DISTINCT country FROM raw_users");
        Assert.InRange(countries.Count, 5, 15);
        Assert.All(countries, country => Assert.Matches("^[A-Z]{2}$", country));

        var earlyShare = _database.Number("SELECT AVG(signup_at < '2025-12-15') FROM raw_users");
        Assert.InRange(earlyShare, 0.6, 0.85);
        Assert.True(_database.Count("SELECT COUNT(*) FROM raw_users WHERE signup_at >= '2026-01-01'") > 0, "some users sign up late in the period");
    }

    [Fact]
    public void Events_belong_to_known_users_and_never_precede_their_sign_up()
    {
        Assert.Equal(0, _database.Count("SELECT COUNT(*) FROM raw_events e LEFT JOIN raw_users u ON u.user_id = e.user_id WHERE u.user_id IS NULL"));
        Assert.Equal(0, _database.Count("SELECT COUNT(*) FROM raw_events e JOIN raw_users u ON u.user_id = e.user_id WHERE e.occurred_at < u.signup_at"));
        Assert.Equal(0, _database.Count("SELECT COUNT(*) FROM raw_exposures x LEFT JOIN raw_users u ON u.user_id = x.user_id WHERE u.user_id IS NULL"));
    }

    [Fact]
    public void Every_event_type_fills_exactly_its_own_columns()
    {
        var shapes = _database.Rows(
                "SELECT event_type, page IS NOT NULL, page_load_ms IS NOT NULL, revenue IS NOT NULL, COUNT(*) FROM raw_events GROUP BY 1, 2, 3, 4 ORDER BY 1")
            .Select(row => $"{row[0]}:{row[1]}{row[2]}{row[3]}")
            .ToArray();

        Assert.Equal(["click:100", "error:100", "page_view:110", "purchase:001", "sign_up:000"], shapes);
        Assert.Equal(0, _database.Count("SELECT COUNT(*) FROM raw_events WHERE page_load_ms <= 0 OR revenue <= 0"));
    }

    [Fact]
    public void Page_load_and_revenue_have_realistic_centres()
    {
        var meanLoadMs = _database.Number("SELECT AVG(page_load_ms) FROM raw_events WHERE event_type = 'page_view'");
        var meanRevenue = _database.Number("SELECT AVG(revenue) FROM raw_events WHERE event_type = 'purchase'");
        var eventsPerUser = (double)_database.Summary.Events / _database.Summary.Users;

        Assert.InRange(meanLoadMs, 700, 950);
        Assert.InRange(meanRevenue, 38, 52);
        Assert.InRange(eventsPerUser, 20, 35);
    }

    [Fact]
    public void Exposure_variants_belong_to_their_experiment_and_exposures_lie_in_its_window()
    {
        var pairs = _database.Rows("SELECT DISTINCT experiment_id, variant FROM raw_exposures ORDER BY 1, 2")
            .Select(row => $"{row[0]}/{row[1]}")
            .ToArray();

        Assert.Equal(["homepage_cta/control", "homepage_cta/treatment", "onboarding_flow/control", "onboarding_flow/streamlined"], pairs);
        Assert.Equal(0, _database.Count(
            "SELECT COUNT(*) FROM raw_exposures WHERE experiment_id = 'homepage_cta' AND exposed_at NOT BETWEEN '2026-01-05 00:00:00' AND '2026-01-18 23:59:59'"));
        Assert.Equal(0, _database.Count(
            "SELECT COUNT(*) FROM raw_exposures WHERE experiment_id = 'onboarding_flow' AND exposed_at NOT BETWEEN '2026-01-12 00:00:00' AND '2026-01-25 23:59:59'"));
    }

    [Fact]
    public void Rows_are_stored_in_user_then_time_order()
    {
        AssertSorted(_database.Rows("SELECT user_id, occurred_at FROM raw_events ORDER BY event_id"));
        AssertSorted(_database.Rows("SELECT user_id, exposed_at FROM raw_exposures ORDER BY exposure_id"));
        AssertSorted(_database.Rows("SELECT user_id, user_id FROM raw_users ORDER BY rowid"));
    }

    [Fact]
    public void A_custom_period_is_respected_and_experiment_windows_are_clipped_to_it()
    {
        var options = new DemoDataOptions(Users: 300, Seed: 3, PeriodStart: new DateOnly(2026, 1, 10), PeriodEnd: new DateOnly(2026, 1, 14));
        using var database = new SeededDatabase(options);

        Assert.Equal("2026-01-10", ((string)database.Scalar("SELECT MIN(occurred_at) FROM raw_events")!)[..10]);
        Assert.True(string.CompareOrdinal((string)database.Scalar("SELECT MAX(occurred_at) FROM raw_events")!, "2026-01-14 23:59:59") <= 0);
        Assert.True(database.Count("SELECT COUNT(*) FROM raw_exposures WHERE experiment_id = 'homepage_cta'") > 0);
        Assert.True(database.Count("SELECT COUNT(*) FROM raw_exposures WHERE experiment_id = 'onboarding_flow'") > 0);
        Assert.Equal(0, database.Count("SELECT COUNT(*) FROM raw_exposures WHERE exposed_at < '2026-01-10' OR exposed_at > '2026-01-14 23:59:59'"));
    }

    [Fact]
    public void Progress_reports_each_table()
    {
        var messages = new List<string>();
        using var adapter = MetricCompiler.Adapters.SqliteAdapter.Open(":memory:", ":memory:");

        DemoDataGenerator.Seed(adapter, new DemoDataOptions(Users: 200), new CollectingProgress(messages));

        Assert.Contains(messages, message => message.StartsWith("raw_users: 200 rows", StringComparison.Ordinal));
        Assert.Contains(messages, message => message.StartsWith("raw_events:", StringComparison.Ordinal));
        Assert.Contains(messages, message => message.StartsWith("raw_exposures:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, "2025-12-01", "2026-01-31")]
    [InlineData(1_000_000, "2025-12-01", "2026-01-31")]
    [InlineData(100, "2026-01-31", "2025-12-01")]
    public void Invalid_options_are_rejected(int users, string start, string end)
    {
        var options = new DemoDataOptions(users, 1, DateOnly.Parse(start, CultureInfo.InvariantCulture), DateOnly.Parse(end, CultureInfo.InvariantCulture));
        using var adapter = MetricCompiler.Adapters.SqliteAdapter.Open(":memory:", ":memory:");

        Assert.Throws<ArgumentOutOfRangeException>(() => DemoDataGenerator.Seed(adapter, options));
    }

    [Fact]
    public void Omitted_options_use_the_documented_defaults()
    {
        var options = new DemoDataOptions();

        Assert.Equal(new DemoDataOptions(40_000, 20260105, new DateOnly(2025, 12, 1), new DateOnly(2026, 1, 31)), options);
        Assert.Equal(new DateOnly(2025, 12, 1), (options with { Users = 5 }).PeriodStart);
    }

    private static void AssertSorted(List<object?[]> rows)
    {
        Assert.NotEmpty(rows);
        for (var i = 1; i < rows.Count; i++)
        {
            var previous = $"{rows[i - 1][0]}|{rows[i - 1][1]}";
            var current = $"{rows[i][0]}|{rows[i][1]}";
            Assert.True(string.CompareOrdinal(previous, current) <= 0, $"row {i}: {previous} comes before {current}");
        }
    }

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")]
    private static partial Regex TimestampPattern();

    private sealed class CollectingProgress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
