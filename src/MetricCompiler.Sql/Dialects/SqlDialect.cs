using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Dialects;

/// <summary>
/// What differs between warehouses. Everything else (the shape of every query) is shared by <see cref="Rendering.SqlRenderer"/>,
/// so a dialect is a small class of differences: how it quotes, spells types, literals, a few functions, date arithmetic
/// and DDL. Dialects are registered in <see cref="SqlDialects"/>.
/// </summary>
public abstract partial class SqlDialect
{
    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex PlainIdentifier();

    /// <summary>The adapter name used in <c>targets</c> (<c>sqlite</c>, <c>postgres</c>, <c>trino</c>, <c>snowflake</c>, ...).</summary>
    public abstract string Name { get; }

    /// <summary>The engine's keywords that cannot stand as a bare name; such names are quoted.</summary>
    public abstract IReadOnlySet<string> Keywords { get; }

    /// <summary>Quotes a name only when it has to be, so generated SQL stays readable.</summary>
    public virtual string QuoteIdentifier(string name) =>
        PlainIdentifier().IsMatch(name) && !Keywords.Contains(name) ? name : $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>A possibly schema-qualified table name, each part quoted as needed.</summary>
    public string QuoteRelation(string relation) => string.Join('.', relation.Split('.').Select(QuoteIdentifier));

    public abstract string TypeName(SqlType type);

    public virtual string Cast(string operand, SqlType type) => $"cast({operand} as {TypeName(type)})";

    public virtual string StringLiteral(string value) => $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    public virtual string BooleanLiteral(bool value) => value ? "true" : "false";

    public abstract string TimestampLiteral(DateTime value);

    public virtual string DateLiteral(DateOnly value) => $"date '{value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'";

    public abstract string AddDays(string timestamp, int days);

    /// <summary>
    /// True division, null when the divisor is zero, on every engine. Engines that divide integers as integers
    /// (SQLite, PostgreSQL, Trino) override <see cref="DividesIntegers"/> and get a cast of the dividend.
    /// </summary>
    public virtual string Divide(string dividend, string divisor) =>
        DividesIntegers ? $"{Cast(dividend, SqlType.Double)} / nullif({divisor}, 0)" : $"{dividend} / nullif({divisor}, 0)";

    protected virtual bool DividesIntegers => false;

    /// <summary><c>like</c> is case-sensitive everywhere; <c>ilike</c> is case-insensitive everywhere.</summary>
    public virtual string Like(string operand, string pattern, bool caseInsensitive, bool negated) =>
        $"{operand} {(negated ? "not " : "")}{(caseInsensitive ? "ilike" : "like")} {pattern}";

    /// <summary>A call of a portable function (<see cref="Parsing.PortableFunctions"/>); a dialect renames what it must.</summary>
    public virtual string Function(string name, IReadOnlyList<string> arguments) => $"{name}({string.Join(", ", arguments)})";

    public virtual string NullSafeEquals(string left, string right) => $"{left} is not distinct from {right}";

    /// <summary>The first day of the timestamp's (or date's) period, as a date; ISO weeks start on Monday.</summary>
    public virtual string DateTrunc(string operand, TimeGrain grain) => $"cast(date_trunc('{GrainName(grain)}', {operand}) as date)";

    /// <summary>A UTC timestamp as wall-clock time in <paramref name="zoneId"/> (an IANA name, validated by the loader).</summary>
    public abstract string LocalTime(string timestamp, string zoneId);

    /// <summary>A raw value as a number of <paramref name="type"/> (integer or double), null when it is not a number.</summary>
    public virtual string NumberOrNull(string operand, SqlType type) => $"try_cast({operand} as {TypeName(type)})";

    /// <summary>A raw timestamp (ISO text with `T`, `Z` or an offset, or native) as a UTC timestamp; null when unparsable.</summary>
    public abstract string UtcTimestamp(string operand);

    /// <summary>
    /// <see cref="Model.IsoTextNotBeforeExpr"/>: a condition cheaper than <see cref="UtcTimestamp"/> that is false for
    /// text spelled exactly <c>yyyy-MM-dd?HH:mm:ss</c> reading before <paramref name="day"/> and true for null; null (the
    /// default) where the engine has no cheaper spelling (the condition is then left out, and every row is read).
    /// </summary>
    public virtual string? IsoTextNotBefore(string operand, DateOnly day) => null;

    /// <summary>The lowercase hex SHA-256 of a text's UTF-8 bytes.</summary>
    public abstract string Sha256Hex(string text);

    /// <summary>Now, as a UTC timestamp without zone (comparable with staged timestamps).</summary>
    public abstract string CurrentUtcTimestamp { get; }

    public virtual string DateAddDays(string date, int days) =>
        days >= 0 ? $"{date} + {Number(days)}" : $"{date} - {Number(-days)}";

    public virtual string DateAddMonths(string date, int months) =>
        $"cast({date} + interval '{Number(months)} months' as date)";

    public virtual string DateDiffDays(string from, string to) => $"{to} - {from}";

    /// <summary>The seconds from <paramref name="from"/> to <paramref name="to"/> (timestamps), milliseconds kept, as a double.</summary>
    public virtual string SecondsBetween(string from, string to) => $"cast(extract(epoch from {to} - {from}) as {TypeName(SqlType.Double)})";

    /// <summary>Whether the engine has a continuous percentile aggregate; a target without one refuses percentile metrics (MC2009).</summary>
    public virtual bool SupportsPercentile => true;

    /// <summary>The continuous percentile (linear interpolation) of <paramref name="value"/>'s non-null values.</summary>
    public virtual string Percentile(string value, string fraction) =>
        SupportsPercentile
            ? $"percentile_cont({fraction}) within group (order by {value})"
            : throw new NotSupportedException($"{Name} has no percentile aggregate; the compiler refuses percentile metrics for it (MC2009)");

    /// <summary>Whether <see cref="DateSpine"/> refers to its own common table expression (so the <c>with</c> needs <c>recursive</c>).</summary>
    public virtual bool DateSpineIsRecursive => true;

    /// <summary>
    /// The body of the date spine's common table expression, one line per element. Recursively, the last day is a
    /// second column (<paramref name="endColumn"/>) of the first row: a bound in the recursive step would be evaluated
    /// again on every step, and a bound read off the data is a scan of the table (62 scans for 62 days).
    /// </summary>
    public virtual IReadOnlyList<string> DateSpine(string cteName, string start, string endInclusive, string column, string endColumn) =>
    [
        $"select {Cast(start, SqlType.Date)} as {column}, {Cast(endInclusive, SqlType.Date)} as {endColumn}",
        "union all",
        $"select {DateAddDays(column, 1)}, {endColumn} from {cteName} where {column} < {endColumn}",
    ];

    /// <summary>
    /// A query of the catalog giving <c>column_name</c> and <c>data_type</c> of every column of a table, in order; no
    /// rows when the table does not exist. <paramref name="schema"/> null means the connection's current schema.
    /// </summary>
    public virtual string CatalogColumns(string? schema, string table) =>
        "select column_name, data_type from information_schema.columns" + Environment.NewLine +
        $"where table_schema = {(schema is null ? CurrentSchema : StringLiteral(schema.ToLowerInvariant()))} and lower(table_name) = {StringLiteral(table.ToLowerInvariant())}" + Environment.NewLine +
        "order by ordinal_position";

    /// <summary>The current schema, as the catalog names it.</summary>
    protected virtual string CurrentSchema => "current_schema()";

    protected static string GrainName(TimeGrain grain) => grain.ToString().ToLowerInvariant();

    protected static string Quoted(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";

    public virtual string CreateTableAs(string relation, string query) => $"create table {relation} as{Environment.NewLine}{query}";

    public virtual string DropTableIfExists(string relation) => $"drop table if exists {relation}";

    public virtual string CreateViewAs(string relation, string query) => $"create view {relation} as{Environment.NewLine}{query}";

    public virtual string DropViewIfExists(string relation) => $"drop view if exists {relation}";

    /// <summary>
    /// Whether the engine finds rows by a b-tree index rather than by scanning and hashing (SQLite and PostgreSQL): then
    /// a table kept from run to run, an incremental staging's, is worth indexing on what its joins look up.
    /// </summary>
    public virtual bool LooksUpByIndex => false;

    /// <summary>An index named <paramref name="name"/> (unqualified: it lives in the table's schema) on <paramref name="relation"/>.</summary>
    public virtual string CreateIndex(string name, string relation, IReadOnlyList<string> columns) =>
        $"create index {QuoteIdentifier(name)} on {relation} ({string.Join(", ", columns.Select(QuoteIdentifier))})";

    /// <summary>Renames a table within its schema; the new name is unqualified.</summary>
    public virtual string RenameTable(string relation, string newName) => $"alter table {relation} rename to {QuoteIdentifier(newName)}";

    protected static string FormatTimestamp(DateTime value) =>
        value.ToString(value.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    protected static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
