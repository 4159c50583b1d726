using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// Turns a bound project into the DAG of warehouse tables. The planner decides what each table holds and how it is
/// computed, as a SQL model; it never writes SQL text (that is the renderer's job, per dialect). What a metric computes
/// comes from its type (<c>Core/Metrics/Types</c>) through the per-unit and per-grain logical plans.
/// </summary>
public static class Planner
{
    private const string Event = UnitValueBuilder.RowAlias;
    private const string Unit = UnitValueBuilder.UnitAlias;

    /// <exception cref="CompilationException">A metric's <c>materialize:</c> cannot be planned (located diagnostics).</exception>
    public static ExecutionPlan Plan(BoundProject project)
    {
        var nodes = new List<PlanNode>();
        foreach (var source in project.Sources.OrderBy(s => s.Name, StringComparer.Ordinal))
            nodes.Add(Staging(source));
        var diagnostics = new DiagnosticBag();
        foreach (var metric in project.Metrics.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (metric.Definition.Materialize is { } materialize && MetricTable(project, metric, materialize, diagnostics) is { } table)
                nodes.Add(table);
        }

        if (diagnostics.HasErrors)
            throw new CompilationException(diagnostics.Sorted());
        foreach (var experiment in project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            var lowered = ExperimentLowering.Lower(experiment);
            nodes.Add(Exposures(project.Time, experiment));
            nodes.Add(UnitMetrics(project.Time, lowered));
            nodes.Add(Statistics(lowered));
            nodes.Add(SrmCounts(experiment));
            if (experiment.Segments.Count > 0)
                nodes.Add(SegmentStatistics(lowered));
        }

        if (project.Experiments.Count > 0)
        {
            var inputs = project.Experiments
                .SelectMany(e => e.Segments.Count > 0
                    ? new[] { NodeNames.Statistics(e.Id), NodeNames.SrmCounts(e.Id), NodeNames.SegmentStatistics(e.Id) }
                    : new[] { NodeNames.Statistics(e.Id), NodeNames.SrmCounts(e.Id) })
                .Order(StringComparer.Ordinal)
                .ToList();
            nodes.Add(new PlanNode(NodeNames.ExperimentResults, NodeKind.Readout,
                "Experiment readout: lift, intervals, p-values, SRM, guardrails and the decision, per metric and variant.",
                null, inputs, [], new(project.Definition.ProjectFile, 1, 1), ["experiment", "readout"]));
        }

        nodes.AddRange(ModelPlanner.Models(project, nodes, diagnostics));
        foreach (var source in project.Sources.Where(s => s.Definition.Model is { } m && nodes.All(n => n.Name != m.Name || n.Kind != NodeKind.Model)))
            diagnostics.Error(DiagnosticCodes.UnknownRef, source.Definition.At("model"), $"source `{source.Name}` reads model `{source.Definition.Model!.Name}`, which is not a SQL model",
                "`model:` names a .sql file matched by `sql_models:` (without `.sql`)");
        if (diagnostics.HasErrors)
            throw new CompilationException(diagnostics.Sorted());

        ExecutionPlan plan;
        try
        {
            plan = new ExecutionPlan(nodes);
        }
        catch (PlanCycleException e)
        {
            ModelPlanner.ReportCycle(project, e.Path, nodes, diagnostics);
            throw new CompilationException(diagnostics.Sorted());
        }

        var tests = ModelPlanner.Tests(project, plan.Nodes, diagnostics);
        if (diagnostics.HasErrors)
            throw new CompilationException(diagnostics.Sorted());
        return new ExecutionPlan(nodes) { Tests = tests };
    }

    /// <summary>The metric's query at its declared grain and dimensions, with the conventional column names.</summary>
    /// <summary>
    /// A metric table's query: every period, or (<paramref name="start"/>, a local date that starts a period of the
    /// grain) the periods from that one on, which are the table's rows from that date on as the whole query gives them
    /// for a metric that <see cref="MetricTableSpec.RecomputesFromADay"/>.
    /// </summary>
    /// <exception cref="QueryException">The materialization cannot be planned.</exception>
    public static PlannedQuery MetricTableQuery(BoundProject project, BoundMetric metric, MetricMaterialization materialize, DateOnly? start = null)
    {
        var timeKey = MetricTime.Column(materialize.Grain);
        var request = new MetricQuery([metric.Name], [timeKey, .. materialize.Dimensions.Select(d => d.Name)], Start: start);
        return QueryPlanner.Plan(project, request, name => name == timeKey ? MetricTableColumns.Date : name == metric.Name ? MetricTableColumns.Value : name, extraColumns: false);
    }

    private static PlanNode? MetricTable(BoundProject project, BoundMetric metric, MetricMaterialization materialize, DiagnosticBag diagnostics)
    {
        PlannedQuery planned;
        try
        {
            planned = MetricTableQuery(project, metric, materialize);
        }
        catch (QueryException e)
        {
            diagnostics.Error(DiagnosticCodes.MaterializationInvalid, materialize.Location, $"metric `{metric.Name}`: cannot materialize: {e.Message}",
                "`materialize:` takes `grain` (day, week, month, quarter, year) and `dimensions` that `metricc query --group-by` accepts");
            return null;
        }

        var grain = materialize.Grain.ToString().ToLowerInvariant();
        var by = materialize.Dimensions.Count == 0 ? "" : $" and {string.Join(", ", materialize.Dimensions.Select(d => d.Name))}";
        return new PlanNode(NodeNames.MetricTable(metric.Name), NodeKind.MetricTable,
            $"`{metric.Name}` ({metric.Summary}) per {grain}{by}, days in {project.Time.ZoneId}; `{MetricTableColumns.Date}` is the first day of the {grain}.",
            planned.Query, planned.Reads, [], materialize.Location, [.. metric.Definition.Tags, "metric"])
        {
            MetricTable = new MetricTableSpec(metric.Name, materialize.Grain, [.. materialize.Dimensions.Select(d => d.Name)], metric is SimpleMetric),
        };
    }

    /// <summary>
    /// Typed columns; rows without entity or event time dropped, and (governance) rows outside the retention window or
    /// without consent; one row per unique key; <c>pii: true</c> columns hashed with the project's salt. The audit counts
    /// what each rule dropped, over the same raw rows.
    /// </summary>
    private static PlanNode Staging(BoundSource source)
    {
        // Timestamps follow the timestamp contract (UtcTimestampExpr): the same UTC instant on every engine, null when unparsable.
        // Numbers likewise: a value that is not a number ('N/A') is null, and so is a negative one in a `non_negative` column;
        // the audit counts both.
        SqlExpr Typed(BoundColumn c) => c.Type switch
        {
            ColumnType.Timestamp => new UtcTimestampExpr(Col(c.Name)),
            ColumnType.Integer or ColumnType.Number when c.NonNegative => When(Ge(Number(c), Num(0)), Number(c)),
            ColumnType.Integer or ColumnType.Number => Number(c),
            _ => Cast(Col(c.Name), ToSqlType(c.Type)),
        };
        var keep = StagingRules(source, Typed);
        var typedItems = source.Columns.Select(c => Typed(c).As(c.Name)).ToList();
        RelationRef raw = source.Definition.Model is { } model ? new NodeRef(model.Name) : new SourceTableRef(source.Table);
        var typed = new SelectQuery(typedItems, From(raw), Where: And([.. keep.Select(k => k.Keep)]));
        var salt = new ScalarSubqueryExpr(new SelectQuery([Col("salt").Item()], From(new SourceTableRef(NodeNames.PiiSalt))));
        var columns = source.Columns.Select(c => c.Pii
            ? new SaltedSha256Expr(salt, Col(c.Name)).As(c.Name, "pii: salted SHA-256, the raw value never leaves this statement")
            : Col(c.Name).Item()).ToList();
        var typedComment = string.Join("; ", ["every column cast to its declared type; rows without entity or event time dropped", .. keep.Skip(2).Select(k => k.Description)]);
        var tieBreak = new List<SortKey> { new(Col(source.EventTime.Name)) };
        tieBreak.AddRange(source.Columns.Where(c => c.Name != source.EventTime.Name && c.Name != source.UniqueKey?.Name).Select(c => new SortKey(Col(c.Name))));
        var staging = new StagingQuery(typed, typedComment, source.EventTime.Name, Typed(source.EventTime), source.UniqueKey?.Name, tieBreak, columns,
            source.Rules.PiiColumns.Count > 0,
            source.Rules.RetentionDays is { } days ? Ge(Col(source.EventTime.Name), new AddDaysExpr(new CurrentUtcTimestampExpr(), -days)) : null)
        {
            Lookups = [.. source.UniqueKey is { } unique ? new[] { new[] { unique.Name } } : [], [source.Entity.Name, source.EventTime.Name]],
            WindowRules = [.. keep.Where(k => k.DroppedColumn != StagingAuditColumns.MissingTime).Select(k => k.Keep)],
        };
        var query = staging.Full();

        return new PlanNode(NodeNames.Staging(source.Name), NodeKind.Staging,
            source.Definition.Description ?? $"Staged rows of source `{source.Name}`.",
            query, source.Definition.Model is { } reads ? [reads.Name] : [], source.Definition.Model is null ? [source.Table] : [], source.Location,
            ["staging", .. source.Definition.Tags])
        {
            Audit = StagingAudit(raw, keep, source),
            Incremental = source.Definition.Incremental,
            Staging = source.Definition.Incremental is null ? null : staging,
            UniqueKey = source.UniqueKey?.Name,
            RetentionDays = source.Rules.RetentionDays,
        };
    }

    private static NumberOrNullExpr Number(BoundColumn column) => new(Col(column.Name), ToSqlType(column.Type));

    /// <summary>A rule of staging: the rows it keeps, the audit column counting the rows it drops, and a comment.</summary>
    private sealed record StagingRule(string DroppedColumn, SqlExpr Keep, string Description);

    /// <summary>Staging's rules in the order they apply; each drop is counted against the rows every earlier rule kept.</summary>
    private static IReadOnlyList<StagingRule> StagingRules(BoundSource source, Func<BoundColumn, SqlExpr> typed)
    {
        var rules = new List<StagingRule>
        {
            new(StagingAuditColumns.MissingEntity, new IsNullExpr(Col(source.Entity.Name), Negated: true), "rows without entity dropped"),
            new(StagingAuditColumns.MissingTime, new IsNullExpr(typed(source.EventTime), Negated: true), "rows without (a parsable) event time dropped"),
        };
        if (source.Rules.RetentionDays is { } days)
            rules.Add(new(StagingAuditColumns.OutsideRetention, Ge(typed(source.EventTime), new AddDaysExpr(new CurrentUtcTimestampExpr(), -days)),
                $"retention_days: {days}: rows older than {days} days at the time of the run dropped"));
        if (source.Rules.Consent is { } consent)
            rules.Add(new(StagingAuditColumns.WithoutConsent, Eq(typed(consent.Column), consent.Value),
                $"consent: only rows with `{consent.Column.Name}` = {consent.ValueText} kept"));
        return rules;
    }

    /// <summary>
    /// One row per reason a raw row was dropped (null: kept): its rows, and over the kept rows, the values staging made
    /// null (numbers that are not numbers, negatives in `non_negative` columns). The reason is the first rule that drops
    /// the row, a nested <c>case</c> that evaluates each rule once per row, at most: the rules parse timestamps, and a
    /// count per rule would parse them once per rule.
    /// </summary>
    private static StagingAudit StagingAudit(RelationRef raw, IReadOnlyList<StagingRule> rules, BoundSource source)
    {
        SqlExpr reason = new NullLiteral(SqlType.String);
        for (var i = rules.Count - 1; i >= 0; i--)
            reason = When(rules[i].Keep, reason, Str(rules[i].DroppedColumn));
        var items = new List<SelectItem> { Col(StagingAuditColumns.DroppedBy).Item(), CountStar().As(StagingAuditColumns.AuditedRows) };
        var numbers = source.Columns.Where(c => c.Type is ColumnType.Integer or ColumnType.Number).ToList();
        var nulled = new List<string>();
        SqlExpr Count(IEnumerable<SqlExpr> conditions) =>
            Coalesce(Sum(conditions.Select(c => (SqlExpr)When(c, Num(1), Num(0))).Aggregate((a, b) => new BinaryExpr(a, BinaryOperator.Add, b))), Num(0));
        if (numbers.Count > 0)
        {
            nulled.Add(StagingAuditColumns.NotANumber);
            items.Add(Count(numbers.Select(c => And(new IsNullExpr(Col(c.Name), Negated: true), new IsNullExpr(Number(c))))).As(StagingAuditColumns.NotANumber));
        }

        if (numbers.Where(c => c.NonNegative).ToList() is { Count: > 0 } nonNegative)
        {
            nulled.Add(StagingAuditColumns.Negative);
            items.Add(Count(nonNegative.Select(c => (SqlExpr)Lt(Number(c), Num(0)))).As(StagingAuditColumns.Negative));
        }

        var reasons = new SelectQuery([reason.As(StagingAuditColumns.DroppedBy), .. numbers.Select(c => Col(c.Name).Item())], From(raw));
        var query = new SelectQuery(items, From(new CteRef("audited_rows")), GroupBy: [Col(StagingAuditColumns.DroppedBy)])
        {
            With = [new CommonTableExpression("audited_rows", reasons, "each raw row with the first staging rule that drops it (null: kept)")],
        };
        return new StagingAudit(query, [.. rules.Select(r => r.DroppedColumn)]) { NulledColumns = nulled };
    }

    /// <summary>
    /// One row per unit exposed inside the window: when it was first exposed, which variant, and whether it can be
    /// analysed (a unit that saw more than one variant cannot).
    /// </summary>
    private static PlanNode Exposures(ProjectTime time, BoundExperiment experiment)
    {
        if (experiment.Exposure.Variant is not LoggedVariant logged)
            return HoldoutExposures(time, experiment, ((HeldOutByHash)experiment.Exposure.Variant).Holdout);
        var source = experiment.Exposure.Source;
        var (start, end) = Window(time, experiment.Definition);
        var at = Col(Event, source.EventTime.Name);
        var hashValue = experiment.Assignment is { } assignment ? HashValue(assignment.HashAttributes) : null;
        var events = new SelectQuery(
            [
                Col(Event, source.Entity.Name).As("unit_id"),
                Col(Event, logged.Column.Name).As("variant"),
                at.As("exposed_at"),
                .. hashValue is null ? Array.Empty<SelectItem>() : [hashValue.As("hash_value")],
            ],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: And(
                experiment.Exposure.Filter is { } filter ? SqlExprRewriter.Qualify(filter, Event) : null,
                Ge(at, new TimestampLiteral(start)),
                Lt(at, new TimestampLiteral(end))));
        var perUnit = new SelectQuery(
            [
                Col("unit_id").Item(),
                Min(Col("exposed_at")).As("first_exposure_at"),
                CountDistinct(Col("variant")).As("variant_count"),
                Min(Col("variant")).As("first_variant"),
                .. hashValue is null ? Array.Empty<SelectItem>() : [Min(Col("hash_value")).As("hash_value")],
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
                .. hashValue is null ? Array.Empty<SelectItem>() : [Col("hash_value").As("hash_value", "what the assignment hashes; the run audits the logged variant against it")],
            ],
            From(new CteRef("first_exposures")))
        {
            With =
            [
                new CommonTableExpression("exposure_events", events, $"exposures of `{experiment.Id}` inside its window {experiment.Definition.Start:yyyy-MM-dd}..{experiment.Definition.End:yyyy-MM-dd}{ZoneNote(time)}"),
                new CommonTableExpression("first_exposures", perUnit, "one row per unit: its first exposure and how many variants it saw"),
            ],
        };
        return new PlanNode(NodeNames.Exposures(experiment.Id), NodeKind.Exposures,
            $"Units exposed to experiment `{experiment.Id}` with their first exposure and variant.",
            query, [NodeNames.Staging(source.Name)], [], experiment.Definition.Location, ["experiment", .. experiment.Definition.Tags], experiment.Id)
        {
            ReadRanges = new Dictionary<string, EventTimeRange>(StringComparer.Ordinal) { [NodeNames.Staging(source.Name)] = new(start, end) },
        };
    }

    /// <summary>
    /// A holdout's eligible units (rows of the exposure source inside the window) with their first exposure and hash
    /// value. The variant is the unit's namespace position (GrowthBook's FNV-1a hash, which SQL engines do not share),
    /// so the runner computes it from <c>hash_value</c> with <see cref="BoundHoldout.VariantOf"/> and writes the table
    /// with the same columns as every exposures table.
    /// </summary>
    private static PlanNode HoldoutExposures(ProjectTime time, BoundExperiment experiment, BoundHoldout holdout)
    {
        var source = experiment.Exposure.Source;
        var (start, end) = Window(time, experiment.Definition);
        var at = Col(Event, source.EventTime.Name);
        var events = new SelectQuery(
            [Col(Event, source.Entity.Name).As("unit_id"), at.As("exposed_at"), HashValue(holdout.HashAttributes).As("hash_value")],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: And(
                experiment.Exposure.Filter is { } filter ? SqlExprRewriter.Qualify(filter, Event) : null,
                Ge(at, new TimestampLiteral(start)),
                Lt(at, new TimestampLiteral(end))));
        var query = new SelectQuery(
            [
                Col("unit_id").Item(),
                Min(Col("exposed_at")).As("first_exposure_at"),
                Min(Col("hash_value")).As("hash_value", $"the runner places it in namespace `{holdout.Range.Name}`: [{holdout.Range.Start.ToString(System.Globalization.CultureInfo.InvariantCulture)}, {holdout.Range.End.ToString(System.Globalization.CultureInfo.InvariantCulture)}) is the holdout"),
            ],
            From(new CteRef("eligible")),
            GroupBy: [Col("unit_id")])
        {
            With = [new CommonTableExpression("eligible", events, $"units eligible for holdout `{experiment.Id}` inside its window {experiment.Definition.Start:yyyy-MM-dd}..{experiment.Definition.End:yyyy-MM-dd}{ZoneNote(time)}")],
        };
        return new PlanNode(NodeNames.Exposures(experiment.Id), NodeKind.Exposures,
            $"Units eligible for holdout `{experiment.Id}` with their first exposure; the runner assigns `{HoldoutVariants.Holdout}` or `{HoldoutVariants.Released}` from each unit's namespace position.",
            query, [NodeNames.Staging(source.Name)], [], experiment.Definition.Location, ["experiment", "holdout", .. experiment.Definition.Tags], experiment.Id)
        {
            Holdout = holdout,
        };
    }

    /// <summary>The hashed value of a unit: its hash attributes' values joined by <c>|</c>, as <c>Assigner.HashValue</c> joins them.</summary>
    private static SqlExpr HashValue(IReadOnlyList<BoundColumn> attributes)
    {
        SqlExpr value = Col(Event, attributes[0].Name);
        foreach (var attribute in attributes.Skip(1))
            value = new BinaryExpr(new BinaryExpr(value, BinaryOperator.Concat, Str(MetricCompiler.Assignment.Assigner.AttributeSeparator)), BinaryOperator.Concat, Col(Event, attribute.Name));
        return value;
    }

    /// <summary>
    /// One row per analysed unit with every metric of the experiment. Each source is read once: all measures on it come
    /// from conditional aggregation in a single pass, counting only rows in each measure's time frame relative to the
    /// unit's first exposure, and before the window closes.
    /// </summary>
    private static PlanNode UnitMetrics(ProjectTime time, LoweredExperiment lowered)
    {
        var experiment = lowered.Experiment;
        var units = lowered.Units;
        var (start, end) = Window(time, experiment.Definition);
        var lookback = units.LookbackDays;

        var exposed = new SelectQuery(
            [Col("unit_id").Item(), Col("variant").Item(), Col("first_exposure_at").Item()],
            From(new NodeRef(NodeNames.Exposures(experiment.Id))),
            Where: Eq(Col("assignment_status"), Str(AssignmentStatus.Analysed)));
        var ctes = new List<CommonTableExpression> { new("exposed_units", exposed, "units that saw exactly one declared variant") };
        var dependsOn = new SortedSet<string>(StringComparer.Ordinal) { NodeNames.Exposures(experiment.Id) };

        FromItem from = From(new CteRef("exposed_units"), Unit);
        // What the node reads of each staging only inside a time range; a staging it also reads whole is removed below.
        var ranges = new Dictionary<string, EventTimeRange>(StringComparer.Ordinal);
        var readWhole = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in units.Measures.GroupBy(m => m.Rows).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var rows = group.Key;
            var cteName = $"{rows.Name}_values";
            var alias = UnitValueBuilder.SourceAlias(rows);
            var at = Col(Event, rows.TimeColumn);
            var scan = new SelectQuery(
                [Col(Unit, "unit_id").Item(), .. group.Select(m => m.Aggregate.As(m.Alias, m.Comment))],
                new JoinFrom(From(new CteRef("exposed_units"), Unit), JoinKind.Inner, From(RowsRelation(rows, ctes), Event),
                    Eq(Col(Event, rows.EntityColumn), Col(Unit, "unit_id"))),
                Where: And(Ge(at, new TimestampLiteral(start.AddDays(-lookback))), Lt(at, new TimestampLiteral(end))),
                GroupBy: [Col(Unit, "unit_id")]);
            ctes.Add(new CommonTableExpression(cteName, scan, $"one pass over `{rows.Name}`: {string.Join(", ", group.Select(m => m.Alias))}"));
            from = new JoinFrom(from, JoinKind.Left, From(new CteRef(cteName), alias), Eq(Col(alias, "unit_id"), Col(Unit, "unit_id")));
            foreach (var read in rows.Reads)
                dependsOn.Add(NodeNames.Staging(read.Name));
            if (rows is SourceRows sourceRows)
                ranges[NodeNames.Staging(sourceRows.Source.Name)] = new EventTimeRange(start.AddDays(-lookback), end);
            else
                readWhole.UnionWith(rows.Reads.Select(r => NodeNames.Staging(r.Name)));
        }

        var finalItems = new List<SelectItem> { Col(Unit, "unit_id").Item(), Col(Unit, "variant").Item() };
        finalItems.AddRange(units.Columns.Select(c => c.Expression.As(c.Name, c.Comment)));
        foreach (var attribute in experiment.AttributeCovariates)
        {
            var source = attribute.Source;
            var cteName = $"attribute_{attribute.Name}";
            var alias = $"a_{attribute.Name}";
            ctes.Add(new CommonTableExpression(cteName,
                new SelectQuery(
                    [Col(source.Entity.Name).As("unit_id"), Col(attribute.Column.Name).As("attribute_value")],
                    From(new NodeRef(NodeNames.Staging(source.Name)))),
                $"covariate attribute `{attribute.Column.Name}` of source `{source.Name}` (one row per unit)"));
            from = new JoinFrom(from, JoinKind.Left, From(new CteRef(cteName), alias), Eq(Col(alias, "unit_id"), Col(Unit, "unit_id")));
            var value = Col(alias, "attribute_value");
            foreach (var (column, level) in attribute.UnitColumnsWithLevels)
            {
                var (expression, comment) = level switch
                {
                    null => (Cast(Coalesce(value, Num(0)), SqlType.Double), $"covariate: `{attribute.Column.Name}`, 0 when null"),
                    "" => (Cast(new CaseExpr([new WhenClause(new IsNullExpr(value, false), Num(1))], Num(0)), SqlType.Double), $"covariate: `{attribute.Column.Name}` is null"),
                    _ => (Cast(new CaseExpr([new WhenClause(Eq(Cast(value, SqlType.String), Str(level)), Num(1))], Num(0)), SqlType.Double),
                        $"covariate: `{attribute.Column.Name}` = '{level}' (reference '{attribute.Levels![0]}')"),
                };
                finalItems.Add(expression.As(column, comment));
            }

            dependsOn.Add(NodeNames.Staging(source.Name));
            readWhole.Add(NodeNames.Staging(source.Name));
        }

        foreach (var segment in experiment.Segments)
        {
            var source = segment.Source;
            var cteName = $"segment_{segment.Name}";
            var alias = $"s_{segment.Name}";
            ctes.Add(new CommonTableExpression(cteName,
                new SelectQuery(
                    [Col(source.Entity.Name).As("unit_id"), Min(Cast(Col(segment.Column.Name), SqlType.String)).As("segment_value")],
                    From(new NodeRef(NodeNames.Staging(source.Name))),
                    GroupBy: [Col(source.Entity.Name)]),
                $"segment `{segment.Name}`: `{segment.Column.Name}` of source `{source.Name}`, one value per unit"));
            from = new JoinFrom(from, JoinKind.Left, From(new CteRef(cteName), alias), Eq(Col(alias, "unit_id"), Col(Unit, "unit_id")));
            finalItems.Add(Coalesce(Col(alias, "segment_value"), Str(NodeNames.MissingSegment)).As(NodeNames.Segment(segment.Name)));
            dependsOn.Add(NodeNames.Staging(source.Name));
            readWhole.Add(NodeNames.Staging(source.Name));
        }

        ranges = ranges.Where(r => !readWhole.Contains(r.Key)).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        var query = new SelectQuery(finalItems, from) { With = ctes };
        return new PlanNode(NodeNames.UnitMetrics(experiment.Id), NodeKind.UnitMetrics,
            $"Per-unit metric values for experiment `{experiment.Id}`: one row per analysed unit.",
            query, dependsOn.ToList(), [], experiment.Definition.Location, ["experiment", .. experiment.Definition.Tags], experiment.Id)
        {
            ReadRanges = ranges,
        };
    }

    /// <summary>Sufficient statistics per metric and variant: everything the statistics engine needs, nothing per unit.</summary>
    private static PlanNode Statistics(LoweredExperiment lowered)
    {
        var experiment = lowered.Experiment;
        var parts = new List<SelectQuery>();
        var comments = new List<string?>();
        foreach (var metric in experiment.Metrics)
        {
            parts.Add(StatisticsPart(experiment, metric.Metric, lowered.Of(metric.Metric), [], []));
            comments.Add($"{metric.Role.ToString().ToLowerInvariant()} metric `{metric.Metric.Name}`: {metric.Metric.Summary}");
        }

        return new PlanNode(NodeNames.Statistics(experiment.Id), NodeKind.Statistics,
            $"Per-variant sufficient statistics for experiment `{experiment.Id}` (n, centred sums, sums of squares, cross-products).",
            new UnionAllQuery(parts, comments) { With = [.. SharedExpressions(lowered, experiment.Metrics.Select(m => m.Metric)), .. QuantileExpressions(lowered, experiment.Metrics.Select(m => m.Metric), null)] },
            [NodeNames.UnitMetrics(experiment.Id)], [], experiment.Definition.Location,
            ["experiment", .. experiment.Definition.Tags], experiment.Id);
    }

    /// <summary>The same statistics per segment of every dimension, for primary and secondary metrics.</summary>
    private static PlanNode SegmentStatistics(LoweredExperiment lowered)
    {
        var experiment = lowered.Experiment;
        var parts = new List<SelectQuery>();
        var comments = new List<string?>();
        foreach (var segment in experiment.Segments)
        {
            foreach (var metric in experiment.Metrics.Where(m => m.Role != MetricRole.Guardrail))
            {
                var column = Col(NodeNames.Segment(segment.Name));
                parts.Add(StatisticsPart(experiment, metric.Metric, lowered.Of(metric.Metric),
                    [Str(segment.Name).As(StatisticsColumns.Dimension), column.As(StatisticsColumns.Segment)], [column], QuantileSuffix(segment.Name)));
                comments.Add($"{metric.Role.ToString().ToLowerInvariant()} metric `{metric.Metric.Name}` by segment `{segment.Name}`");
            }
        }

        return new PlanNode(NodeNames.SegmentStatistics(experiment.Id), NodeKind.Statistics,
            $"Per-segment, per-variant sufficient statistics for experiment `{experiment.Id}` (segment breakdowns).",
            new UnionAllQuery(parts, comments)
            {
                With =
                [
                    .. SharedExpressions(lowered, experiment.Metrics.Where(m => m.Role != MetricRole.Guardrail).Select(m => m.Metric)),
                    .. experiment.Segments.SelectMany(segment => QuantileExpressions(lowered, experiment.Metrics.Where(m => m.Role != MetricRole.Guardrail).Select(m => m.Metric), segment.Name)),
                ],
            },
            [NodeNames.UnitMetrics(experiment.Id)], [], experiment.Definition.Location,
            ["experiment", "segments", .. experiment.Definition.Tags], experiment.Id);
    }

    /// <summary>The centres, and the caps when a metric is capped.</summary>
    private static IEnumerable<CommonTableExpression> SharedExpressions(LoweredExperiment lowered, IEnumerable<BoundMetric> metrics)
    {
        var list = metrics.ToList();
        yield return Centres(lowered, list);
        foreach (var cte in Caps(lowered, list))
            yield return cte;
    }

    /// <summary>
    /// Each capped unit column's cap, in one row (<see cref="StatisticsColumns.Caps"/>). A fixed cap is a literal. A
    /// percentile cap is numpy's default (linear) percentile of the column's non-null values over every analysed unit,
    /// computed portably: with the values ranked 0..n-1 and <c>h = p * (n - 1)</c>, it is
    /// <c>x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])</c>; <c>cap_bounds</c> picks the two
    /// neighbouring order statistics with max/min over the ranks below and above <c>h</c>, so ties do not matter.
    /// </summary>
    private static IEnumerable<CommonTableExpression> Caps(LoweredExperiment lowered, IReadOnlyList<BoundMetric> metrics)
    {
        var capped = metrics.SelectMany(m => lowered.Of(m).CappedColumns)
            .DistinctBy(c => c.CapColumn, StringComparer.Ordinal).OrderBy(c => c.CapColumn, StringComparer.Ordinal).ToList();
        if (capped.Count == 0)
            yield break;

        var unitMetrics = From(new NodeRef(NodeNames.UnitMetrics(lowered.Experiment.Id)));
        var ranked = capped.Where(c => c.Cap.Percentile is not null).Select(c => c.Column).Distinct(StringComparer.Ordinal).ToList();
        var percentiles = capped.Where(c => c.Cap.Percentile is not null).ToList();
        if (ranked.Count > 0)
        {
            var rankItems = new List<SelectItem>();
            foreach (var column in ranked)
            {
                rankItems.Add(Cast(Col(column), SqlType.Double).As(column));
                rankItems.Add(new BinaryExpr(new RowNumberExpr([], [new SortKey(Col(column))]), BinaryOperator.Subtract, Num(1)).As(column + "__rank"));
                rankItems.Add(new WindowExpr(Count(Col(column)), [], []).As(column + "__n"));
            }

            yield return new CommonTableExpression("cap_ranks", new SelectQuery(rankItems, unitMetrics),
                "each capped column's values ranked 0..n-1 over every analysed unit (nulls last, not counted)");

            var boundItems = new List<SelectItem>();
            foreach (var (column, capColumn, cap) in percentiles)
            {
                var h = Mul(Cast(Num(cap.Percentile!.Value), SqlType.Double), Cast(new BinaryExpr(Col(column + "__n"), BinaryOperator.Subtract, Num(1)), SqlType.Double));
                var below = new BinaryExpr(Col(column + "__rank"), BinaryOperator.LessOrEqual, h);
                var above = Gt(Col(column + "__rank"), h);
                boundItems.Add(Max(h).As(capColumn + "__h"));
                boundItems.Add(Max(When(below, Col(column + "__rank"))).As(capColumn + "__low_rank"));
                boundItems.Add(Max(When(below, Col(column))).As(capColumn + "__low"));
                boundItems.Add(Min(When(above, Col(column))).As(capColumn + "__high"));
            }

            yield return new CommonTableExpression("cap_bounds", new SelectQuery(boundItems, From(new CteRef("cap_ranks"))),
                "per percentile cap: h = p * (n - 1), the order statistics at floor(h) and the next one");
        }

        var capItems = new List<SelectItem>();
        foreach (var (_, capColumn, cap) in capped)
        {
            if (cap.Value is { } value)
            {
                capItems.Add(Cast(Num(value), SqlType.Double).As(capColumn, $"cap: {{value: {cap.Describe()}}}"));
                continue;
            }

            var low = Col(capColumn + "__low");
            var fraction = new BinaryExpr(Col(capColumn + "__h"), BinaryOperator.Subtract, Col(capColumn + "__low_rank"));
            var step = new BinaryExpr(Coalesce(Col(capColumn + "__high"), low), BinaryOperator.Subtract, low);
            capItems.Add(new BinaryExpr(low, BinaryOperator.Add, Mul(fraction, step)).As(capColumn, $"cap: the {cap.Describe()} of the values, linearly interpolated"));
        }

        yield return new CommonTableExpression(StatisticsColumns.Caps,
            new SelectQuery(capItems, From(new CteRef(percentiles.Count > 0 ? "cap_bounds" : StatisticsColumns.Centres))),
            "each capped unit column's cap: values above it count as the cap");
    }

    /// <summary>
    /// One row: every centred unit column's mean over all analysed units, the shift its sums are taken about (the same
    /// for every variant and segment, so statistics stay comparable and poolable).
    /// </summary>
    private static CommonTableExpression Centres(LoweredExperiment lowered, IEnumerable<BoundMetric> metrics)
    {
        var columns = metrics.SelectMany(m => lowered.Of(m).CentredColumns).Distinct(StringComparer.Ordinal).ToList();
        IReadOnlyList<SelectItem> items = columns.Count == 0
            ? [Num(0).As("no_centred_column")]
            : [.. columns.Select(c => Coalesce(Cast(Avg(Col(c)), SqlType.Double), Num(0)).As(StatisticsColumns.Centre(c)))];
        return new CommonTableExpression(StatisticsColumns.Centres, new SelectQuery(items, From(new NodeRef(NodeNames.UnitMetrics(lowered.Experiment.Id)))),
            "each unit column's mean over every analysed unit: sums are taken about it, so squares do not cancel");
    }

    /// <summary>
    /// Each quantile metric's ranked values with the positions of its quantile and bounds, per variant (and per segment
    /// of <paramref name="segment"/> for segment statistics): see <see cref="QuantileStatistics"/>.
    /// </summary>
    private static IEnumerable<CommonTableExpression> QuantileExpressions(LoweredExperiment lowered, IEnumerable<BoundMetric> metrics, string? segment)
    {
        var unitMetrics = From(new NodeRef(NodeNames.UnitMetrics(lowered.Experiment.Id)));
        IReadOnlyList<SqlExpr> partition = segment is null
            ? [Col(StatisticsColumns.Variant)]
            : [Col(NodeNames.Segment(segment)), Col(StatisticsColumns.Variant)];
        return metrics.Select(lowered.Of).OfType<QuantileStatistics>().DistinctBy(q => q.Value, StringComparer.Ordinal)
            .SelectMany(q => q.Expressions(unitMetrics, partition, QuantileSuffix(segment)));
    }

    private static string QuantileSuffix(string? segment) => segment is null ? "" : $"__{segment}";

    private static SelectQuery StatisticsPart(BoundExperiment experiment, BoundMetric metric, ExperimentStatistics statistics,
        IReadOnlyList<SelectItem> keys, IReadOnlyList<SqlExpr> groupBy, string quantileSuffix = "") =>
        new([.. keys, Str(metric.Name).As(StatisticsColumns.Metric), Col(StatisticsColumns.Variant).Item(), .. statistics.Aggregates(), .. statistics.CovariateMatrix(experiment.CovariateColumnCount)],
            statistics is QuantileStatistics quantile
                ? From(new CteRef(quantile.PositionsName(quantileSuffix)))
                : statistics.Cap is null
                ? new JoinFrom(From(new NodeRef(NodeNames.UnitMetrics(experiment.Id))), JoinKind.Cross, From(new CteRef(StatisticsColumns.Centres)), null)
                : new JoinFrom(new JoinFrom(From(new NodeRef(NodeNames.UnitMetrics(experiment.Id))), JoinKind.Cross, From(new CteRef(StatisticsColumns.Centres)), null),
                    JoinKind.Cross, From(new CteRef(StatisticsColumns.Caps)), null),
            GroupBy: [.. groupBy, Col(StatisticsColumns.Variant)]);

    private static PlanNode SrmCounts(BoundExperiment experiment)
    {
        var query = new SelectQuery(
            [Col("variant").Item(), Col("assignment_status").Item(), CountStar().As("units")],
            From(new NodeRef(NodeNames.Exposures(experiment.Id))),
            GroupBy: [Col("variant"), Col("assignment_status")],
            OrderBy: [new SortKey(Col("assignment_status")), new SortKey(Col("variant"))]);
        return new PlanNode(NodeNames.SrmCounts(experiment.Id), NodeKind.SrmCounts,
            $"Exposed units per variant and assignment status for experiment `{experiment.Id}` (sample ratio mismatch check).",
            query, [NodeNames.Exposures(experiment.Id)], [], experiment.Definition.Location, ["experiment", .. experiment.Definition.Tags], experiment.Id);
    }

    /// <summary>
    /// The primary metric's per-unit distribution before the experiment: every unit active on the metric's source in
    /// a period as long as the experiment, ending when it starts. Used to check that the declared MDE is reachable;
    /// null for metrics that are not a simple aggregation of one source.
    /// </summary>
    public static QueryExpr? BaselineQuery(ProjectTime time, BoundExperiment experiment, BoundMetric metric)
    {
        if (metric is not SimpleMetric simple)
            return null;
        var source = simple.Source;
        var (start, end) = Window(time, experiment.Definition);
        var days = (end - start).Days;
        var at = Col(Event, source.EventTime.Name);
        var aggregate = Aggregations.Conditional(simple.Aggregation,
            simple.Expr is null ? null : SqlExprRewriter.Qualify(simple.Expr, Event),
            simple.Filter is null ? null : SqlExprRewriter.Qualify(simple.Filter, Event));
        var perUnit = new SelectQuery(
            [Col(Event, source.Entity.Name).As("unit_id"), (simple.ZeroWhenEmpty ? Coalesce(aggregate, Num(0)) : aggregate).As("value")],
            From(new NodeRef(NodeNames.Staging(source.Name)), Event),
            Where: And(Ge(at, new TimestampLiteral(start.AddDays(-days))), Lt(at, new TimestampLiteral(start))),
            GroupBy: [Col(Event, source.Entity.Name)]);
        return new SelectQuery(
            [Count(Col("value")).As("n"), Sum(Col("value")).As("value_sum"), Sum(Mul(Col("value"), Col("value"))).As("value_sum_squares")],
            From(new CteRef("unit_values")))
        {
            With = [new CommonTableExpression("unit_values", perUnit, $"`{metric.Name}` per unit active in the {days} days before `{experiment.Id}` starts")],
        };
    }

    /// <summary>
    /// The relation a scan reads: a source's staging node, or a derived row set, added once as a common table
    /// expression of the query (its own <c>with</c> steps before it, flattened, so the SQL reads top to bottom).
    /// </summary>
    internal static RelationRef RowsRelation(RowSet rows, List<CommonTableExpression> ctes)
    {
        switch (rows)
        {
            case SourceRows source:
                return new NodeRef(NodeNames.Staging(source.Source.Name));
            case DerivedRows derived:
                // The rows' own steps (a funnel's step by step) become common table expressions of the query too.
                foreach (var step in derived.Query.With.Where(step => ctes.All(c => c.Name != step.Name)))
                    ctes.Add(step);
                if (ctes.All(c => c.Name != derived.Name))
                    ctes.Add(new CommonTableExpression(derived.Name, derived.Query with { With = [] }, derived.Description));
                return new CteRef(derived.Name);
            default:
                throw new ArgumentOutOfRangeException(nameof(rows));
        }
    }

    /// <summary>The experiment window as the UTC instants [start 00:00, day after end 00:00) of the project's time zone.</summary>
    public static (DateTime Start, DateTime EndExclusive) Window(ProjectTime time, ExperimentDefinition experiment) =>
        (time.StartOfDayUtc(experiment.Start), time.StartOfDayUtc(experiment.End.AddDays(1)));

    private static string ZoneNote(ProjectTime time) => time.IsUtc ? " (UTC)" : $" ({time.ZoneId}, as UTC instants)";

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
