using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics;

/// <summary>What metric types that derive rows (<see cref="DerivedRows"/>) read: a source's staging node, and local dates.</summary>
public static class StagedRows
{
    /// <summary>The staging node of a source (the planner's <c>NodeNames.Staging</c>; a planner test checks they agree).</summary>
    public static NodeRef Of(BoundSource source) => new($"stg_{source.Name}");

    /// <summary>The local date of a UTC timestamp in the project's time zone.</summary>
    public static SqlExpr LocalDate(SqlExpr timestamp, ProjectTime time) =>
        new DateTruncExpr(time.IsUtc ? timestamp : new LocalTimeExpr(timestamp, time.ZoneId), TimeGrain.Day);

    /// <summary><c>case when condition then 1 else 0 end</c>.</summary>
    public static SqlExpr Flag(SqlExpr condition) => When(condition, Num(1), Num(0));
}
