using MetricCompiler.Core.Expressions;
using MetricCompiler.Core.Model;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// Turns a validated project into the DAG of warehouse tables. The planner decides what each table holds and how it is
/// computed, as a SQL model; it never writes SQL text (that is the renderer's job, per dialect).
/// </summary>
public static class Planner
{
    private const string Event = "e";
    private const string Unit = "x";

    public static ExecutionPlan Plan(ProjectDefinition project)
    {
        var nodes = new List<PlanNode>();
        foreach (var source in project.Sources.OrderBy(s => s.Name, StringComparer.Ordinal))
            nodes.Add(Staging(source));
        foreach (var metric in project.Metrics.Where(m => !m.IsRatio).OrderBy(m => m.Name, StringComparer.Ordinal))
            nodes.Add(MetricFact(project, metric));
        foreach (var experiment in project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            nodes.Add(Exposures(project, experiment));
            nodes.Add(UnitMetrics(project, experiment));
            nodes.Add(Statistics(project, experiment));
            nodes.Add(SrmCounts(experiment));
            if (experiment.Analysis.Segments.Count > 0)
                nodes.Add(SegmentStatistics(project, experiment));
        }

        if (project.Experiments.Count > 0)
        {
            var inputs = project.Experiments
                .SelectMany(e => e.Analysis.Segments.Count > 0
                    ? new[] { NodeNames.Statistics(e.Id), NodeNames.SrmCounts(e.Id), NodeNames.SegmentStatistics(e.Id) }
                    : new[] { NodeNames.Statistics(e.Id), NodeNames.SrmCounts(e.Id) })
                .Order(StringComparer.Ordinal)
                .ToList();
            nodes.Add(new PlanNode(NodeNames.ExperimentResults, NodeKind.Readout,
                "Experiment readout: lift, intervals, p-values, SRM, guardrails and the decision, per metric and variant.",
                null, inputs, [], new(project.ProjectFile, 1, 1), ["experiment", "readout"]));
        }

        return new ExecutionPlan(nodes);
    }

    /// <summary>Typed columns; rows without entity or event time dropped; one row per unique key.</summary>
    private static PlanNode Staging(SourceDefinition source)
    {
        var typedItems = source.Columns
            .Select(c => Cast(Col(c.Name), ToSqlType(c.Type)).As(c.Name))
            .ToList();
        var typed = new SelectQuery(typedItems, From(new SourceTableRef(source.Table)),
            Where: And(new IsNullExpr(Col(source.Entity), Negated: true), new IsNullExpr(Col(source.EventTime), Negated: true)));
        var columns = source.Columns.Select(c => Col(c.Name).Item()).ToList();

        QueryExpr query;
        if (source.UniqueKey is { } key)
        {
            var tieBreak = new List<SortKey> { new(Col(source.EventTime)) };
            tieBreak.AddRange(source.Columns.Where(c => c.Name != source.EventTime && c.Name != key).Select(c => new SortKey(Col(c.Name))));
            var ranked = new SelectQuery(
                [new StarExpr("typed").Item(), new RowNumberExpr([Col(key)], tieBreak).As("duplicate_rank")],
                From(new CteRef("typed")));
            query = new SelectQuery(columns, From(new CteRef("ranked")), Where: Eq(Col("duplicate_rank"), Num(1)))
            {
                With =
                [
                    new CommonTableExpression("typed", typed, "every column cast to its declared type; rows without entity or event time dropped"),
                    new CommonTableExpression("ranked", ranked, $"events sharing a `{key}` are duplicates: keep the first"),
                ],
            };
        }
        else
        {
            query = typed;
        }

        return new PlanNode(NodeNames.Staging(source.Name), NodeKind.Staging,
            source.Description ?? $"Staged rows of source `{source.Name}`.",
            query, [], [source.Table], source.Location, ["staging", .. source.Tags]);
    }

    /// <summary>The canonical fact table of a metric: one row per qualifying event, with its value.</summary>
    private static PlanNode MetricFact(ProjectDefinition project, MetricDefinition metric)
    {
        var source = project.FindSource(metric.Source!.Name)!;
        SqlExpr value = metric.Expr is { } expr && metric.Aggregation != MetricAggregation.Proportion ? Bound(expr, source) : Num(1);
        var query = new SelectQuery(
            [Col(Event, source.Entity).As(source.Entity), Col(Event, source.EventTime).As(source.EventTime), value.As("metric_value")],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: metric.Filter is { } filter ? Bound(filter, source) : null);
        return new PlanNode(NodeNames.MetricFact(metric.Name), NodeKind.MetricFact,
            metric.Description ?? $"Events that count towards metric `{metric.Name}`.",
            query, [NodeNames.Staging(source.Name)], [], metric.Location, ["metric", .. metric.Tags]);
    }

    /// <summary>
    /// One row per unit exposed inside the window: when it was first exposed, which variant, and whether it can be
    /// analysed (a unit that saw more than one variant cannot).
    /// </summary>
    private static PlanNode Exposures(ProjectDefinition project, ExperimentDefinition experiment)
    {
        var source = project.FindSource(experiment.Exposure.Source.Name)!;
        var (start, end) = Window(experiment);
        var time = Col(Event, source.EventTime);
        var events = new SelectQuery(
            [
                Col(Event, source.Entity).As("unit_id"),
                Col(Event, experiment.Exposure.VariantColumn).As("variant"),
                time.As("exposed_at"),
            ],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: And(
                experiment.Exposure.Filter is { } filter ? Bound(filter, source) : null,
                Ge(time, new TimestampLiteral(start)),
                Lt(time, new TimestampLiteral(end))));
        var perUnit = new SelectQuery(
            [
                Col("unit_id").Item(),
                Min(Col("exposed_at")).As("first_exposure_at"),
                CountDistinct(Col("variant")).As("variant_count"),
                Min(Col("variant")).As("first_variant"),
            ],
            From(new CteRef("exposure_events")),
            GroupBy: [Col("unit_id")]);
        var declared = experiment.Variants.Select(v => (SqlExpr)Str(v.Name)).ToList();
        var status = new CaseExpr(
            [
                new WhenClause(Gt(Col("variant_count"), Num(1)), Str(AssignmentStatus.MultipleVariants)),
                new WhenClause(new InListExpr(Col("first_variant"), declared), Str(AssignmentStatus.Analysed)),
            ],
            Str(AssignmentStatus.UndeclaredVariant));
        var query = new SelectQuery(
            [
                Col("unit_id").Item(),
                When(Eq(Col("variant_count"), Num(1)), Col("first_variant")).As("variant", "null when the unit saw more than one variant"),
                Col("variant_count").Item(),
                Col("first_exposure_at").Item(),
                status.As("assignment_status", "only `analysed` units enter the analysis"),
            ],
            From(new CteRef("first_exposures")))
        {
            With =
            [
                new CommonTableExpression("exposure_events", events, $"exposures of `{experiment.Id}` inside its window {experiment.Start:yyyy-MM-dd}..{experiment.End:yyyy-MM-dd}"),
                new CommonTableExpression("first_exposures", perUnit, "one row per unit: its first exposure and how many variants it saw"),
            ],
        };
        return new PlanNode(NodeNames.Exposures(experiment.Id), NodeKind.Exposures,
            $"Units exposed to experiment `{experiment.Id}` with their first exposure and variant.",
            query, [NodeNames.Staging(source.Name)], [], experiment.Location, ["experiment", .. experiment.Tags], experiment.Id);
    }

    /// <summary>
    /// One row per analysed unit with every metric of the experiment. Each source is read once: all metrics on it come
    /// from conditional aggregation in a single pass, counting only events at or after the unit's first exposure and
    /// before the window closes. Units without events count as zero (not converted); <c>average</c> metrics stay null.
    /// </summary>
    private static PlanNode UnitMetrics(ProjectDefinition project, ExperimentDefinition experiment)
    {
        var (start, end) = Window(experiment);
        var baseMetrics = BaseMetrics(project, experiment);
        var cuped = experiment.Analysis.Cuped;
        var lookback = cuped.Enabled ? cuped.LookbackDays : 0;

        var exposed = new SelectQuery(
            [Col("unit_id").Item(), Col("variant").Item(), Col("first_exposure_at").Item()],
            From(new NodeRef(NodeNames.Exposures(experiment.Id))),
            Where: Eq(Col("assignment_status"), Str(AssignmentStatus.Analysed)));
        var ctes = new List<CommonTableExpression>
        {
            new("exposed_units", exposed, "units that saw exactly one declared variant"),
        };
        var dependsOn = new SortedSet<string>(StringComparer.Ordinal) { NodeNames.Exposures(experiment.Id) };

        var finalItems = new List<SelectItem> { Col(Unit, "unit_id").Item(), Col(Unit, "variant").Item() };
        FromItem from = From(new CteRef("exposed_units"), Unit);
        foreach (var group in baseMetrics.GroupBy(m => m.Source!.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var source = project.FindSource(group.Key)!;
            var cteName = $"{source.Name}_values";
            var alias = $"v_{source.Name}";
            var time = Col(Event, source.EventTime);
            var afterExposure = Ge(time, Col(Unit, "first_exposure_at"));
            var beforeExposure = And(Ge(time, new AddDaysExpr(Col(Unit, "first_exposure_at"), -lookback)), Lt(time, Col(Unit, "first_exposure_at")));

            var aggregates = new List<SelectItem> { Col(Unit, "unit_id").Item() };
            foreach (var metric in group)
            {
                aggregates.Add(Aggregate(metric, source, afterExposure).As(metric.Name, $"{MetricSummary(metric)} ({metric.Location})"));
                if (HasCovariate(experiment, metric))
                    aggregates.Add(Aggregate(metric, source, beforeExposure).As(NodeNames.Covariate(metric.Name), $"CUPED covariate: the same metric in the {lookback} days before first exposure"));
                var value = Col(alias, metric.Name);
                finalItems.Add(Cast(metric.Aggregation == MetricAggregation.Average ? value : Coalesce(value, Num(0)), SqlType.Double).As(metric.Name));
                if (HasCovariate(experiment, metric))
                    finalItems.Add(Cast(Coalesce(Col(alias, NodeNames.Covariate(metric.Name)), Num(0)), SqlType.Double).As(NodeNames.Covariate(metric.Name)));
            }

            var scan = new SelectQuery(
                aggregates,
                new JoinFrom(From(new CteRef("exposed_units"), Unit), JoinKind.Inner, From(new NodeRef(NodeNames.Staging(source.Name)), Event),
                    Eq(Col(Event, source.Entity), Col(Unit, "unit_id"))),
                Where: And(Ge(time, new TimestampLiteral(start.AddDays(-lookback))), Lt(time, new TimestampLiteral(end))),
                GroupBy: [Col(Unit, "unit_id")]);
            ctes.Add(new CommonTableExpression(cteName, scan,
                $"one pass over `{source.Name}`: {string.Join(", ", group.Select(m => m.Name))}"));
            from = new JoinFrom(from, JoinKind.Left, From(new CteRef(cteName), alias), Eq(Col(alias, "unit_id"), Col(Unit, "unit_id")));
            dependsOn.Add(NodeNames.Staging(source.Name));
        }

        foreach (var segment in experiment.Analysis.Segments)
        {
            var source = project.FindSource(segment.Source.Name)!;
            var cteName = $"segment_{segment.Name}";
            var alias = $"s_{segment.Name}";
            ctes.Add(new CommonTableExpression(cteName,
                new SelectQuery(
                    [Col(source.Entity).As("unit_id"), Min(Cast(Col(segment.Column), SqlType.String)).As("segment_value")],
                    From(new NodeRef(NodeNames.Staging(source.Name))),
                    GroupBy: [Col(source.Entity)]),
                $"segment `{segment.Name}`: `{segment.Column}` of source `{source.Name}`, one value per unit"));
            from = new JoinFrom(from, JoinKind.Left, From(new CteRef(cteName), alias), Eq(Col(alias, "unit_id"), Col(Unit, "unit_id")));
            finalItems.Add(Coalesce(Col(alias, "segment_value"), Str(NodeNames.MissingSegment)).As(NodeNames.Segment(segment.Name)));
            dependsOn.Add(NodeNames.Staging(source.Name));
        }

        var query = new SelectQuery(finalItems, from) { With = ctes };
        return new PlanNode(NodeNames.UnitMetrics(experiment.Id), NodeKind.UnitMetrics,
            $"Per-unit metric values for experiment `{experiment.Id}`: one row per analysed unit.",
            query, dependsOn.ToList(), [], experiment.Location, ["experiment", .. experiment.Tags], experiment.Id);
    }

    /// <summary>Sufficient statistics per metric and variant: everything the statistics engine needs, nothing per unit.</summary>
    private static PlanNode Statistics(ProjectDefinition project, ExperimentDefinition experiment)
    {
        var parts = new List<SelectQuery>();
        var comments = new List<string?>();
        foreach (var (reference, role) in experiment.AllMetrics())
        {
            var metric = project.FindMetric(reference.Name)!;
            parts.Add(StatisticsPart(experiment, metric, [], []));
            comments.Add($"{role.ToString().ToLowerInvariant()} metric `{metric.Name}`: {MetricSummary(metric)}");
        }

        return new PlanNode(NodeNames.Statistics(experiment.Id), NodeKind.Statistics,
            $"Per-variant sufficient statistics for experiment `{experiment.Id}` (n, sums, sums of squares, cross-products).",
            new UnionAllQuery(parts, comments), [NodeNames.UnitMetrics(experiment.Id)], [], experiment.Location,
            ["experiment", .. experiment.Tags], experiment.Id);
    }

    /// <summary>The same statistics per segment of every dimension, for primary and secondary metrics.</summary>
    private static PlanNode SegmentStatistics(ProjectDefinition project, ExperimentDefinition experiment)
    {
        var parts = new List<SelectQuery>();
        var comments = new List<string?>();
        foreach (var segment in experiment.Analysis.Segments)
        {
            foreach (var (reference, role) in experiment.AllMetrics().Where(m => m.Role != MetricRole.Guardrail))
            {
                var metric = project.FindMetric(reference.Name)!;
                var column = Col(NodeNames.Segment(segment.Name));
                parts.Add(StatisticsPart(experiment, metric, [Str(segment.Name).As("dimension"), column.As("segment")], [column]));
                comments.Add($"{role.ToString().ToLowerInvariant()} metric `{metric.Name}` by segment `{segment.Name}`");
            }
        }

        return new PlanNode(NodeNames.SegmentStatistics(experiment.Id), NodeKind.Statistics,
            $"Per-segment, per-variant sufficient statistics for experiment `{experiment.Id}` (segment breakdowns).",
            new UnionAllQuery(parts, comments), [NodeNames.UnitMetrics(experiment.Id)], [], experiment.Location,
            ["experiment", "segments", .. experiment.Tags], experiment.Id);
    }

    private static SelectQuery StatisticsPart(ExperimentDefinition experiment, MetricDefinition metric, IReadOnlyList<SelectItem> keys, IReadOnlyList<SqlExpr> groupBy)
    {
        var table = From(new NodeRef(NodeNames.UnitMetrics(experiment.Id)));
        SqlExpr NoValue() => new NullLiteral(SqlType.Double);
        List<SqlExpr> grouping = [.. groupBy, Col("variant")];
        if (metric.IsRatio)
        {
            var numerator = Col(metric.Numerator!.Name);
            var denominator = Col(metric.Denominator!.Name);
            return new SelectQuery(
                [
                    .. keys, Str(metric.Name).As("metric"), Col("variant").Item(), CountStar().As("n"),
                    Sum(numerator).As("value_sum"), Sum(Mul(numerator, numerator)).As("value_sum_squares"),
                    Sum(denominator).As("denominator_sum"), Sum(Mul(denominator, denominator)).As("denominator_sum_squares"),
                    NoValue().As("covariate_sum"), NoValue().As("covariate_sum_squares"),
                    Sum(Mul(numerator, denominator)).As("cross_sum"),
                ],
                table, GroupBy: grouping);
        }

        var value = Col(metric.Name);
        var covariate = Col(NodeNames.Covariate(metric.Name));
        var cuped = HasCovariate(experiment, metric);
        return new SelectQuery(
            [
                .. keys, Str(metric.Name).As("metric"), Col("variant").Item(), Count(value).As("n"),
                Sum(value).As("value_sum"), Sum(Mul(value, value)).As("value_sum_squares"),
                NoValue().As("denominator_sum"), NoValue().As("denominator_sum_squares"),
                (cuped ? Sum(covariate) : NoValue()).As("covariate_sum"),
                (cuped ? Sum(Mul(covariate, covariate)) : NoValue()).As("covariate_sum_squares"),
                (cuped ? Sum(Mul(value, covariate)) : NoValue()).As("cross_sum"),
            ],
            table, GroupBy: grouping);
    }

    private static PlanNode SrmCounts(ExperimentDefinition experiment)
    {
        var query = new SelectQuery(
            [Col("variant").Item(), Col("assignment_status").Item(), CountStar().As("units")],
            From(new NodeRef(NodeNames.Exposures(experiment.Id))),
            GroupBy: [Col("variant"), Col("assignment_status")],
            OrderBy: [Col("assignment_status"), Col("variant")]);
        return new PlanNode(NodeNames.SrmCounts(experiment.Id), NodeKind.SrmCounts,
            $"Exposed units per variant and assignment status for experiment `{experiment.Id}` (sample ratio mismatch check).",
            query, [NodeNames.Exposures(experiment.Id)], [], experiment.Location, ["experiment", .. experiment.Tags], experiment.Id);
    }

    /// <summary>The non-ratio metrics an experiment needs per unit: its own, and the parts of its ratio metrics.</summary>
    public static IReadOnlyList<MetricDefinition> BaseMetrics(ProjectDefinition project, ExperimentDefinition experiment)
    {
        var result = new List<MetricDefinition>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name)
        {
            var metric = project.FindMetric(name)!;
            if (metric.IsRatio)
            {
                Add(metric.Numerator!.Name);
                Add(metric.Denominator!.Name);
            }
            else if (seen.Add(metric.Name))
            {
                result.Add(metric);
            }
        }

        foreach (var (reference, _) in experiment.AllMetrics())
            Add(reference.Name);
        return result;
    }

    /// <summary>CUPED applies to count, sum, count_distinct and proportion metrics; an average has no value for units without events.</summary>
    public static bool HasCovariate(ExperimentDefinition experiment, MetricDefinition metric) =>
        experiment.Analysis.Cuped.Enabled && !metric.IsRatio && metric.Aggregation != MetricAggregation.Average;

    /// <summary>
    /// The primary metric's per-unit distribution before the experiment: every unit active on the metric's source in
    /// a period as long as the experiment, ending when it starts. Used to check that the declared MDE is reachable.
    /// </summary>
    public static QueryExpr BaselineQuery(ProjectDefinition project, ExperimentDefinition experiment, MetricDefinition metric)
    {
        var source = project.FindSource(metric.Source!.Name)!;
        var (start, end) = Window(experiment);
        var days = (end - start).Days;
        var time = Col(Event, source.EventTime);
        var perUnit = new SelectQuery(
            [Col(Event, source.Entity).As("unit_id"), (metric.Aggregation == MetricAggregation.Average ? Aggregate(metric, source, null) : Coalesce(Aggregate(metric, source, null), Num(0))).As("value")],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: And(Ge(time, new TimestampLiteral(start.AddDays(-days))), Lt(time, new TimestampLiteral(start))),
            GroupBy: [Col(Event, source.Entity)]);
        return new SelectQuery(
            [Count(Col("value")).As("n"), Sum(Col("value")).As("value_sum"), Sum(Mul(Col("value"), Col("value"))).As("value_sum_squares")],
            From(new CteRef("unit_values")))
        {
            With = [new CommonTableExpression("unit_values", perUnit, $"`{metric.Name}` per unit active in the {days} days before `{experiment.Id}` starts")],
        };
    }

    /// <summary>A user expression bound to its source's columns, read through the event alias.</summary>
    private static SqlExpr Bound(SqlSnippet snippet, SourceDefinition source) =>
        SqlExprRewriter.Qualify(UserExpressions.Resolve(snippet, source), Event);

    private static SqlExpr Aggregate(MetricDefinition metric, SourceDefinition source, SqlExpr? window)
    {
        var condition = (metric.Filter, window) switch
        {
            ({ } filter, { } w) => And(w, Bound(filter, source)),
            ({ } filter, null) => Bound(filter, source),
            (null, { } w) => w,
            _ => Eq(Num(1), Num(1)),
        };
        var expr = metric.Expr is { } e ? Bound(e, source) : null;
        return metric.Aggregation switch
        {
            MetricAggregation.Count => Count(When(condition, expr ?? Num(1))),
            MetricAggregation.Sum => Sum(When(condition, expr!)),
            MetricAggregation.CountDistinct => CountDistinct(When(condition, expr!)),
            MetricAggregation.Average => Avg(When(condition, Cast(expr!, SqlType.Double))),
            MetricAggregation.Proportion => Max(When(condition, Num(1), Num(0))),
            _ => throw new InvalidOperationException($"metric `{metric.Name}` has no per-unit aggregate"),
        };
    }

    private static string MetricSummary(MetricDefinition metric)
    {
        var agg = Core.Validation.ProjectValidator.AggregationName(metric.Aggregation);
        return metric.IsRatio
            ? $"ratio of {metric.Numerator!.Name} to {metric.Denominator!.Name}"
            : $"{agg}{(metric.Expr is { } e ? $" of {e.Text}" : "")} over {metric.Source!.Name}{(metric.Filter is { } f ? $" where {f.Text}" : "")}";
    }

    /// <summary>The experiment window as [start 00:00, day after end 00:00).</summary>
    public static (DateTime Start, DateTime EndExclusive) Window(ExperimentDefinition experiment) =>
        (experiment.Start.ToDateTime(TimeOnly.MinValue), experiment.End.AddDays(1).ToDateTime(TimeOnly.MinValue));

    public static SqlType ToSqlType(ColumnType type) => type switch
    {
        ColumnType.String => SqlType.String,
        ColumnType.Integer => SqlType.Integer,
        ColumnType.Number => SqlType.Double,
        ColumnType.Boolean => SqlType.Boolean,
        ColumnType.Timestamp => SqlType.Timestamp,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
