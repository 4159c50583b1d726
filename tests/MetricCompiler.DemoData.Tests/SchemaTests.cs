namespace MetricCompiler.DemoData.Tests;

public sealed class SchemaTests(SmallDatabaseFixture fixture) : IClassFixture<SmallDatabaseFixture>
{
    private readonly SeededDatabase _database = fixture.Database;

    /// <summary>As the SQLite dialect renders the portable types (text, real; SQLite reports them upper-case).</summary>
    public static TheoryData<string, string[]> ExpectedTables => new()
    {
        { "raw_users", ["user_id TEXT NOT NULL", "signup_at TEXT NOT NULL", "country TEXT NOT NULL", "platform TEXT NOT NULL"] },
        {
            "raw_events",
            [
                "event_id TEXT NOT NULL", "user_id TEXT NOT NULL", "event_type TEXT NOT NULL", "occurred_at TEXT NOT NULL",
                "page TEXT NULL", "page_load_ms REAL NULL", "revenue REAL NULL",
            ]
        },
        {
            "raw_exposures",
            ["exposure_id TEXT NOT NULL", "experiment_id TEXT NOT NULL", "user_id TEXT NOT NULL", "variant TEXT NOT NULL", "exposed_at TEXT NOT NULL"]
        },
    };

    [Theory]
    [MemberData(nameof(ExpectedTables))]
    public void Table_has_exactly_the_declared_columns_in_order(string table, string[] expectedColumns)
    {
        var columns = _database.Rows($"SELECT name, type, \"notnull\" FROM pragma_table_info('{table}') ORDER BY cid")
            .Select(row => $"{row[0]} {row[1]} {((long)row[2]! == 1 ? "NOT NULL" : "NULL")}")
            .ToArray();

        Assert.Equal(expectedColumns, columns);
    }

    [Fact]
    public void Database_holds_exactly_the_three_raw_tables()
    {
        var tables = _database.Strings("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");

        Assert.Equal(["raw_events", "raw_exposures", "raw_users"], tables);
    }

    [Fact]
    public void Numeric_columns_hold_real_numbers_and_text_columns_hold_text()
    {
        Assert.Equal(["real"], _database.Strings("SELECT DISTINCT typeof(page_load_ms) FROM raw_events WHERE page_load_ms IS NOT NULL"));
        Assert.Equal(["real"], _database.Strings("SELECT DISTINCT typeof(revenue) FROM raw_events WHERE revenue IS NOT NULL"));
        Assert.Equal(["text"], _database.Strings("SELECT DISTINCT typeof(occurred_at) FROM raw_events"));
        Assert.Equal(["text"], _database.Strings("SELECT DISTINCT typeof(exposed_at) FROM raw_exposures"));
    }
}
