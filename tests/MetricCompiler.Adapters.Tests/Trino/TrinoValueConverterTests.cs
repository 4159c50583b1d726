using System.Text.Json;
using MetricCompiler.Adapters.Trino;

using MetricCompiler.ProtocolServers.Trino;

namespace MetricCompiler.Adapters.Tests.Trino;

public sealed class TrinoValueConverterTests
{
    private static object? Convert(string json, string type) =>
        TrinoValueConverter.Convert(JsonDocument.Parse(json).RootElement, new TrinoColumn("c", type, null));

    [Theory]
    [InlineData("timestamp(3) with time zone", "timestamp with time zone")]
    [InlineData("decimal(38,10)", "decimal")]
    [InlineData("array(varchar(3))", "array")]
    [InlineData("VARCHAR", "varchar")]
    [InlineData("timestamp(6)", "timestamp")]
    public void Raw_type_drops_parameters(string type, string raw) => Assert.Equal(raw, TrinoValueConverter.RawTypeOf(type));

    [Fact]
    public void Timestamps_of_any_precision_keep_up_to_100ns()
    {
        Assert.Equal(new DateTime(2026, 1, 5, 12, 0, 0).AddTicks(1234567), Convert("\"2026-01-05 12:00:00.123456789\"", "timestamp(9)"));
        Assert.Equal(new DateTime(2026, 1, 5, 12, 0, 0), Convert("\"2026-01-05 12:00:00\"", "timestamp(0)"));
        Assert.Equal(new DateTime(2026, 1, 5, 12, 0, 0, 100), Convert("\"2026-01-05 12:00:00.1\"", "timestamp(1)"));
        Assert.Equal(
            new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.FromHours(-8)).AddTicks(1234560),
            Convert("\"2026-01-05 12:00:00.123456 -08:00\"", "timestamp(6) with time zone"));
    }

    [Fact]
    public void Decimals_too_wide_for_clr_decimal_stay_as_their_text()
    {
        Assert.Equal("123456789012345678901234567890.5", Convert("\"123456789012345678901234567890.5\"", "decimal(38,1)"));
        Assert.Equal(-1.25m, Convert("\"-1.25\"", "decimal(3,2)"));
    }

    [Fact]
    public void Nulls_are_null_and_mismatched_values_are_format_errors()
    {
        Assert.Null(Convert("null", "bigint"));
        Assert.Null(Convert("null", "row(a integer)"));
        Assert.Throws<FormatException>(() => Convert("\"not a date\"", "date"));
        Assert.Throws<FormatException>(() => Convert("[1]", "bigint"));
        Assert.Equal("{\"a\":1}", Convert("{\"a\":1}", "map(varchar,integer)"));
        Assert.Equal("12:30:00", Convert("\"12:30:00\"", "time(3)"));
    }
}
