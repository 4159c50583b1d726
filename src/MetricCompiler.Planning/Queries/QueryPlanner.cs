using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning.Queries;

/// <summary>
/// Plans one query for any set of metrics: each metric lowers itself into the grain plan
/// (<see cref="GrainQueryBuilder"/>), which needs one scan per source (all measures of the source in it); this lowers
/// the plan to SQL: dimension joins checked for fan-out, the range in the project's time zone, a date spine so that a
/// day without rows is a row, and every metric joined on the keys.
/// </summary>
public static class QueryPlanner
{
    private const string Row = GrainQueryBuilder.RowAlias;
    private const string Keys = "k";
    private const string SpineColumn = "spine_day";

    /// <summary>One output dimension as requested: its column name and the source it must come from, if given.</summary>
    private sealed record Dimension(string Name, string? SourceName, string Column);

    /// <param name="outputName">Renames output columns (keys and metrics); a materialized metric names them
    /// <c>metric_date</c> and <c>metric_value</c>.</param>
    public static PlannedQuery Plan(BoundProject project, MetricQuery request, Func<string, string>? outputName = null)
    {
        outputName ??= name => name;
        var metrics = request.Metrics.Select(name => project.FindMetric(name)
            ?? throw new QueryException($"unknown metric `{name}`{Hint(name, project.Metrics.Select(m => m.Name).ToList(), "metric")}")).ToList();
        if (metrics.Count == 0)
            throw new QueryException("name at least one metric with --metrics");
        if (metrics.Select(m => m.Name).Distinct().Count() != metrics.Count)
            throw new QueryException("a metric is named twice in --metrics");

        TimeGrain? grain = null;
        var dimensions = new List<Dimension>();
        foreach (var key in request.GroupBy)
        {
            if (MetricTime.Parse(key) is { } g)
            {
                if (grain is not null)
                    throw new QueryException("group by one time grain at most");
                grain = g;
                continue;
            }

            if (key.StartsWith(MetricTime.Name, StringComparison.Ordinal))
                throw new QueryException($"`{key}` is not a time grain; grains: {string.Join(", ", Enum.GetValues<TimeGrain>().Select(MetricTime.Column))}");
            dimensions.Add(ParseDimension(project, key));
        }

        if (dimensions.Select(d => d.Name).Distinct(StringComparer.Ordinal).Count() != dimensions.Count)
            throw new QueryException("a dimension is named twice in --group-by");

        var builder = new GrainQueryBuilder(grain, project.Time);
        var values = metrics.Select(m => (Metric: m, Value: builder.Value(m))).ToList();
        if (grain is null && builder.Scans.Any(s => !s.Shift.IsNone))
            throw new QueryException("an offset compares with an earlier period: group by a time grain (`metric_time__week`)");

        var where = request.Where is null ? null : ParseWhere(project, request.Where);
        if (request.Start is { } s && request.End is { } e && s > e)
            throw new QueryException($"--start {s:yyyy-MM-dd} is after --end {e:yyyy-MM-dd}");

        var time = project.Time;
        var ctes = new List<CommonTableExpression>();
        var rangeStart = request.Start is { } start ? (SqlExpr)new DateLiteral(start) : null;
        var rangeEnd = request.End is { } end ? (SqlExpr)new DateLiteral(end) : null;
        var needsSpine = grain is not null || builder.Scans.Any(scan => scan.Window is not null);
        if (needsSpine)
        {
            var rows = builder.Scans.Select(scan => scan.Rows).Distinct().ToList();
            var spineStart = rangeStart ?? Bound(rows, time, ctes, "min");
            var spineEnd = rangeEnd ?? Bound(rows, time, ctes, "max");
            ctes.Add(new CommonTableExpression("spine", new DateSpineQuery(spineStart, spineEnd, SpineColumn),
                $"every day {(request.Start is null && request.End is null ? "from the first to the last date in the data" : $"of {Describe(request)}")} ({time.ZoneId}), so that a day without rows is a row"));
            var periodEnd = grain is null or TimeGrain.Day
                ? (SelectQuery)new SelectQuery([Col(SpineColumn).Item()], From(new CteRef("spine")))
                : new SelectQuery([Max(Col(SpineColumn)).As(SpineColumn)], From(new CteRef("spine")), GroupBy: [new DateTruncExpr(Col(SpineColumn), grain.Value)]);
            if (grain is null)
                periodEnd = new SelectQuery([Max(Col(SpineColumn)).As(SpineColumn)], From(new CteRef("spine")));
            if (builder.Scans.Any(scan => scan.Window is not null))
                ctes.Add(new CommonTableExpression("period_ends", periodEnd, "the day each period's cumulative value is read on: its last day in the range"));
        }

        var keyColumns = new List<string>();
        if (grain is { } keyGrain)
            keyColumns.Add(MetricTime.Column(keyGrain));
        keyColumns.AddRange(dimensions.Select(d => d.Name));

        var reads = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var scan in builder.Scans)
        {
            ctes.Add(Scan(project, scan, builder, grain, dimensions, where, request, ctes, reads));
            foreach (var read in scan.Rows.Reads)
                reads.Add(NodeNames.Staging(read.Name));
        }

        FromItem from;
        if (keyColumns.Count == 0)
        {
            // One total per metric: each scan is a single row.
            from = From(new CteRef(builder.Scans[0].Alias));
            foreach (var scan in builder.Scans.Skip(1))
                from = new JoinFrom(from, JoinKind.Cross, From(new CteRef(scan.Alias)), null);
        }
        else
        {
            ctes.Add(KeysCte(builder, grain, dimensions, ctes));
            from = From(new CteRef("query_keys"), Keys);
            foreach (var scan in builder.Scans)
            {
                var on = keyColumns.Select(k => (SqlExpr)new NullSafeEqualsExpr(Col(scan.Alias, k), Col(Keys, k))).ToArray();
                from = new JoinFrom(from, JoinKind.Left, From(new CteRef(scan.Alias)), And(on));
            }
        }

        var items = keyColumns.Select(k => Col(Keys, k).As(outputName(k))).ToList();
        foreach (var (metric, value) in values)
            items.Add(value.Expression.As(outputName(metric.Name), $"{metric.Summary} ({metric.Location})"));
        var order = (request.OrderBy ?? []).Count > 0
            ? request.OrderBy!.Select(o => Sort(o, keyColumns, metrics)).ToList()
            : keyColumns.Select(k => new SortKey(Col(Keys, k))).ToList();
        if (request.Limit is < 1)
            throw new QueryException("--limit must be at least 1");
        var query = new SelectQuery(items, from, OrderBy: order, Limit: request.Limit) { With = ctes };
        var description = $"{string.Join(", ", metrics.Select(m => m.Name))}"
            + (keyColumns.Count > 0 ? $" by {string.Join(", ", keyColumns)}" : "")
            + $", {Describe(request)}, time zone {time.ZoneId}"
            + (request.Where is null ? "" : $", where {request.Where}");
        return new PlannedQuery(query, [.. keyColumns.Select(outputName), .. metrics.Select(m => outputName(m.Name))], reads.ToList(), description);
    }

    private static string Describe(MetricQuery request) =>
        (request.Start, request.End) switch
        {
            ({ } s, { } e) => $"{s:yyyy-MM-dd}..{e:yyyy-MM-dd}",
            ({ } s, null) => $"from {s:yyyy-MM-dd}",
            (null, { } e) => $"through {e:yyyy-MM-dd}",
            _ => "all dates in the data",
        };

    /// <summary>The first (or last) local date in the data of the given rows.</summary>
    private static SqlExpr Bound(IReadOnlyList<RowSet> rows, ProjectTime time, List<CommonTableExpression> ctes, string which)
    {
        var bounds = rows.Select(r => (SqlExpr)new ScalarSubqueryExpr(new SelectQuery(
            [Fn(which, LocalDate(Col(r.TimeColumn), time)).Item()],
            From(Planner.RowsRelation(r, ctes))))).ToArray();
        return bounds.Length == 1 ? bounds[0] : Fn(which == "min" ? "least" : "greatest", bounds);
    }

    private static SqlExpr Local(SqlExpr timestamp, ProjectTime time) => time.IsUtc ? timestamp : new LocalTimeExpr(timestamp, time.ZoneId);

    private static SqlExpr LocalDate(SqlExpr timestamp, ProjectTime time) => new DateTruncExpr(Local(timestamp, time), TimeGrain.Day);

    /// <summary>One pass over a scan's rows, grouped by the query's keys.</summary>
    private static CommonTableExpression Scan(BoundProject project, GrainScan scan, GrainQueryBuilder builder, TimeGrain? grain,
        IReadOnlyList<Dimension> dimensions, SqlExpr? where, MetricQuery request, List<CommonTableExpression> ctes, ISet<string> reads)
    {
        var time = project.Time;
        var rows = scan.Rows;
        var at = Col(Row, rows.TimeColumn);
        SqlExpr shifted = scan.Shift.Days == 0 ? at : new AddDaysExpr(at, scan.Shift.Days);
        FromItem from = From(Planner.RowsRelation(rows, ctes), Row);
        var joins = new Dictionary<string, (TableFrom Table, SqlExpr On)>(StringComparer.Ordinal);
        var dimensionExprs = new Dictionary<string, SqlExpr>(StringComparer.Ordinal);
        foreach (var dimension in dimensions.Concat(WhereDimensions(project, where)).DistinctBy(d => d.Name))
            dimensionExprs[dimension.Name] = ResolveDimension(project, rows, dimension, joins);

        var conditions = new List<SqlExpr?>();
        SqlExpr? bucketSource = shifted;
        if (scan.Window is { } window)
        {
            // Each period's last day in the range, joined to the rows of its window.
            var day = Col("s", SpineColumn);
            var rowDay = LocalDate(shifted, time);
            var lower = window switch
            {
                CumulativeWindow.Trailing t => new DateAddDaysExpr(day, -(t.Days - 1)),
                CumulativeWindow.ToDate d => (SqlExpr)new DateTruncExpr(day, d.Grain),
                _ => null,
            };
            from = new JoinFrom(From(new CteRef("period_ends"), "s"), JoinKind.Inner, from,
                And(lower is null ? null : Ge(rowDay, lower), new BinaryExpr(rowDay, BinaryOperator.LessOrEqual, day)));
            bucketSource = day;
            if (request.End is { } end)
                conditions.Add(Lt(shifted, new TimestampLiteral(time.StartOfDayUtc(end.AddDays(1)))));
            if (request.Start is { } start && window is CumulativeWindow.Trailing trailing)
                conditions.Add(Ge(shifted, new TimestampLiteral(time.StartOfDayUtc(start.AddDays(-(trailing.Days - 1))))));
        }
        else
        {
            // Rows are filtered as UTC instants (the range's local days converted), so the filter can use the table's order.
            if (request.Start is { } start)
                conditions.Add(Ge(shifted, new TimestampLiteral(time.StartOfDayUtc(ShiftBack(start, scan.Shift, grain)))));
            if (request.End is { } end)
                conditions.Add(Lt(shifted, new TimestampLiteral(time.StartOfDayUtc(ShiftBack(end, scan.Shift, grain).AddDays(1)))));
        }

        foreach (var (table, on) in joins.Values)
        {
            from = new JoinFrom(from, JoinKind.Left, table, on);
            if (table.Relation is NodeRef dimensionSource)
                reads.Add(dimensionSource.Node);
        }
        if (where is not null)
            conditions.Add(SqlExprRewriter.Rewrite(where, node => node is ColumnExpr { Qualifier: null } c ? dimensionExprs[c.Name] : node));

        var keys = new List<SelectItem>();
        var groupBy = new List<SqlExpr>();
        if (grain is { } g)
        {
            SqlExpr bucket = scan.Window is not null ? new DateTruncExpr(bucketSource, g) : new DateTruncExpr(Local(bucketSource, time), g);
            bucket = ShiftBucket(bucket, scan.Shift, g);
            keys.Add(bucket.As(MetricTime.Column(g)));
            groupBy.Add(bucket);
        }

        foreach (var dimension in dimensions)
        {
            keys.Add(dimensionExprs[dimension.Name].As(dimension.Name));
            groupBy.Add(dimensionExprs[dimension.Name]);
        }

        var measures = builder.Measures.Where(m => m.Scan == scan).Select(m => m.Aggregate.As(m.Alias)).ToList();
        var present = conditions.Where(c => c is not null).ToArray();
        var select = new SelectQuery([.. keys, .. measures], from, present.Length == 0 ? null : And(present), groupBy.Count == 0 ? null : groupBy);
        var what = scan.Window switch
        {
            CumulativeWindow.Trailing t => $"over the trailing {t.Days} days of each period's last day",
            CumulativeWindow.ToDate d => $"{d.Grain.ToString().ToLowerInvariant()} to date on each period's last day",
            CumulativeWindow.AllTime => "all rows up to each period's last day",
            _ => "per key",
        };
        return new CommonTableExpression(scan.Alias, select,
            $"one pass over `{rows.Name}` {what}{(scan.Shift.IsNone ? "" : $", {scan.Shift.Describe()}")}: {string.Join(", ", measures.Select(m => m.Alias))}");
    }

    /// <summary>
    /// The date whose rows land in <paramref name="date"/>'s bucket after a shift by periods (a shift by days is already
    /// in the time the filter reads).
    /// </summary>
    private static DateOnly ShiftBack(DateOnly date, MetricOffset shift, TimeGrain? grain)
    {
        var moved = date;
        return shift.Periods == 0 || grain is null ? moved : grain switch
        {
            TimeGrain.Day => moved.AddDays(-shift.Periods),
            TimeGrain.Week => moved.AddDays(-7 * shift.Periods),
            TimeGrain.Month => moved.AddMonths(-shift.Periods),
            TimeGrain.Quarter => moved.AddMonths(-3 * shift.Periods),
            _ => moved.AddYears(-shift.Periods),
        };
    }

    /// <summary>A bucket moved forward by whole periods, so an earlier period's value sits in the later period's row.</summary>
    private static SqlExpr ShiftBucket(SqlExpr bucket, MetricOffset shift, TimeGrain grain) => shift.Periods == 0 ? bucket : grain switch
    {
        TimeGrain.Day => new DateAddDaysExpr(bucket, shift.Periods),
        TimeGrain.Week => new DateAddDaysExpr(bucket, 7 * shift.Periods),
        TimeGrain.Month => new DateAddMonthsExpr(bucket, shift.Periods),
        TimeGrain.Quarter => new DateAddMonthsExpr(bucket, 3 * shift.Periods),
        _ => new DateAddMonthsExpr(bucket, 12 * shift.Periods),
    };

    /// <summary>Every bucket of the spine, with every combination of dimension values seen in any scan.</summary>
    private static CommonTableExpression KeysCte(GrainQueryBuilder builder, TimeGrain? grain, IReadOnlyList<Dimension> dimensions, List<CommonTableExpression> ctes)
    {
        SelectQuery? buckets = grain is { } g
            ? new SelectQuery([new DateTruncExpr(Col(SpineColumn), g).As(MetricTime.Column(g))], From(new CteRef("spine"))) { Distinct = true }
            : null;
        if (dimensions.Count == 0)
            return new CommonTableExpression("query_keys", buckets!, "every period of the range");

        var names = dimensions.Select(d => d.Name).ToList();
        var parts = builder.Scans.Select(scan => new SelectQuery(names.Select(n => Col(n).Item()).ToList(), From(new CteRef(scan.Alias)))).ToList();
        ctes.Add(new CommonTableExpression("dimension_rows", parts.Count == 1 ? parts[0] : new UnionAllQuery(parts), "the dimension values each scan saw"));
        var values = new SelectQuery(names.Select(n => Col(n).Item()).ToList(), From(new CteRef("dimension_rows"))) { Distinct = true };
        if (buckets is null)
            return new CommonTableExpression("query_keys", values, "every combination of dimension values");
        ctes.Add(new CommonTableExpression("buckets", buckets, "every period of the range"));
        ctes.Add(new CommonTableExpression("dimension_values", values, "every combination of dimension values"));
        return new CommonTableExpression("query_keys",
            new SelectQuery([Col("b", MetricTime.Column(grain!.Value)).Item(), .. names.Select(n => Col("v", n).Item())],
                new JoinFrom(From(new CteRef("buckets"), "b"), JoinKind.Cross, From(new CteRef("dimension_values"), "v"), null)),
            "every period with every combination of dimension values, so that a period without rows is a row");
    }

    private static Dimension ParseDimension(BoundProject project, string text)
    {
        var at = text.IndexOf("__", StringComparison.Ordinal);
        if (at > 0)
        {
            var sourceName = text[..at];
            var column = text[(at + 2)..];
            var source = project.Sources.FirstOrDefault(s => s.Name == sourceName)
                ?? throw new QueryException($"`{text}`: unknown source `{sourceName}`{Hint(sourceName, project.Sources.Select(s => s.Name).ToList(), "source")}");
            if (source.FindColumn(column) is null)
                throw new QueryException($"`{text}`: `{column}` is not a column of source `{sourceName}`{Hint(column, source.Columns.Select(c => c.Name).ToList(), "column")}");
            return new Dimension(text, sourceName, column);
        }

        if (!project.Sources.Any(s => s.FindColumn(text) is not null))
            throw new QueryException($"unknown dimension `{text}`{Hint(text, AllDimensions(project), "dimension")}");
        return new Dimension(text, null, text);
    }

    /// <summary>Every name a query can group by: plain column names and source-qualified ones.</summary>
    public static IReadOnlyList<string> AllDimensions(BoundProject project) =>
        project.Sources.SelectMany(s => s.Columns.Where(c => c.Name != s.EventTime.Name).SelectMany(c => new[] { c.Name, $"{s.Name}__{c.Name}" }))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A dimension's expression for a scan's rows: a column of the rows' own source, or of a source that has one row
    /// per entity, joined by the entity. Any other join could repeat rows, and is refused with the reason.
    /// </summary>
    private static SqlExpr ResolveDimension(BoundProject project, RowSet rows, Dimension dimension, Dictionary<string, (TableFrom Table, SqlExpr On)> joins)
    {
        if (rows is SourceRows own && (dimension.SourceName is null || dimension.SourceName == own.Source.Name) && own.Source.FindColumn(dimension.Column) is { } column)
            return Col(Row, column.Name);

        var candidates = project.Sources
            .Where(s => (dimension.SourceName is null || s.Name == dimension.SourceName) && s.FindColumn(dimension.Column) is not null)
            .Where(s => s.Entity.Name == rows.EntityColumn)
            .ToList();
        var joinable = candidates.Where(s => s.IsOneRowPerEntity).ToList();
        if (joinable.Count == 0)
        {
            if (candidates.FirstOrDefault() is { } fanout)
                throw new QueryException(
                    $"dimension `{dimension.Name}` comes from source `{fanout.Name}`, which may hold several rows per `{fanout.Entity.Name}`: " +
                    $"joining it to `{rows.Name}` would count each row of `{rows.Name}` once per matching row. " +
                    $"If `{fanout.Name}` has one row per {fanout.Entity.Name}, declare `unique_key: {fanout.Entity.Name}` on it");
            throw new QueryException(
                $"dimension `{dimension.Name}` cannot be reached from `{rows.Name}`: no source with that column has one row per `{rows.EntityColumn}`");
        }

        if (joinable.Count > 1)
            throw new QueryException($"dimension `{dimension.Name}` is ambiguous: {string.Join(", ", joinable.Select(s => $"`{s.Name}__{dimension.Column}`"))}; name one");
        var source = joinable[0];
        var alias = $"d_{source.Name}";
        joins.TryAdd(alias, (From(new NodeRef(NodeNames.Staging(source.Name)), alias), Eq(Col(alias, source.Entity.Name), Col(Row, rows.EntityColumn))));
        return Col(alias, source.FindColumn(dimension.Column)!.Name);
    }

    private static SqlExpr ParseWhere(BoundProject project, string text)
    {
        ParsedExpression parsed;
        try
        {
            parsed = ExpressionParser.Parse(text);
        }
        catch (ExpressionSyntaxException e)
        {
            throw new QueryException($"--where, at character {e.Offset + 1}: {e.Message}{(e.Hint is null ? "" : $" ({e.Hint})")}");
        }

        foreach (var column in parsed.Columns)
            ParseDimension(project, column.Name);
        return parsed.Expression;
    }

    private static IEnumerable<Dimension> WhereDimensions(BoundProject project, SqlExpr? where) =>
        where is null ? [] : SqlExprRewriter.Columns(where).Select(c => ParseDimension(project, c.Name));

    private static SortKey Sort(string text, IReadOnlyList<string> keys, IReadOnlyList<BoundMetric> metrics)
    {
        var descending = text.StartsWith('-');
        var name = text.TrimStart('-', '+');
        var columns = keys.Concat(metrics.Select(m => m.Name)).ToList();
        if (!columns.Contains(name, StringComparer.Ordinal))
            throw new QueryException($"--order `{name}` is not a column of the result{Hint(name, columns, "column")}");
        // Keys by their qualified column; metrics by position, since a scan may hold a measure of the same name.
        var key = keys.Contains(name, StringComparer.Ordinal) ? (SqlExpr)Col(Keys, name) : Num(keys.Count + 1 + metrics.ToList().FindIndex(m => m.Name == name));
        return new SortKey(key, descending, NullsFirst: false);
    }

    private static string Hint(string name, IReadOnlyCollection<string> candidates, string what) =>
        NameSuggester.Hint(name, candidates, what) is { } hint ? $"; {hint}" : "";
}
