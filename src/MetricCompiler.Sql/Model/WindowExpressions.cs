namespace MetricCompiler.Sql.Model;

/// <summary>
/// A function evaluated over a window of rows: <c>lag(t) over (partition by user_id order by t)</c>, or a running
/// <c>sum(...) over (...)</c>. With an ordering and no frame, every engine uses the SQL default frame (from the
/// partition's first row through the current row and its peers), so rows that tie on the ordering get the same value.
/// </summary>
public sealed record WindowExpr(FunctionCall Function, IReadOnlyList<SqlExpr> PartitionBy, IReadOnlyList<SortKey> OrderBy) : SqlExpr;

/// <summary>The seconds from one timestamp to another (to minus from), with milliseconds, as a double.</summary>
public sealed record SecondsBetweenExpr(SqlExpr From, SqlExpr To) : SqlExpr;
