using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics;

/// <summary>A shift of a metric in time: the value of the bucket this many days, or grain periods, earlier.</summary>
public sealed record MetricOffset(int Days, int Periods)
{
    public static MetricOffset None { get; } = new(0, 0);

    public bool IsNone => Days == 0 && Periods == 0;

    public MetricOffset Plus(MetricOffset other) => new(Days + other.Days, Periods + other.Periods);

    public string Describe() => IsNone ? "now" : string.Join(" and ", new[] { Days != 0 ? $"{Days} day(s)" : null, Periods != 0 ? $"{Periods} period(s)" : null }.Where(s => s is not null)) + " earlier";
}

/// <summary>The rows a cumulative metric aggregates for each day.</summary>
public abstract record CumulativeWindow
{
    /// <summary>The day and the <c>Days - 1</c> days before it (7 for WAU, 28 or 30 for MAU).</summary>
    public sealed record Trailing(int Days) : CumulativeWindow;

    /// <summary>From the start of the day's period (month-to-date, year-to-date) through the day.</summary>
    public sealed record ToDate(TimeGrain Grain) : CumulativeWindow;

    /// <summary>Every row up to and including the day.</summary>
    public sealed record AllTime : CumulativeWindow;
}

/// <summary>
/// One pass over a source's rows, grouped by the query's keys (time bucket and dimensions): shifted in time for an
/// offset, or, for a cumulative window, joined to a spine of days.
/// </summary>
public sealed record GrainScan(RowSet Rows, MetricOffset Shift, CumulativeWindow? Window, string Alias);

/// <summary>One aggregate of a scan.</summary>
public sealed record GrainMeasure(GrainScan Scan, string Alias, SqlExpr Aggregate);

/// <summary>
/// The logical plan of a metrics query at a grain: metrics register the measures they need (one scan per source, all
/// measures of that source in it) and return their value as an expression over those measures. The query planner
/// lowers it to SQL with the keys, the date spine, dimension joins, the range and the filter.
/// </summary>
public sealed class GrainQueryBuilder(TimeGrain? grain, ProjectTime? time = null)
{
    /// <summary>The alias of a scan's source rows inside a measure.</summary>
    public const string RowAlias = "e";

    private readonly List<GrainScan> _scans = [];
    private readonly List<GrainMeasure> _measures = [];
    private readonly Dictionary<(string Metric, MetricOffset Shift), GrainValue> _values = [];
    private MetricOffset _shift = MetricOffset.None;

    /// <summary>The time grain of the query; null when it is not grouped by time (one total over the range).</summary>
    public TimeGrain? Grain => grain;

    /// <summary>The project's time zone, which buckets are local days of.</summary>
    public ProjectTime Time => time ?? ProjectTime.Utc;

    /// <summary>
    /// The bucket a timestamp falls in at the query's grain (the first local day of its period), for row sets whose rows
    /// depend on the bucket (a funnel starts at an entity's first step in each bucket); null without a time grain.
    /// </summary>
    public SqlExpr? Bucket(SqlExpr timestamp) =>
        grain is { } g ? new DateTruncExpr(Time.IsUtc ? timestamp : new LocalTimeExpr(timestamp, Time.ZoneId), g) : null;

    public IReadOnlyList<GrainScan> Scans => _scans;

    public IReadOnlyList<GrainMeasure> Measures => _measures;

    /// <summary>The metric's value at the query's grain (lowered once per offset).</summary>
    public GrainValue Value(BoundMetric metric)
    {
        var key = (metric.Name, _shift);
        if (!_values.TryGetValue(key, out var value))
        {
            value = metric.AtGrain(this);
            _values[key] = value;
        }

        return value;
    }

    /// <summary>The metric's value in the bucket <paramref name="offset"/> earlier.</summary>
    public GrainValue Offset(BoundMetric metric, MetricOffset offset)
    {
        var saved = _shift;
        _shift = saved.Plus(offset);
        try
        {
            return Value(metric);
        }
        finally
        {
            _shift = saved;
        }
    }

    /// <summary>An aggregate of the source's qualifying rows per bucket and dimensions (expressions unqualified).</summary>
    public SqlExpr Measure(string name, RowSet source, Aggregation aggregation, SqlExpr? value, SqlExpr? filter, double? fraction = null) =>
        Register(name, Scan(source, null), aggregation, value, filter, fraction);

    /// <summary>The number of distinct entities with a row of <paramref name="source"/> in the bucket.</summary>
    public SqlExpr Entities(RowSet source) =>
        Register($"{source.EntityColumn}_count", Scan(source, null), Aggregation.CountDistinct, Col(source.EntityColumn), null);

    /// <summary>An aggregate over a cumulative window of days ending on each day, read at the end of each bucket.</summary>
    public SqlExpr Cumulative(string name, RowSet source, Aggregation aggregation, SqlExpr? value, SqlExpr? filter, CumulativeWindow window) =>
        Register(name, Scan(source, window), aggregation, value, filter);

    private SqlExpr Register(string name, GrainScan scan, Aggregation aggregation, SqlExpr? value, SqlExpr? filter, double? fraction = null)
    {
        var aggregate = Aggregations.Conditional(aggregation,
            value is null ? null : SqlExprRewriter.Qualify(value, RowAlias),
            filter is null ? null : SqlExprRewriter.Qualify(filter, RowAlias),
            fraction);
        var measure = _measures.FirstOrDefault(m => m.Scan == scan && m.Aggregate == aggregate);
        if (measure is null)
        {
            var alias = name;
            for (var i = 2; _measures.Any(m => m.Scan == scan && m.Alias == alias); i++)
                alias = $"{name}_{i}";
            measure = new GrainMeasure(scan, alias, aggregate);
            _measures.Add(measure);
        }

        // A bucket without rows has no row in the scan: count-like measures read 0 there, the others no value.
        var column = Col(scan.Alias, measure.Alias);
        return Aggregations.ZeroWhenEmpty(aggregation) ? Coalesce(column, Num(0)) : column;
    }

    private GrainScan Scan(RowSet source, CumulativeWindow? window)
    {
        var existing = _scans.FirstOrDefault(s => s.Rows == source && s.Shift == _shift && s.Window == window);
        if (existing is not null)
            return existing;
        var alias = source.Name
            + (window switch
            {
                null => "",
                CumulativeWindow.Trailing t => $"_trailing_{t.Days}d",
                CumulativeWindow.ToDate d => $"_{d.Grain.ToString().ToLowerInvariant()}_to_date",
                _ => "_all_time",
            })
            + (_shift.IsNone ? "" : $"_offset{(_shift.Days != 0 ? $"_{_shift.Days}d" : "")}{(_shift.Periods != 0 ? $"_{_shift.Periods}p" : "")}")
            + "_values";
        var scan = new GrainScan(source, _shift, window, alias);
        _scans.Add(scan);
        return scan;
    }
}
