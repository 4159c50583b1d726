using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a conversion metric: a funnel of steps over one source, within a window of the first step.</summary>
public sealed record ConversionSpec(NameReference? Source, string? Window, IReadOnlyList<EventStepSpec>? Steps) : MetricSpec;

/// <summary>
/// <c>type: conversion</c>: the share of entities that, after a step-1 event, do each further step in order (each after
/// the previous one) within <c>window</c> of that step-1 event. A two-step funnel is MetricFlow's conversion metric
/// (base event, conversion event, entity, window). At a grain an entity counts once per bucket, from its first step-1
/// event in the bucket, and the query also shows each step's count and the drop-off from the step before. In an
/// experiment the value is 1 for a unit with a step-1 event at or after first exposure that completes the funnel.
/// </summary>
public sealed class ConversionMetricType : MetricType
{
    public static ConversionMetricType Instance { get; } = new();

    public override string Name => "conversion";

    public override bool HasUnitValues => true;

    public override string Summary => "a funnel: the share of entities doing step 1 that do every later step in order within a window";

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new ConversionSpec(reader.Reference("source"), reader.String("window"), EventSteps.Read(reader, "steps", "step"));

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (ConversionSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        var ok = true;
        foreach (var (key, value) in new (string, object?)[] { ("source", spec.Source), ("window", spec.Window), ("steps", spec.Steps) })
        {
            if (value is null && !definition.FieldLocations.ContainsKey(key))
            {
                binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: a conversion metric needs `{key}`",
                    "for example `source: events`, `window: 7 days` and `steps:` with a `name` and `filter` per step");
                ok = false;
            }
        }

        if (spec.Steps is { Count: < 2 } few)
        {
            binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("steps"),
                $"{context}: a funnel needs at least two steps, and `steps` has {(few.Count == 0 ? "none" : "one")}",
                "list the step everyone starts with (sign-up) and the step that counts as converted (purchase)");
            ok = false;
        }

        var days = spec.Window is { } text ? EventSteps.Days(text, "window", definition.At("window"), context, binder) : null;
        var source = spec.Source is { } reference ? binder.Source(reference, context) : null;
        var steps = source is not null && spec.Steps is { Count: >= 2 } specs ? EventSteps.Bind(specs, source, "step", context, binder) : null;
        if (!ok || days is null || source is null || steps is null)
            return null;
        return new ConversionMetric(definition, source, steps, days.Value);
    }
}

/// <summary>A bound conversion metric (a funnel of at least two steps).</summary>
public sealed record ConversionMetric(MetricDefinition Definition, BoundSource Source, IReadOnlyList<EventStep> Steps, int WindowDays) : BoundMetric(Definition)
{
    public override MetricType Type => ConversionMetricType.Instance;

    public override IReadOnlyList<BoundSource> Sources => [Source];

    public override string Summary =>
        $"share of {Source.Entity.Name} doing {string.Join(" then ", Steps.Select(s => s.Name))} within {WindowDays} day(s) of {Steps[0].Name}, over {Source.Name}";

    public override bool HasUnitValue => true;

    /// <summary>The column holding when an entity did a step (null when it did not).</summary>
    public static string StepColumn(EventStep step) => $"{step.Name}_at";

    public override ExperimentStatistics Experiment(UnitValueBuilder units)
    {
        var rows = Funnel(null, $"{Name}_funnel_starts", "every step-1 event");
        var completed = new IsNullExpr(Col(StepColumn(Steps[^1])), Negated: true);
        return units.MeanOf(this,
            frame => units.Measure(frame is UnitTimeFrame.BeforeExposure ? UnitValueBuilder.Covariate(Name) : Name, rows, Aggregation.Proportion, null, completed, frame,
                $"1 when a funnel started at or after first exposure reached `{Steps[^1].Name}` within {WindowDays} day(s)"),
            zeroWhenEmpty: true, binary: true);
    }

    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        var rows = Funnel(query, $"{Name}_funnel", query.Grain is null ? "each entity's first step-1 event" : "each entity's first step-1 event in each bucket");
        var counts = new List<SqlExpr> { query.Entities(rows) };
        foreach (var step in Steps.Skip(1))
            counts.Add(query.Measure($"{step.Name}_count", rows, Aggregation.CountDistinct, Col(Source.Entity.Name), new IsNullExpr(Col(StepColumn(step)), Negated: true)));

        var columns = new List<GrainColumn>();
        for (var i = 0; i < Steps.Count; i++)
        {
            columns.Add(new GrainColumn(Steps[i].Name, counts[i], $"{Source.Entity.Name} that reached step {i + 1} `{Steps[i].Name}`"));
            if (i > 0)
                columns.Add(new GrainColumn($"{Steps[i].Name}_dropoff", new BinaryExpr(Num(1), BinaryOperator.Subtract, new BinaryExpr(counts[i], BinaryOperator.Divide, counts[i - 1])),
                    $"share of those at `{Steps[i - 1].Name}` who did not reach `{Steps[i].Name}`"));
        }

        return new GrainValue(new BinaryExpr(counts[^1], BinaryOperator.Divide, counts[0]), false) { Columns = columns };
    }

    /// <summary>
    /// One row per funnel start: the entity, when it did step 1, and when it did each later step (the earliest event of
    /// that step after the previous step and no later than <see cref="WindowDays"/> after step 1; null when none).
    /// Taking the earliest event at each step finds a completion whenever one exists. With a grain query, a funnel
    /// starts at the entity's first step-1 event in each bucket; without one (an experiment) at every step-1 event.
    /// </summary>
    private DerivedRows Funnel(GrainQueryBuilder? query, string name, string starts)
    {
        const string Event = "e";
        const string Previous = "p";
        var entity = Source.Entity.Name;
        var time = Source.EventTime.Name;
        var staged = new NodeRef(RowSet.StagingNode(Source.Name));
        SqlExpr? Qualified(EventStep step) => step.Filter is null ? null : SqlExprRewriter.Qualify(step.Filter, Event);

        var at = Col(Event, time);
        SelectQuery first;
        if (query is not null)
        {
            IReadOnlyList<SqlExpr> groupBy = query.Bucket(at) is { } bucket ? [Col(Event, entity), bucket] : [Col(Event, entity)];
            first = new SelectQuery([Col(Event, entity).Item(), Min(at).As(StepColumn(Steps[0]))], From(staged, Event), Qualified(Steps[0]), groupBy);
        }
        else
        {
            first = new SelectQuery([Col(Event, entity).Item(), at.As(StepColumn(Steps[0]))], From(staged, Event), Qualified(Steps[0])) { Distinct = true };
        }

        var ctes = new List<CommonTableExpression>();
        var current = first;
        var currentName = $"{name}__{Steps[0].Name}";
        var currentComment = $"`{Steps[0].Name}`: {starts} of `{Source.Name}`{(Steps[0].FilterText is { } f ? $" where {f}" : "")}";
        for (var i = 1; i < Steps.Count; i++)
        {
            ctes.Add(new CommonTableExpression(currentName, current, currentComment));
            var step = Steps[i];
            var earlier = Steps.Take(i).Select(s => Col(Previous, StepColumn(s))).ToList();
            var on = And(
                Eq(Col(Event, entity), Col(Previous, entity)),
                Qualified(step),
                Gt(at, Col(Previous, StepColumn(Steps[i - 1]))),
                new BinaryExpr(at, BinaryOperator.LessOrEqual, new AddDaysExpr(Col(Previous, StepColumn(Steps[0])), WindowDays)));
            current = new SelectQuery(
                [Col(Previous, entity).Item(), .. earlier.Select(c => c.Item()), Min(at).As(StepColumn(step))],
                new JoinFrom(From(new CteRef(currentName), Previous), JoinKind.Left, From(staged, Event), on),
                GroupBy: [Col(Previous, entity), .. earlier]);
            currentName = $"{name}__{step.Name}";
            currentComment = $"`{step.Name}`: the first such event after `{Steps[i - 1].Name}` and within {WindowDays} day(s) of `{Steps[0].Name}`";
        }

        return new DerivedRows(name, entity, StepColumn(Steps[0]), current with { With = ctes }, [Source],
            $"funnel `{Name}`: one row per funnel start ({starts}) with the time of each step reached; {currentComment}");
    }
}
