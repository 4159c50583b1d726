using MetricCompiler.DemoData;
using Microsoft.Data.Sqlite;

namespace MetricCompiler.DemoData.Tests;

public sealed class DeterminismTests
{
    private static readonly string[] Tables = ["raw_users", "raw_events", "raw_exposures"];

    [Fact]
    public void Same_options_into_two_databases_give_the_same_summary_and_identical_tables()
    {
        using var first = new SeededDatabase(SeededDatabase.SmallOptions());
        using var second = new SeededDatabase(SeededDatabase.SmallOptions());

        Assert.Equal(first.Summary, second.Summary);
        foreach (var table in Tables)
        {
            var firstRows = first.Dump(table);
            Assert.NotEmpty(firstRows);
            Assert.Equal(firstRows, second.Dump(table));
        }
    }

    [Fact]
    public void A_different_seed_gives_a_different_checksum_and_different_rows()
    {
        using var first = new SeededDatabase(SeededDatabase.SmallOptions(seed: 1));
        using var second = new SeededDatabase(SeededDatabase.SmallOptions(seed: 2));

        Assert.NotEqual(first.Summary.Checksum, second.Summary.Checksum);
        Assert.NotEqual(first.Dump("raw_events"), second.Dump("raw_events"));
        Assert.NotEqual(first.Dump("raw_exposures"), second.Dump("raw_exposures"));
    }

    [Fact]
    public void Checksum_is_recomputable_from_the_database_and_detects_a_changed_value()
    {
        using var database = new SeededDatabase(SeededDatabase.SmallOptions());

        Assert.Matches("^[0-9a-f]{64}$", database.Summary.Checksum);
        Assert.Equal(database.Summary.Checksum, DemoDataChecksum.Compute(database.Connection));

        database.Execute("UPDATE raw_events SET revenue = revenue + 0.01 WHERE event_id = (SELECT MIN(event_id) FROM raw_events WHERE event_type = 'purchase')");
        Assert.NotEqual(database.Summary.Checksum, DemoDataChecksum.Compute(database.Connection));
    }

    [Fact]
    public void Seeding_again_replaces_existing_tables_and_reproduces_the_data()
    {
        using var database = new SeededDatabase(SeededDatabase.SmallOptions());
        database.Execute("INSERT INTO raw_users VALUES ('stale', '2020-01-01 00:00:00', 'XX', 'web')");
        database.Execute("DROP TABLE raw_exposures");
        database.Execute("CREATE TABLE raw_exposures (legacy_column INTEGER)");

        var again = DemoDataGenerator.Seed(database.Adapter, database.Options);

        Assert.Equal(database.Summary, again);
        Assert.Equal(0, database.Count("SELECT COUNT(*) FROM raw_users WHERE user_id = 'stale'"));
        Assert.Equal(again.Checksum, DemoDataChecksum.Compute(database.Connection));
    }

    [Fact]
    public void Seeded_file_holds_the_committed_rows_after_the_adapter_is_closed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"demodata-{Guid.NewGuid():N}.db");
        try
        {
            DemoDataSummary summary;
            using (var adapter = MetricCompiler.Adapters.SqliteAdapter.Open(path, path))
                summary = DemoDataGenerator.Seed(adapter, new DemoDataOptions(Users: 300));

            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            Assert.Equal(summary.Checksum, DemoDataChecksum.Compute(connection));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_users_data_depends_only_on_the_seed_and_the_user_not_on_how_many_users_are_generated()
    {
        using var few = new SeededDatabase(new DemoDataOptions(Users: 300, Seed: 11));
        using var many = new SeededDatabase(new DemoDataOptions(Users: 1_500, Seed: 11));
        const string usersSql = "SELECT * FROM raw_users WHERE user_id <= 'u000300' ORDER BY user_id";
        const string eventsSql =
            "SELECT user_id, event_type, occurred_at, page, page_load_ms, revenue FROM raw_events WHERE user_id <= 'u000300' ORDER BY event_id";

        Assert.Equal(Render(few.Rows(usersSql)), Render(many.Rows(usersSql)));
        Assert.Equal(Render(few.Rows(eventsSql)), Render(many.Rows(eventsSql)));
        Assert.Equal(300, few.Rows(usersSql).Count);
    }

    private static List<string> Render(List<object?[]> rows) =>
        rows.Select(row => string.Join('|', row.Select(value => value is double number
            ? number.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            : value?.ToString() ?? "NULL"))).ToList();

    /// <summary>
    /// Pins the exact output. It must only change on purpose (a change to the generator's model); a change on another
    /// machine or .NET version means the output is no longer portable.
    /// </summary>
    [Fact]
    public void Small_options_reproduce_the_pinned_golden_checksum()
    {
        using var database = new SeededDatabase(new DemoDataOptions(Users: 500, Seed: 7));

        Assert.Equal(GoldenChecksums.Users500Seed7, database.Summary.Checksum);
    }
}

internal static class GoldenChecksums
{
    public const string Users500Seed7 = "574c7bcb360be6e7afd09fdf6931af1d7c1d9a133c34ef277781de3011b5f59c";
}
