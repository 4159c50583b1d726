namespace MetricCompiler.Sql.Model;

/// <summary>A time grain metrics are grouped by: ISO weeks start on Monday.</summary>
public enum TimeGrain
{
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// <summary>The first day of the <see cref="Grain"/> period a timestamp (or date) falls in, as a date.</summary>
public sealed record DateTruncExpr(SqlExpr Operand, TimeGrain Grain) : SqlExpr;

/// <summary>A UTC timestamp as local wall-clock time in an IANA time zone.</summary>
public sealed record LocalTimeExpr(SqlExpr Timestamp, string ZoneId) : SqlExpr;

/// <summary>
/// A raw timestamp column as the UTC instant it denotes (the timestamp contract of staging): ISO-8601 text with a space
/// or <c>T</c>, optional fraction of a second, and <c>Z</c>, an offset or no zone (read as UTC); or a native timestamp
/// (read as UTC) or timestamp with time zone. The result is a timestamp without zone, in UTC, keeping milliseconds.
/// Text that is not such a timestamp gives null, never an error.
/// </summary>
public sealed record UtcTimestampExpr(SqlExpr Operand) : SqlExpr;

/// <summary>
/// A test an engine can make before parsing a raw timestamp: false only when the operand is text spelled exactly
/// <c>yyyy-MM-dd HH:mm:ss</c> (or with any one character between date and time; no zone, no fraction) that reads
/// before <see cref="Day"/>, which such text does exactly when its instant is before it (or it is no timestamp at all).
/// An engine that parses cheaply leaves it out of the conditions it is in (<see cref="Dialects.SqlDialect.IsoTextNotBefore"/>).
/// </summary>
public sealed record IsoTextNotBeforeExpr(SqlExpr Operand, DateOnly Day) : SqlExpr;

/// <summary>A date moved by whole days.</summary>
public sealed record DateAddDaysExpr(SqlExpr Date, int Days) : SqlExpr;

/// <summary>A date moved by whole months (end-of-month clamping as the engine does it; only first days are moved here).</summary>
public sealed record DateAddMonthsExpr(SqlExpr Date, int Months) : SqlExpr;

/// <summary>The whole days from one date to another (to minus from).</summary>
public sealed record DateDiffDaysExpr(SqlExpr From, SqlExpr To) : SqlExpr;

/// <summary>A scalar subquery planners use for bounds read off the data (never built from user text).</summary>
public sealed record ScalarSubqueryExpr(QueryExpr Query) : SqlExpr;

/// <summary>
/// One row per day from <see cref="Start"/> through <see cref="EndInclusive"/> (dates), in a column named
/// <see cref="Column"/>: the date spine. Each dialect writes it its own way (generate_series, sequence, or a recursive
/// common table expression, which carries the last day in <see cref="EndColumn"/> so that the bound is read once, not
/// once per day: a bound read off the data is a scan of a table).
/// </summary>
public sealed record DateSpineQuery(SqlExpr Start, SqlExpr EndInclusive, string Column) : QueryExpr
{
    /// <summary>The recursive spelling's second column: the last day, computed in the first row and carried along.</summary>
    public string EndColumn => Column + "_end";
}
