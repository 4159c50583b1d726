using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>Trino has no <c>ilike</c>; it divides integers as integers.</summary>
public sealed class TrinoDialect : SqlDialect
{
    public static TrinoDialect Instance { get; } = new();

    public override string Name => "trino";

    public override IReadOnlySet<string> Keywords => TrinoKeywords.Words;

    protected override bool DividesIntegers => true;

    public override string TypeName(SqlType type) => type switch
    {
        SqlType.String => "varchar",
        SqlType.Integer => "bigint",
        SqlType.Double => "double",
        SqlType.Boolean => "boolean",
        SqlType.Date => "date",
        SqlType.Timestamp => "timestamp(3)",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public override string TimestampLiteral(DateTime value) => $"timestamp '{FormatTimestamp(value)}'";

    public override string AddDays(string timestamp, int days) => $"date_add('day', {Number(days)}, {timestamp})";

    /// <summary>
    /// Trino's varchar-to-timestamp cast rejects the `T` form, so text goes through <c>from_iso8601_timestamp</c> (a
    /// space becomes `T`; no zone means the session zone, which the client sets to UTC); <c>try</c> makes bad text null.
    /// </summary>
    public override string UtcTimestamp(string operand) =>
        $"cast(at_timezone(try(from_iso8601_timestamp(replace(cast({operand} as varchar), ' ', 'T'))), 'UTC') as timestamp(3))";

    public override string LocalTime(string timestamp, string zoneId) => $"cast(with_timezone({timestamp}, 'UTC') at time zone {Quoted(zoneId)} as timestamp(3))";

    public override string DateAddDays(string date, int days) => $"date_add('day', {Number(days)}, {date})";

    public override string DateAddMonths(string date, int months) => $"date_add('month', {Number(months)}, {date})";

    public override string DateDiffDays(string from, string to) => $"date_diff('day', {from}, {to})";

    public override string SecondsBetween(string from, string to) => $"cast(date_diff('millisecond', {from}, {to}) as double) / 1000";

    /// <summary>Trino has no exact percentile: <c>approx_percentile</c> is a sketch (t-digest), close to but not always the interpolated value.</summary>
    public override string Percentile(string value, string fraction) => $"approx_percentile({value}, {fraction})";

    public override bool DateSpineIsRecursive => false;

    public override IReadOnlyList<string> DateSpine(string cteName, string start, string endInclusive, string column, string endColumn) =>
        [$"select {column} from unnest(sequence({Cast(start, SqlType.Date)}, {Cast(endInclusive, SqlType.Date)}, interval '1' day)) as spine ({column})"];

    public override string Like(string operand, string pattern, bool caseInsensitive, bool negated) =>
        caseInsensitive ? $"lower({operand}) {(negated ? "not " : "")}like lower({pattern})" : base.Like(operand, pattern, false, negated);

    public override string Sha256Hex(string text) => $"lower(to_hex(sha256(to_utf8({text}))))";

    public override string CurrentUtcTimestamp => "cast(at_timezone(current_timestamp, 'UTC') as timestamp(3))";

    /// <summary>Trino's session schema is <c>current_schema</c>, without parentheses.</summary>
    protected override string CurrentSchema => "current_schema";
}
