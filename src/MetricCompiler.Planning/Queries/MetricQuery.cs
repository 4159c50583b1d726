using MetricCompiler.Sql.Model;

namespace MetricCompiler.Planning.Queries;

/// <summary>A query that cannot be planned: an unknown metric or dimension, a fan-out join, a bad filter. Bad usage.</summary>
public sealed class QueryException(string message) : Exception(message);

/// <summary>
/// What <c>metricc query</c> asks for: metrics, grouped by a time grain (<c>metric_time__week</c>) and dimensions,
/// optionally filtered, over a range of local dates, ordered and limited.
/// </summary>
public sealed record MetricQuery(
    IReadOnlyList<string> Metrics,
    IReadOnlyList<string> GroupBy,
    string? Where = null,
    DateOnly? Start = null,
    DateOnly? End = null,
    IReadOnlyList<string>? OrderBy = null,
    int? Limit = null);

/// <summary>A planned query: its SQL model and its output columns, in order.</summary>
public sealed record PlannedQuery(QueryExpr Query, IReadOnlyList<string> Columns, IReadOnlyList<string> Reads, string Description);

/// <summary>The time key of grouped output.</summary>
public static class MetricTime
{
    public const string Name = "metric_time";

    public static string Column(TimeGrain grain) => $"{Name}__{grain.ToString().ToLowerInvariant()}";

    public static TimeGrain? Parse(string text)
    {
        if (text == Name)
            return TimeGrain.Day;
        if (!text.StartsWith(Name + "__", StringComparison.Ordinal))
            return null;
        return Enum.GetValues<TimeGrain>().Cast<TimeGrain?>().FirstOrDefault(g => Column(g!.Value) == text);
    }
}
