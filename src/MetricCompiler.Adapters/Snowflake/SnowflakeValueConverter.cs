using System.Globalization;
using System.Numerics;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// Turns the SQL API's <c>jsonv2</c> values (every value is a JSON string, SQL NULL is JSON null) into .NET values,
/// following the documented encodings:
/// <list type="table">
/// <item><term>fixed, scale 0</term><description><see cref="long"/>; a value beyond it <see cref="decimal"/>, beyond that <see cref="BigInteger"/></description></item>
/// <item><term>fixed, scale &gt; 0</term><description><see cref="decimal"/> (the exact text when it exceeds decimal's range)</description></item>
/// <item><term>real / float / double</term><description><see cref="double"/> (<c>inf</c>, <c>-inf</c>, <c>NaN</c> included)</description></item>
/// <item><term>decfloat</term><description><see cref="decimal"/>, or the text when it does not fit</description></item>
/// <item><term>text</term><description><see cref="string"/></description></item>
/// <item><term>boolean</term><description><see cref="bool"/> (<c>true</c>/<c>false</c>, also <c>1</c>/<c>0</c>)</description></item>
/// <item><term>date</term><description><see cref="DateOnly"/> from the number of days since 1970-01-01</description></item>
/// <item><term>time</term><description><see cref="TimeOnly"/> from seconds (with fraction) since midnight</description></item>
/// <item><term>timestamp_ntz, timestamp_ltz</term><description><see cref="DateTime"/> (UTC kind) from seconds with fraction since the epoch</description></item>
/// <item><term>timestamp_tz</term><description><see cref="DateTimeOffset"/> from <c>"seconds.fraction offset"</c>, the offset
/// encoded as minutes + 1440 (so <c>960</c> is UTC−08:00)</description></item>
/// <item><term>binary</term><description><see cref="byte"/>[] from hex</description></item>
/// <item><term>variant, object, array, others</term><description>the text as sent (JSON for semi-structured types)</description></item>
/// </list>
/// Fractions finer than 100 ns (.NET's tick) are truncated.
/// </summary>
public static class SnowflakeValueConverter
{
    /// <summary>The offset Snowflake adds to a TIMESTAMP_TZ's offset in minutes so that the number is never negative.</summary>
    public const int TimeZoneOffsetBias = 1440;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The .NET type <see cref="Convert"/> produces for <paramref name="column"/> (for ordinary values).</summary>
    public static Type ClrTypeOf(SnowflakeColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return Normalize(column.Type) switch
        {
            "fixed" or "number" or "decimal" or "numeric" or "int" or "integer" or "bigint" =>
                (column.Scale ?? 0) == 0 ? typeof(long) : typeof(decimal),
            "real" or "float" or "double" => typeof(double),
            "decfloat" => typeof(decimal),
            "boolean" => typeof(bool),
            "date" => typeof(DateOnly),
            "time" => typeof(TimeOnly),
            "timestamp_ntz" or "timestamp_ltz" or "datetime" => typeof(DateTime),
            "timestamp_tz" => typeof(DateTimeOffset),
            "binary" => typeof(byte[]),
            _ => typeof(string),
        };
    }

    /// <summary>Converts one row; the row must have one value per column.</summary>
    public static object?[] ConvertRow(IReadOnlyList<SnowflakeColumn> columns, IReadOnlyList<string?> row)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(row);
        if (row.Count != columns.Count)
            throw new SnowflakeException($"a result row has {row.Count} values for {columns.Count} columns");
        var values = new object?[row.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = Convert(columns[i], row[i]);
        return values;
    }

    /// <summary>Converts one wire value of <paramref name="column"/>; null stays null.</summary>
    public static object? Convert(SnowflakeColumn column, string? value)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (value is null)
            return null;
        try
        {
            return Normalize(column.Type) switch
            {
                "fixed" or "number" or "decimal" or "numeric" or "int" or "integer" or "bigint" =>
                    ParseFixed(value, column.Scale ?? 0),
                "real" or "float" or "double" => ParseReal(value),
                "decfloat" => decimal.TryParse(value, NumberStyles.Float, Invariant, out var d) ? d : value,
                "boolean" => ParseBoolean(value),
                "date" => DateOnly.FromDayNumber(checked(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber +
                                                         int.Parse(value, NumberStyles.AllowLeadingSign, Invariant))),
                "time" => new TimeOnly(ParseSecondsAsTicks(value)),
                "timestamp_ntz" or "timestamp_ltz" or "datetime" => DateTime.UnixEpoch.AddTicks(ParseSecondsAsTicks(value)),
                "timestamp_tz" => ParseTimestampTz(value),
                "binary" => System.Convert.FromHexString(value),
                _ => value,
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new SnowflakeException(
                $"column {column.Name} ({column.Type}) holds a value that is not in the documented format: '{Shorten(value)}'", e);
        }
    }

    /// <summary>
    /// Parses <c>[-]seconds[.fraction]</c> into 100 ns ticks exactly (no floating point), truncating digits beyond the
    /// seventh.
    /// </summary>
    public static long ParseSecondsAsTicks(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var span = value.AsSpan().Trim();
        var negative = span.Length > 0 && span[0] == '-';
        if (span.Length > 0 && (span[0] == '-' || span[0] == '+'))
            span = span[1..];
        var dot = span.IndexOf('.');
        var whole = dot < 0 ? span : span[..dot];
        var fraction = dot < 0 ? ReadOnlySpan<char>.Empty : span[(dot + 1)..];
        if (whole.IsEmpty && fraction.IsEmpty)
            throw new FormatException("no digits");
        var seconds = whole.IsEmpty ? 0 : long.Parse(whole, NumberStyles.None, Invariant);
        long fractionTicks = 0;
        for (var i = 0; i < fraction.Length; i++)
        {
            var digit = fraction[i] - '0';
            if (digit is < 0 or > 9)
                throw new FormatException("not a decimal number");
            if (i < 7)
                fractionTicks = fractionTicks * 10 + digit;
        }

        for (var i = fraction.Length; i < 7; i++)
            fractionTicks *= 10;
        var ticks = checked(seconds * TimeSpan.TicksPerSecond + fractionTicks);
        return negative ? -ticks : ticks;
    }

    private static object ParseFixed(string value, int scale)
    {
        if (scale == 0 && long.TryParse(value, NumberStyles.AllowLeadingSign, Invariant, out var integer))
            return integer;
        if (decimal.TryParse(value, NumberStyles.Float, Invariant, out var number))
            return number;
        if (scale == 0)
            return BigInteger.Parse(value, NumberStyles.AllowLeadingSign, Invariant);
        // Beyond decimal's 28-29 digits: keep the exact text rather than round silently.
        if (!value.AsSpan().ContainsAnyExcept("+-.0123456789"))
            return value;
        throw new FormatException("not a number");
    }

    private static double ParseReal(string value) => value.Trim().ToLowerInvariant() switch
    {
        "inf" or "infinity" or "+inf" => double.PositiveInfinity,
        "-inf" or "-infinity" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, Invariant),
    };

    private static bool ParseBoolean(string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException("not a boolean"),
    };

    private static DateTimeOffset ParseTimestampTz(string value)
    {
        var parts = value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
            throw new FormatException("TIMESTAMP_TZ expects 'seconds offset'");
        var instant = DateTime.UnixEpoch.AddTicks(ParseSecondsAsTicks(parts[0]));
        var offsetMinutes = int.Parse(parts[1], NumberStyles.AllowLeadingSign, Invariant) - TimeZoneOffsetBias;
        return new DateTimeOffset(instant).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
    }

    private static string Normalize(string type) => type.Trim().ToLowerInvariant();

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
