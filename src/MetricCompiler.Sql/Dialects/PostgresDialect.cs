using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

public sealed class PostgresDialect : SqlDialect
{
    public override bool LooksUpByIndex => true;

    public static PostgresDialect Instance { get; } = new();

    public override string Name => "postgres";

    public override IReadOnlySet<string> Keywords => PostgresKeywords.Words;

    protected override bool DividesIntegers => true;

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "text",
        SqlType.Integer => "bigint",
        SqlType.Double => "double precision",
        SqlType.Boolean => "boolean",
        SqlType.Date => "date",
        SqlType.Timestamp => "timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"timestamp '{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) =>
        days >= 0 ? $"{timestamp} + interval '{Number(days)} days'" : $"{timestamp} - interval '{Number(-days)} days'";

    /// <summary>
    /// <c>timestamptz</c> input reads `T`, `Z` and offsets; text without a zone (and a native timestamp) is read in the
    /// session time zone, which the adapter sets to UTC. PostgreSQL has no try_cast: text that does not look like an
    /// ISO timestamp is null instead of an error.
    /// </summary>
    public override string UtcTimestamp(string operand) =>
        $"case when cast({operand} as text) ~ '{IsoTimestampPattern}' then cast(cast({operand} as text) as timestamptz) at time zone 'UTC' end";

    /// <summary>
    /// The regular expression that guards the timestamp cast costs about five times the cast: an incremental window's
    /// filter first drops, by a pattern and a byte comparison, the text that plainly reads before the window.
    /// </summary>
    public override string? IsoTextNotBefore(string operand, DateOnly day) =>
        $"coalesce(not (cast({operand} as text) collate \"C\" like '____-__-_____:__:__' and cast({operand} as text) collate \"C\" < '{day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}'), true)";

    /// <summary>PostgreSQL has no try_cast: a value is read as a number only when its text is a decimal number (`NaN` and `Infinity` are not).</summary>
    public override string NumberOrNull(string operand, SqlType type) =>
        $"case when cast({operand} as text) ~ '{(type == SqlType.Integer ? IntegerPattern : NumberPattern)}' then {Cast($"cast({operand} as text)", type)} end";

    private const string IntegerPattern = @"^\s*[+-]?\d+\s*$";

    private const string NumberPattern = @"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$";

    /// <summary>ISO dates and times with fields in range (a day past the month's end, such as 02-30, still fails the cast).</summary>
    private const string IsoTimestampPattern =
        @"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?)? ?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?$";

    public override string LocalTime(string timestamp, string zoneId) => $"({timestamp} at time zone 'UTC') at time zone {Quoted(zoneId)}";

    public override bool DateSpineIsRecursive => false;

    public override IReadOnlyList<string> DateSpine(string cteName, string start, string endInclusive, string column, string endColumn) =>
        [$"select cast(generate_series({Cast(start, SqlType.Date)}, {Cast(endInclusive, SqlType.Date)}, interval '1 day') as date) as {column}"];

    public override string Function(string name, IReadOnlyList<string> arguments) => name switch
    {
        // round(double precision) rounds half to even and round(double precision, int) does not exist; numeric rounds
        // half away from zero, as every other engine does.
        "round" => $"cast(round(cast({arguments[0]} as numeric){(arguments.Count == 2 ? $", {arguments[1]}" : "")}) as double precision)",
        // greatest and least skip nulls here; everywhere else a null argument gives null.
        "greatest" or "least" => $"case when {string.Join(" or ", arguments.Select(a => $"{a} is null"))} then null else {base.Function(name, arguments)} end",
        _ => base.Function(name, arguments),
    };

    public override string Sha256Hex(string text) => $"encode(sha256(convert_to({text}, 'UTF8')), 'hex')";

    public override string CurrentUtcTimestamp => "(current_timestamp at time zone 'UTC')";
}
