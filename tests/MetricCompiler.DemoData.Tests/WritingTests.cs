using System.Globalization;
using MetricCompiler.Adapters.Loading;
using MetricCompiler.DemoData.Simulation;
using MetricCompiler.DemoData.Writing;

namespace MetricCompiler.DemoData.Tests;

public sealed class WritingTests
{
    [Theory]
    [InlineData(true, 4, 8)]
    [InlineData(true, 5, 6)]
    [InlineData(true, 7, 4)]
    [InlineData(true, 40, 1)]
    [InlineData(false, 7, 1_000)]
    [InlineData(false, 40, 819)]
    [InlineData(false, 32_766, 1)]
    public void Rows_per_statement_fit_the_provider(bool isSqlite, int columns, int expectedRows)
    {
        Assert.Equal(expectedRows, BatchedInsertSink.RowsPerStatement(isSqlite, columns));
    }

    [Fact]
    public void Rows_per_statement_never_exceed_the_sqlite_parameter_limit()
    {
        foreach (var isSqlite in new[] { true, false })
        {
            for (var columns = 1; columns <= 200; columns++)
            {
                var rows = BatchedInsertSink.RowsPerStatement(isSqlite, columns);
                Assert.InRange(rows, 1, int.MaxValue);
                Assert.True(rows * columns <= 32_766, $"{rows} rows x {columns} columns");
            }
        }
    }

    [Fact]
    public void Timestamps_render_exactly_like_the_invariant_format()
    {
        var start = new DateTime(2024, 2, 27, 0, 0, 0, DateTimeKind.Utc);
        for (var seconds = 0L; seconds < 5 * UtcTimestamp.SecondsPerDay; seconds += 3_607)
        {
            var expected = start.AddSeconds(seconds).ToString(UtcTimestamp.TextFormat, CultureInfo.InvariantCulture);
            var simulationSeconds = UtcTimestamp.StartOfDay(DateOnly.FromDateTime(start)) + seconds;
            Assert.Equal(expected, UtcTimestamp.ToText(simulationSeconds));
        }

        Assert.Equal("2026-01-31 23:59:59", UtcTimestamp.ToText(UtcTimestamp.EndOfDay(new DateOnly(2026, 1, 31))));
    }

    [Fact]
    public void Canonical_hash_distinguishes_null_text_and_numbers()
    {
        static string Hash(params object?[] row)
        {
            using var hasher = new CanonicalRowHasher();
            hasher.AppendRow(row);
            return hasher.FinishHex();
        }

        Assert.Equal(Hash("a", 1.5, null), Hash("a", 1.5, null));
        Assert.NotEqual(Hash("a", 1.5, null), Hash("a", 1.5, "\\M"));
        Assert.NotEqual(Hash("a", 1.5, null), Hash("a", 1.25, null));
        Assert.NotEqual(Hash("a", "b"), Hash("a\tb"));
        Assert.NotEqual(Hash("a\nb"), Hash("a\\nb"));
        Assert.NotEqual(Hash((object?)null), Hash("\\N"));
        Assert.Equal(Hash(0.1 + 0.2), Hash(0.30000000000000004));
    }
}
