using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// The query an incremental run builds an incremental model's table with: the days of the table in place before the
/// window start, and the model's own query for the rest (rows without an event time too: they cannot be placed in a
/// day, so every run recomputes them). The result is built under the build name and swapped in with every other table.
/// </summary>
public static class IncrementalSql
{
    /// <summary>The name of the model's query inside the incremental query.</summary>
    public const string Window = "mc_incremental_window";

    /// <summary>The query that rebuilds <paramref name="node"/> from <paramref name="start"/> onwards.</summary>
    /// <exception cref="ArgumentException">The node is not an incremental model.</exception>
    public static QueryExpr Rebuild(PlanNode node, DateOnly start)
    {
        var config = node.Incremental ?? throw new ArgumentException($"`{node.Name}` is not an incremental model", nameof(node));
        if (node.Staging is { } staging)
            return staging.From(node.Name, start);
        var eventTime = Col(config.EventTime);
        var from = new DateLiteral(start);
        var kept = new SelectQuery([new StarExpr().Item()], From(new SourceTableRef(node.Name)), Where: Lt(eventTime, from));
        var recomputed = new SelectQuery([new StarExpr().Item()], From(new CteRef(Window)),
            Where: new BinaryExpr(Ge(eventTime, from), BinaryOperator.Or, new IsNullExpr(eventTime)));
        return new UnionAllQuery([kept, recomputed],
            [$"the days of `{node.Name}` before {start:yyyy-MM-dd}, as the table in place has them", $"every day from {start:yyyy-MM-dd} on (and rows without `{config.EventTime}`), recomputed"])
        {
            With = [new CommonTableExpression(Window, node.Query!, $"the model's query ({node.Origin})")],
        };
    }

    /// <summary>The latest value of the event-time column in the table in place (null when it is empty).</summary>
    public static QueryExpr Latest(PlanNode node) =>
        new SelectQuery([Max(Col(node.Incremental!.EventTime)).As("latest")], From(new SourceTableRef(node.Name)));

    /// <summary>The first day a run recomputes: <c>lookback_days</c> days before the day after the latest.</summary>
    public static DateOnly WindowStart(DateOnly latest, int lookbackDays) => latest.AddDays(1 - lookbackDays);
}
