using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>
/// SQLite stores timestamps as ISO-8601 text; <c>datetime()</c> normalises them. The adapter turns on
/// <c>case_sensitive_like</c>, so <c>like</c> means what it means elsewhere and <c>ilike</c> is spelled with <c>lower()</c>.
/// </summary>
public sealed class SqliteDialect : SqlDialect
{
    public override bool LooksUpByIndex => true;

    public static SqliteDialect Instance { get; } = new();

    public override string Name => "sqlite";

    public override IReadOnlySet<string> Keywords => SqliteKeywords.Words;

    protected override bool DividesIntegers => true;

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "text",
        SqlType.Integer or SqlType.Boolean => "integer",
        SqlType.Double => "real",
        SqlType.Timestamp or SqlType.Date => "text",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string Cast(string operand, SqlType type) => type switch
    {
        SqlType.Timestamp => $"datetime({operand})",
        SqlType.Date => $"date({operand})",
        _ => base.Cast(operand, type),
    };

    /// <summary>
    /// SQLite's cast reads the longest numeric prefix, so `'N/A'` would be 0: a value is a number when it equals its own
    /// cast (comparing with the cast applies numeric affinity, which converts only well-formed numeric text).
    /// </summary>
    public override string NumberOrNull(string operand, SqlType type) =>
        $"case when {operand} = {Cast(operand, type)} then {Cast(operand, type)} end";

    public override string TimestampLiteral(DateTime value) => $"'{FormatTimestamp(value)}'";

    public override string DateLiteral(DateOnly value) => $"'{value:yyyy-MM-dd}'";

    /// <summary>Text with milliseconds, so that an event earlier in the same second as an exposure stays before it.</summary>
    public override string AddDays(string timestamp, int days) =>
        $"strftime('%Y-%m-%d %H:%M:%f', {timestamp}, '{(days >= 0 ? "+" : "")}{Number(days)} days')";

    /// <summary>
    /// SQLite's date functions read ISO text with `T` or a space, fractions, `Z` and offsets (converted to UTC), and
    /// give null for anything else; `%f` keeps milliseconds (<c>datetime()</c> would drop them).
    /// </summary>
    public override string UtcTimestamp(string operand) => $"strftime('%Y-%m-%d %H:%M:%f', {operand})";

    /// <summary>A pattern and a text comparison cost less than <c>strftime</c>'s parse: an incremental window's filter first drops the text that plainly reads before it.</summary>
    public override string? IsoTextNotBefore(string operand, DateOnly day) =>
        $"coalesce(not ({operand} like '____-__-_____:__:__' and {operand} < '{day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}'), true)";

    public override string Like(string operand, string pattern, bool caseInsensitive, bool negated) =>
        caseInsensitive ? $"lower({operand}) {(negated ? "not " : "")}like lower({pattern})" : base.Like(operand, pattern, false, negated);

    /// <summary>SQLite has no time zones: the adapter registers <c>metricc_local_time</c>, backed by the zone database.</summary>
    public override string LocalTime(string timestamp, string zoneId) => $"metricc_local_time({timestamp}, {Quoted(zoneId)})";

    public override string DateTrunc(string operand, TimeGrain grain) => grain switch
    {
        TimeGrain.Day => $"date({operand})",
        TimeGrain.Week => $"date({operand}, '-' || ((cast(strftime('%w', {operand}) as integer) + 6) % 7) || ' days')",
        TimeGrain.Month => $"date({operand}, 'start of month')",
        TimeGrain.Quarter => $"date({operand}, 'start of month', '-' || ((cast(strftime('%m', {operand}) as integer) - 1) % 3) || ' months')",
        TimeGrain.Year => $"date({operand}, 'start of year')",
        _ => throw new ArgumentOutOfRangeException(nameof(grain)),
    };

    public override string NullSafeEquals(string left, string right) => $"{left} is {right}";

    public override string DateAddDays(string date, int days) => $"date({date}, '{(days >= 0 ? "+" : "")}{Number(days)} days')";

    public override string DateAddMonths(string date, int months) => $"date({date}, '{(months >= 0 ? "+" : "")}{Number(months)} months')";

    public override string DateDiffDays(string from, string to) => $"cast(julianday({to}) - julianday({from}) as integer)";

    /// <summary>Julian days to milliseconds, rounded, so that a gap of exactly 30 minutes is exactly 1800 seconds.</summary>
    public override string SecondsBetween(string from, string to) => $"round((julianday({to}) - julianday({from})) * 86400000) / 1000.0";

    /// <summary>SQLite has no percentile aggregate (the percentile extension is not loaded).</summary>
    public override bool SupportsPercentile => false;

    public override string Function(string name, IReadOnlyList<string> arguments) => name switch
    {
        // SQLite's multi-argument min() and max() are its scalar least and greatest.
        "greatest" => base.Function("max", arguments),
        "least" => base.Function("min", arguments),
        _ => base.Function(name, arguments),
    };

    /// <summary>SQLite has no hash functions: the adapter registers <c>metricc_sha256</c> (.NET's SHA-256 of the UTF-8 text).</summary>
    public override string Sha256Hex(string text) => $"metricc_sha256({text})";

    public override string CurrentUtcTimestamp => "strftime('%Y-%m-%d %H:%M:%f', 'now')";

    /// <summary>SQLite's catalog is <c>pragma_table_info</c>; its types are the declared ones (any text, by affinity).</summary>
    public override string CatalogColumns(string? schema, string table) =>
        $"select name as column_name, type as data_type from pragma_table_info({StringLiteral(table)}{(schema is null ? "" : ", " + StringLiteral(schema))}) order by cid";
}
