namespace MetricCompiler.DemoData.Tests;

public sealed class DataQualityFaultTests(SmallDatabaseFixture fixture) : IClassFixture<SmallDatabaseFixture>
{
    private readonly SeededDatabase _database = fixture.Database;

    [Fact]
    public void Summary_row_counts_match_the_tables()
    {
        Assert.Equal(_database.Summary.Users, _database.Count("SELECT COUNT(*) FROM raw_users"));
        Assert.Equal(_database.Summary.Events, _database.Count("SELECT COUNT(*) FROM raw_events"));
        Assert.Equal(_database.Summary.Exposures, _database.Count("SELECT COUNT(*) FROM raw_exposures"));
        Assert.Equal(2_000, _database.Summary.Users);
    }

    [Fact]
    public void About_half_a_percent_of_events_are_exact_duplicates_and_the_summary_counts_them()
    {
        var rows = _database.Count("SELECT COUNT(*) FROM raw_events");
        var distinctIds = _database.Count("SELECT COUNT(DISTINCT event_id) FROM raw_events");
        var distinctRows = _database.Count("SELECT COUNT(*) FROM (SELECT DISTINCT * FROM raw_events)");
        var maxCopies = _database.Count("SELECT MAX(copies) FROM (SELECT COUNT(*) AS copies FROM raw_events GROUP BY event_id)");

        Assert.Equal(rows - distinctIds, _database.Summary.DuplicateEvents);
        Assert.Equal(distinctIds, distinctRows);
        Assert.Equal(2, maxCopies);
        Assert.InRange((double)_database.Summary.DuplicateEvents / distinctIds, 0.003, 0.008);
    }

    [Fact]
    public void Multi_variant_users_exist_in_each_experiment_and_the_summary_counts_them()
    {
        var perExperiment = _database.Rows(
                "SELECT experiment_id, COUNT(*) FROM (SELECT experiment_id, user_id FROM raw_exposures GROUP BY 1, 2 HAVING COUNT(DISTINCT variant) > 1) GROUP BY 1 ORDER BY 1")
            .ToDictionary(row => (string)row[0]!, row => (long)row[1]!);
        var exposedUsers = _database.Rows("SELECT experiment_id, COUNT(DISTINCT user_id) FROM raw_exposures GROUP BY 1")
            .ToDictionary(row => (string)row[0]!, row => (long)row[1]!);

        Assert.Equal(["homepage_cta", "onboarding_flow"], perExperiment.Keys.Order());
        Assert.Equal(perExperiment.Values.Sum(), _database.Summary.MultiVariantUsers);
        foreach (var (experiment, count) in perExperiment)
        {
            Assert.InRange(count, 1, Math.Max(2, exposedUsers[experiment] / 100));
        }
    }

    [Fact]
    public void A_multi_variant_users_first_exposure_is_unambiguous()
    {
        var rows = _database.Rows(
            """
            SELECT x.experiment_id, x.user_id, x.variant, x.exposed_at
            FROM raw_exposures x
            JOIN (SELECT experiment_id, user_id FROM raw_exposures GROUP BY 1, 2 HAVING COUNT(DISTINCT variant) > 1) m
              ON m.experiment_id = x.experiment_id AND m.user_id = x.user_id
            ORDER BY 1, 2, 4
            """);
        Assert.NotEmpty(rows);

        foreach (var pair in rows.GroupBy(row => ((string)row[0]!, (string)row[1]!)))
        {
            var ordered = pair.ToList();
            var firstVariant = (string)ordered[0][2]!;
            var firstAt = (string)ordered[0][3]!;
            var firstOtherVariantAt = ordered.First(row => (string)row[2]! != firstVariant)[3];
            Assert.True(string.CompareOrdinal(firstAt, (string)firstOtherVariantAt!) < 0, $"{pair.Key}: first exposure is tied with another variant");
        }
    }

    [Fact]
    public void Every_exposed_user_has_events_before_the_first_exposure()
    {
        var exposedWithoutEarlierEvents = _database.Count(
            """
            SELECT COUNT(*)
            FROM (SELECT experiment_id, user_id, MIN(exposed_at) AS first_at FROM raw_exposures GROUP BY 1, 2) f
            LEFT JOIN (SELECT user_id, MIN(occurred_at) AS first_event_at FROM raw_events GROUP BY 1) e ON e.user_id = f.user_id
            WHERE e.first_event_at IS NULL OR e.first_event_at >= f.first_at
            """);
        var exposedWithActivityBeforeTheWindow = _database.Number(
            """
            SELECT AVG(COALESCE(e.first_event_at < '2026-01-05', 0))
            FROM (SELECT DISTINCT user_id FROM raw_exposures WHERE experiment_id = 'homepage_cta') f
            LEFT JOIN (SELECT user_id, MIN(occurred_at) AS first_event_at FROM raw_events GROUP BY 1) e ON e.user_id = f.user_id
            """);

        Assert.Equal(0, exposedWithoutEarlierEvents);
        Assert.True(exposedWithActivityBeforeTheWindow > 0.85, $"only {exposedWithActivityBeforeTheWindow:P0} have pre-period activity");
    }

    [Fact]
    public void Repeat_visits_log_repeat_exposures_in_the_same_variant()
    {
        var usersWithRepeats = _database.Count(
            "SELECT COUNT(*) FROM (SELECT experiment_id, user_id FROM raw_exposures GROUP BY 1, 2 HAVING COUNT(*) > 1 AND COUNT(DISTINCT variant) = 1)");
        var exposedUsers = _database.Count("SELECT COUNT(*) FROM (SELECT DISTINCT experiment_id, user_id FROM raw_exposures)");

        Assert.InRange((double)usersWithRepeats / exposedUsers, 0.2, 0.8);
    }
}
