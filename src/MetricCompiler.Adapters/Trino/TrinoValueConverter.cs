using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MetricCompiler.Adapters.Trino;

/// <summary>
/// Turns the JSON value Trino sends for a cell into a CLR value by the column's raw type:
/// <list type="bullet">
/// <item><c>boolean</c> → <see cref="bool"/>; <c>tinyint</c>, <c>smallint</c>, <c>integer</c>, <c>bigint</c> → <see cref="long"/>;</item>
/// <item><c>real</c>, <c>double</c> → <see cref="double"/> (the strings <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c> included);</item>
/// <item><c>decimal(p,s)</c> (sent as a string) → <see cref="decimal"/>, or the string itself when it does not fit a <see cref="decimal"/> (over 28 digits);</item>
/// <item><c>varchar</c>, <c>char</c> → <see cref="string"/>; <c>date</c> → <see cref="DateOnly"/>;</item>
/// <item><c>timestamp(p)</c> → <see cref="DateTime"/> of kind <see cref="DateTimeKind.Unspecified"/>, fractions past 100 ns truncated;</item>
/// <item><c>timestamp(p) with time zone</c> → <see cref="DateTimeOffset"/> (zone <c>UTC</c>, an offset such as <c>+01:00</c>, or an IANA zone this machine knows);</item>
/// <item>JSON null → null, whatever the type.</item>
/// </list>
/// Any other type (time, interval, uuid, array, map, row, json, …) stays as sent: a JSON string as its string, anything else as its raw JSON text.
/// </summary>
public static class TrinoValueConverter
{
    /// <summary>Converts one cell; throws <see cref="FormatException"/> when the value does not read as its type.</summary>
    public static object? Convert(JsonElement value, TrinoColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return Convert(value, column.RawType);
    }

    /// <summary>Converts one cell by a raw type name (see <see cref="RawTypeOf"/>).</summary>
    public static object? Convert(JsonElement value, string rawType)
    {
        if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            return null;
        return rawType switch
        {
            "boolean" => value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => bool.Parse(value.GetString()!),
                _ => throw Mismatch(value, rawType),
            },
            "tinyint" or "smallint" or "integer" or "bigint" => value.ValueKind switch
            {
                JsonValueKind.Number => value.GetInt64(),
                JsonValueKind.String => long.Parse(value.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                _ => throw Mismatch(value, rawType),
            },
            "real" or "double" => value.ValueKind switch
            {
                JsonValueKind.Number => value.GetDouble(),
                JsonValueKind.String => ParseDouble(value.GetString()!),
                _ => throw Mismatch(value, rawType),
            },
            "decimal" => value.ValueKind switch
            {
                JsonValueKind.String => ParseDecimal(value.GetString()!),
                JsonValueKind.Number => value.GetDecimal(),
                _ => throw Mismatch(value, rawType),
            },
            "varchar" or "char" => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(),
            "date" => DateOnly.ParseExact(StringOf(value, rawType), "yyyy-MM-dd", CultureInfo.InvariantCulture),
            "timestamp" => ParseTimestamp(StringOf(value, rawType)),
            "timestamp with time zone" => ParseTimestampWithTimeZone(StringOf(value, rawType)),
            _ => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText(),
        };
    }

    /// <summary>The type text without its parameters, lower case: <c>timestamp(3) with time zone</c> → <c>timestamp with time zone</c>, <c>array(varchar(3))</c> → <c>array</c>.</summary>
    public static string RawTypeOf(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var builder = new StringBuilder(type.Length);
        var depth = 0;
        foreach (var c in type)
        {
            if (c == '(')
                depth++;
            else if (c == ')')
                depth = Math.Max(0, depth - 1);
            else if (depth == 0)
                builder.Append(char.ToLowerInvariant(c));
        }

        return string.Join(' ', builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static double ParseDouble(string text) => text switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static object ParseDecimal(string text)
    {
        try
        {
            return decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            return text;
        }
    }

    /// <summary>Reads <c>yyyy-MM-dd HH:mm:ss[.f…]</c> with any number of fraction digits (kept to 7).</summary>
    private static DateTime ParseTimestamp(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? text : text[..dot];
        var result = DateTime.ParseExact(whole, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None);
        if (dot < 0)
            return result;

        var fraction = text[(dot + 1)..];
        if (fraction.Length == 0 || !fraction.All(char.IsAsciiDigit))
            throw new FormatException($"'{text}' is not a Trino timestamp");
        var ticks = long.Parse(fraction.Length > 7 ? fraction[..7] : fraction.PadRight(7, '0'), CultureInfo.InvariantCulture);
        return DateTime.SpecifyKind(result.AddTicks(ticks), DateTimeKind.Unspecified);
    }

    /// <summary>Reads <c>yyyy-MM-dd HH:mm:ss[.f…] zone</c>, the zone being <c>UTC</c>, <c>±HH:mm</c> or an IANA name.</summary>
    private static object ParseTimestampWithTimeZone(string text)
    {
        var space = text.IndexOf(' ', 11);
        if (space < 0)
            throw new FormatException($"'{text}' has no time zone");
        var local = ParseTimestamp(text[..space]);
        var zone = text[(space + 1)..].Trim();

        TimeSpan offset;
        if (zone is "UTC" or "Z" or "GMT" or "UT" or "Etc/UTC")
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length > 1 && (zone[0] == '+' || zone[0] == '-'))
        {
            var magnitude = TimeSpan.ParseExact(zone[1..], zone.Contains(':', StringComparison.Ordinal) ? @"hh\:mm" : "hh", CultureInfo.InvariantCulture);
            offset = zone[0] == '-' ? -magnitude : magnitude;
        }
        else
        {
            try
            {
                offset = TimeZoneInfo.FindSystemTimeZoneById(zone).GetUtcOffset(local);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                return text;
            }
        }

        return new DateTimeOffset(local, offset);
    }

    private static string StringOf(JsonElement value, string rawType) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Mismatch(value, rawType);

    private static FormatException Mismatch(JsonElement value, string rawType) =>
        new($"a {rawType} value cannot be JSON {value.ValueKind.ToString().ToLowerInvariant()}");
}
