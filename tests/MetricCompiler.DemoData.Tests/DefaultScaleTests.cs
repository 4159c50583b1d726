using System.Diagnostics;
using MetricCompiler.DemoData;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace MetricCompiler.DemoData.Tests;

/// <summary>
/// The demo's real data set: default options into a SQLite file. Prints rows and seconds (timing is reported, never
/// asserted) and pins the default checksum, since the demo's narrative depends on exactly this data.
/// Takes a few seconds; exclude with <c>--filter Category!=Scale</c>.
/// </summary>
[Trait("Category", "Scale")]
public sealed class DefaultScaleTests(ITestOutputHelper output)
{
    public const string DefaultOptionsChecksum = "e260ad5f9cdd98edddf7a0f3b9baa9ae0f5d57c60f0cd7505041c512ec5de661";

    [Fact]
    public void Default_options_write_about_a_million_events_into_a_sqlite_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"demodata-default-{Guid.NewGuid():N}.db");
        try
        {
            using var adapter = MetricCompiler.Adapters.SqliteAdapter.Open(path, path);
            var connection = adapter.Connection;
            var stopwatch = Stopwatch.StartNew();
            var summary = DemoDataGenerator.Seed(adapter, new DemoDataOptions());
            stopwatch.Stop();

            var rows = summary.Users + summary.Events + summary.Exposures;
            output.WriteLine($"{summary}");
            output.WriteLine($"{rows:N0} rows in {stopwatch.Elapsed.TotalSeconds:F2} s ({rows / stopwatch.Elapsed.TotalSeconds:N0} rows/s), file {new FileInfo(path).Length / 1e6:F1} MB");

            Assert.Equal(40_000, summary.Users);
            Assert.InRange(summary.Events, 900_000, 1_300_000);
            Assert.Equal(summary.Events, Count(connection, "SELECT COUNT(*) FROM raw_events"));
            Assert.Equal(summary.Exposures, Count(connection, "SELECT COUNT(*) FROM raw_exposures"));
            Assert.Equal(summary.DuplicateEvents, Count(connection, "SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM raw_events"));
            Assert.InRange(Count(connection, "SELECT COUNT(DISTINCT user_id) FROM raw_exposures WHERE experiment_id = 'homepage_cta'"), 18_000, 24_000);
            Assert.Equal(DefaultOptionsChecksum, summary.Checksum);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static long Count(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
