using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>
/// DuckDB, the embedded analytical engine: columnar, with ICU time zones. It divides integers as true division already
/// and, like PostgreSQL, lets <c>greatest</c>/<c>least</c> skip nulls.
/// </summary>
public sealed class DuckDbDialect : SqlDialect
{
    public static DuckDbDialect Instance { get; } = new();

    public override string Name => "duckdb";

    public override IReadOnlySet<string> Keywords => DuckDbKeywords.Words;

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "varchar",
        SqlType.Integer => "bigint",
        SqlType.Double => "double",
        SqlType.Boolean => "boolean",
        SqlType.Date => "date",
        SqlType.Timestamp => "timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"timestamp '{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) =>
        days >= 0 ? $"{timestamp} + interval '{Number(days)} days'" : $"{timestamp} - interval '{Number(-days)} days'";

    /// <summary>ICU's <c>timezone()</c>: the naive UTC timestamp as an instant, then as wall-clock time in the zone.</summary>
    public override string LocalTime(string timestamp, string zoneId) => $"timezone({Quoted(zoneId)}, timezone('UTC', {timestamp}))";

    /// <summary>
    /// Text without a zone is read in the session time zone, which the adapter sets to UTC; a native timestamp likewise.
    /// <c>try_cast</c> turns text that is no timestamp into null. Parsing through <c>timestamptz</c> (which applies an
    /// offset or a zone name) costs about three times a plain timestamp parse, so two spellings skip it: a native
    /// timestamp (<c>typeof</c> is folded per column, so the branch costs nothing) is taken as it is, and text of
    /// exactly <c>yyyy-MM-dd HH:mm:ss</c> (or with <c>T</c>), which has no room for a zone, parses as a timestamp.
    /// </summary>
    public override string UtcTimestamp(string operand)
    {
        var text = $"cast({operand} as varchar)";
        return $"case when typeof({operand}) = 'TIMESTAMP' then try_cast({operand} as timestamp) " +
            $"when length({text}) = 19 and substr({text}, 14, 1) = ':' and substr({text}, 17, 1) = ':' then try_cast({text} as timestamp) " +
            $"else cast(try_cast({text} as timestamptz) as timestamp) end";
    }

    /// <summary>
    /// A native timestamp compares as it is; text by a pattern and a byte comparison (a tenth of a parse). Null (a null
    /// time) is not before the day.
    /// </summary>
    public override string? IsoTextNotBefore(string operand, DateOnly day)
    {
        var text = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return $"coalesce(case when typeof({operand}) = 'TIMESTAMP' then try_cast({operand} as timestamp) >= date '{text}' " +
            $"else not (cast({operand} as varchar) like '____-__-_____:__:__' and cast({operand} as varchar) < '{text}') end, true)";
    }

    public override string SecondsBetween(string from, string to) => $"date_diff('millisecond', {from}, {to}) / 1000.0";

    public override string Percentile(string value, string fraction) => $"quantile_cont({value}, {fraction})";

    public override string Function(string name, IReadOnlyList<string> arguments) => name switch
    {
        // greatest and least skip nulls here; everywhere else a null argument gives null.
        "greatest" or "least" => $"case when {string.Join(" or ", arguments.Select(a => $"{a} is null"))} then null else {base.Function(name, arguments)} end",
        _ => base.Function(name, arguments),
    };

    public override string Sha256Hex(string text) => $"sha256({text})";

    public override string CurrentUtcTimestamp => "timezone('UTC', current_timestamp)";
}
