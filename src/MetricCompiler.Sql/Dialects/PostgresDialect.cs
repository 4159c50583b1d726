using MetricCompiler.Sql.Dialects.Keywords;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

public sealed class PostgresDialect : SqlDialect
{
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

    public override string LocalTime(string timestamp, string zoneId) => $"({timestamp} at time zone 'UTC') at time zone {Quoted(zoneId)}";

    public override bool DateSpineIsRecursive => false;

    public override IReadOnlyList<string> DateSpine(string cteName, string start, string endInclusive, string column) =>
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
}
