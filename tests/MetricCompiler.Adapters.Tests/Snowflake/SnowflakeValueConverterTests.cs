using System.Numerics;
using MetricCompiler.Adapters.Snowflake;

using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

public sealed class SnowflakeValueConverterTests
{
    private static object? Convert(string type, string? wire, int? scale = null) =>
        SnowflakeValueConverter.Convert(new SnowflakeColumn("c", type, scale, 38, true), wire);

    [Fact]
    public void Fixed_numbers_become_long_then_decimal_then_BigInteger_and_decimal_with_scale()
    {
        Assert.Equal(42L, Convert("fixed", "42", 0));
        Assert.Equal(-9223372036854775808L, Convert("fixed", "-9223372036854775808", 0));
        Assert.Equal(9223372036854775808m, Convert("fixed", "9223372036854775808", 0));
        Assert.Equal(BigInteger.Parse("12345678901234567890123456789012345678", System.Globalization.CultureInfo.InvariantCulture),
            Convert("fixed", "12345678901234567890123456789012345678", 0));
        Assert.Equal(1234.50m, Convert("fixed", "1234.50", 2));
        Assert.Equal(-0.000001m, Convert("fixed", "-0.000001", 6));
    }

    [Fact]
    public void Reals_parse_invariantly_with_infinities_and_NaN()
    {
        Assert.Equal(3.25, Convert("real", "3.25"));
        Assert.Equal(1e-300, Convert("real", "1e-300"));
        Assert.Equal(double.PositiveInfinity, Convert("real", "inf"));
        Assert.Equal(double.NegativeInfinity, Convert("real", "-inf"));
        Assert.True(double.IsNaN((double)Convert("real", "NaN")!));
    }

    [Fact]
    public void Dates_times_and_timestamps_follow_the_documented_epoch_encodings()
    {
        Assert.Equal(new DateOnly(2020, 1, 1), Convert("date", "18262"));
        Assert.Equal(new DateOnly(1969, 12, 31), Convert("date", "-1"));
        Assert.Equal(new TimeOnly(23, 1, 59), Convert("time", "82919.000000000", 9));
        Assert.Equal(new TimeOnly(0, 0, 0).Add(TimeSpan.FromTicks(1_234_567)), Convert("time", "0.123456789", 9));

        var ntz = Assert.IsType<DateTime>(Convert("timestamp_ntz", "1616173619.123456789", 9));
        Assert.Equal(DateTimeKind.Utc, ntz.Kind);
        Assert.Equal(new DateTime(2021, 3, 19, 17, 6, 59, DateTimeKind.Utc).AddTicks(1_234_567), ntz);
        Assert.Equal(new DateTime(1969, 12, 30, 23, 59, 59, 750, DateTimeKind.Utc), Convert("timestamp_ltz", "-86400.250000000", 9));

        var tz = Assert.IsType<DateTimeOffset>(Convert("timestamp_tz", "1616173619.000000000 960", 9));
        Assert.Equal(TimeSpan.FromHours(-8), tz.Offset);
        Assert.Equal(new DateTimeOffset(2021, 3, 19, 9, 6, 59, TimeSpan.FromHours(-8)), tz);
        Assert.Equal(TimeSpan.FromMinutes(330), ((DateTimeOffset)Convert("timestamp_tz", "1616173619 1770")!).Offset);
    }

    [Fact]
    public void Text_boolean_binary_semistructured_and_null()
    {
        Assert.Equal("héllo", Convert("text", "héllo"));
        Assert.Equal(true, Convert("boolean", "true"));
        Assert.Equal(false, Convert("BOOLEAN", "0"));
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, Convert("binary", "DEADBEEF"));
        Assert.Equal("{\n  \"a\": 1\n}", Convert("variant", "{\n  \"a\": 1\n}"));
        Assert.Null(Convert("fixed", null, 0));
        Assert.Null(Convert("timestamp_tz", null));
    }

    [Fact]
    public void A_value_not_in_the_documented_format_names_the_column()
    {
        var e = Assert.Throws<SnowflakeException>(() =>
            SnowflakeValueConverter.Convert(new SnowflakeColumn("EVENT_DATE", "date", null, null, true), "2020-01-01"));
        Assert.Contains("EVENT_DATE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_test_servers_wire_encoder_round_trips_through_the_converter()
    {
        object?[] values =
        [
            42L, 12.5m, 0.1, "x", true, new DateOnly(1999, 12, 31), new TimeOnly(13, 14, 15, 16),
            new DateTime(2024, 2, 29, 12, 30, 15, 123, DateTimeKind.Utc),
            new DateTimeOffset(2024, 2, 29, 12, 30, 15, TimeSpan.FromHours(5.5)),
            new DateTime(1960, 1, 1, 0, 0, 0, 500, DateTimeKind.Utc), new byte[] { 1, 2, 255 },
        ];
        foreach (var value in values)
        {
            var column = SnowflakeWireFormat.ColumnFor("c", value!.GetType(), decimalScale: 1);
            var decoded = SnowflakeValueConverter.Convert(new SnowflakeColumn("c", column.Type, column.Scale, column.Precision, true),
                SnowflakeWireFormat.Encode(value));
            Assert.Equal(value, decoded);
            if (value is DateTimeOffset expected)
                Assert.Equal(expected.Offset, ((DateTimeOffset)decoded!).Offset);
        }
    }
}
