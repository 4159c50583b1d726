using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of an activation metric.</summary>
public sealed record ActivationSpec(NameReference? Source, SqlSnippet? Anchor, NameReference? AnchorMetric, IReadOnlyList<EventStepSpec>? Actions, int? Required, string? Within) : MetricSpec;

/// <summary>
/// <c>type: activation</c>: the share of entities that do at least <c>required</c> of the key <c>actions</c> within
/// <c>within</c> days of an anchor (the entity's first <c>anchor</c> event, such as sign-up, or the first qualifying row of
/// the simple metric <c>anchor_metric</c>): the rows of the first D days
/// from the anchor, <c>[anchor, anchor + D days)</c>. At a grain entities are bucketed by their anchor; an entity whose D
/// days end after the source's last event is not yet decided and left out (the query shows how many). In an
/// experiment the anchor is the unit's first exposure and the value is 0 or 1 per unit.
/// </summary>
public sealed class ActivationMetricType : MetricType
{
    public static ActivationMetricType Instance { get; } = new();

    public override string Name => "activation";

    public override bool HasUnitValues => true;

    public override string Summary => "the share of entities doing at least K of a list of key actions within D days of an anchor event";

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new ActivationSpec(reader.Reference("source"), reader.Snippet("anchor"), reader.Reference("anchor_metric"), EventSteps.Read(reader, "actions", "action"),
            reader.Integer("required"), reader.String("within"));

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (ActivationSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        var ok = true;
        foreach (var (key, value) in new (string, object?)[] { ("source", spec.Source), ("anchor", (object?)spec.Anchor ?? spec.AnchorMetric), ("actions", spec.Actions), ("required", spec.Required), ("within", spec.Within) })
        {
            if (value is null && !definition.FieldLocations.ContainsKey(key))
            {
                binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: an activation metric needs `{key}`{(key == "anchor" ? " (or `anchor_metric`)" : "")}",
                    "for example `source: events`, `anchor: \"event_type = 'sign_up'\"`, `actions:` (name and filter each), `required: 2`, `within: 7 days`");
                ok = false;
            }
        }

        if (spec.Actions is { Count: 0 })
        {
            binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("actions"), $"{context}: `actions` lists no action", "list the key actions, each with a `name` and `filter`");
            ok = false;
        }

        if (spec.Required is { } required && spec.Actions is { Count: > 0 } listed && (required < 1 || required > listed.Count))
        {
            binder.Diagnostics.Error(DiagnosticCodes.OutOfRange, definition.At("required"),
                required < 1
                    ? $"{context}: `required: {required}` must be at least 1"
                    : $"{context}: `required: {required}` is more than the {listed.Count} action(s) listed, so no entity could activate",
                $"require between 1 and {listed.Count} of the actions");
            ok = false;
        }

        var days = spec.Within is { } text ? EventSteps.Days(text, "within", definition.At("within"), context, binder) : null;
        var source = spec.Source is { } reference ? binder.Source(reference, context) : null;
        var anchor = source is null ? null : Anchor(spec, source, definition, binder);
        var actions = source is not null && spec.Actions is { Count: > 0 } specs ? EventSteps.Bind(specs, source, "action", context, binder) : null;
        if (!ok || days is null || source is null || anchor is null || actions is null || spec.Required is null)
            return null;
        return new ActivationMetric(definition, source, anchor.Value.Filter, anchor.Value.Text, actions, spec.Required.Value, days.Value);
    }

    /// <summary>The anchor's filter (null: every row) and its description, from `anchor` or `anchor_metric`; null after reporting why.</summary>
    private static (SqlExpr? Filter, string Text)? Anchor(ActivationSpec spec, BoundSource source, MetricDefinition definition, MetricBinder binder)
    {
        var context = $"metric `{definition.Name}`";
        if (spec.Anchor is { } snippet)
        {
            if (spec.AnchorMetric is not null)
            {
                binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("anchor_metric"), $"{context}: give either `anchor` or `anchor_metric`, not both",
                    "`anchor` is a filter over the source; `anchor_metric` names a simple metric whose filter is the anchor");
                return null;
            }

            return binder.Expression(snippet, source, context) is { } filter ? (filter, snippet.Text) : null;
        }

        if (spec.AnchorMetric is not { } reference)
            return null;
        switch (binder.Metric(reference, context))
        {
            case null:
                return null;
            case SimpleMetric simple when simple.Source.Name == source.Name:
                return (simple.Filter, simple.FilterText is { } text ? $"{reference.Name}: {text.Text}" : reference.Name);
            case var other:
                binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                    $"{context}: `anchor_metric: {reference.Name}` must be a simple metric over `{source.Name}`, and it is {(other is SimpleMetric s ? $"over `{s.Source.Name}`" : $"a {other.Type.Name} metric")}",
                    $"name a simple metric over `{source.Name}` (its filter is the anchor), or write the filter as `anchor:`");
                return null;
        }
    }
}

/// <summary>A bound activation metric.</summary>
public sealed record ActivationMetric(
    MetricDefinition Definition,
    BoundSource Source,
    SqlExpr? Anchor,
    string AnchorText,
    IReadOnlyList<EventStep> Actions,
    int Required,
    int WithinDays) : BoundMetric(Definition)
{
    private const string CompleteColumn = "window_complete";

    public override MetricType Type => ActivationMetricType.Instance;

    public override IReadOnlyList<BoundSource> Sources => [Source];

    public override string Summary =>
        $"share of {Source.Entity.Name} doing {Required} of {string.Join(", ", Actions.Select(a => a.Name))} within {WithinDays} day(s) of {AnchorText}, over {Source.Name}";

    public override bool HasUnitValue => true;

    /// <summary>The 0/1 column saying whether an anchored entity did an action in its window.</summary>
    public static string ActionColumn(EventStep action) => $"{action.Name}_done";

    public override ExperimentStatistics Experiment(UnitValueBuilder units)
    {
        // The anchor is the unit's first exposure: actions in [first exposure, first exposure + D days).
        var frame = new UnitTimeFrame.DaysAfterExposure(0, WithinDays - 1);
        var done = Actions.Select(action => (SqlExpr)Coalesce(
            units.Measure($"{Name}__{action.Name}", Source, Aggregation.Proportion, null, action.Filter, frame, $"1 when the unit did `{action.Name}`"),
            Num(0))).ToList();
        var value = When(Ge(Sum(done), Num(Required)), Num(1), Num(0));
        units.Column(Name, Cast(value, SqlType.Double), $"{Type.Name} metric defined at {Location}: 1 when at least {Required} of the {Actions.Count} actions");
        return new MeanStatistics(Name, null, MetricCompiler.Statistics.MetricKind.Proportion);
    }

    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        var rows = Cohort();
        var entity = Col(Source.Entity.Name);
        var complete = Eq(Col(CompleteColumn), Num(1));
        var anchored = query.Measure("anchored", rows, Aggregation.CountDistinct, entity, complete);
        var activated = query.Measure("activated", rows, Aggregation.CountDistinct, entity,
            And(complete, Ge(Sum(Actions.Select(a => (SqlExpr)Col(ActionColumn(a))).ToList()), Num(Required))));
        var undecided = query.Measure("undecided", rows, Aggregation.CountDistinct, entity, Eq(Col(CompleteColumn), Num(0)));
        return new GrainValue(new BinaryExpr(activated, BinaryOperator.Divide, anchored), false)
        {
            Columns =
            [
                new GrainColumn("anchored", anchored, $"{Source.Entity.Name} anchored in the bucket whose {WithinDays} day(s) are over by the last event"),
                new GrainColumn("activated", activated, $"of those, {Source.Entity.Name} that did at least {Required} of the actions"),
                new GrainColumn("undecided", undecided, $"{Source.Entity.Name} anchored in the bucket whose {WithinDays} day(s) are not over yet (left out)"),
            ],
        };
    }

    /// <summary>A sum written as additions, for a handful of 0/1 terms.</summary>
    private static SqlExpr Sum(IReadOnlyList<SqlExpr> terms) => terms.Skip(1).Aggregate(terms[0], (a, b) => new BinaryExpr(a, BinaryOperator.Add, b));

    /// <summary>
    /// One row per anchored entity: its first anchor event, a 0/1 column per action done in
    /// <c>[anchor, anchor + D days)</c>, and whether those days are over by the source's last event.
    /// </summary>
    private DerivedRows Cohort()
    {
        const string Event = "e";
        const string Anchored = "a";
        var entity = Source.Entity.Name;
        var time = Source.EventTime.Name;
        var staged = new NodeRef(RowSet.StagingNode(Source.Name));
        var at = Col(Event, time);
        var anchorName = $"{Name}_anchors";
        var anchors = new SelectQuery([Col(Event, entity).Item(), Min(at).As("anchored_at")], From(staged, Event),
            Anchor is null ? null : SqlExprRewriter.Qualify(Anchor, Event), [Col(Event, entity)]);
        var anchoredAt = Col(Anchored, "anchored_at");
        var inWindow = And(Ge(at, anchoredAt), Lt(at, new AddDaysExpr(anchoredAt, WithinDays)));
        var lastEvent = new ScalarSubqueryExpr(new SelectQuery([Max(Col(time)).Item()], From(staged)));
        var items = new List<SelectItem> { Col(Anchored, entity).Item(), anchoredAt.Item() };
        items.AddRange(Actions.Select(action => Max(When(And(action.Filter is null ? null : SqlExprRewriter.Qualify(action.Filter, Event), inWindow), Num(1), Num(0)))
            .As(ActionColumn(action), $"`{action.Name}`{(action.FilterText is { } f ? $": {f}" : "")}")));
        items.Add(When(new BinaryExpr(new AddDaysExpr(anchoredAt, WithinDays), BinaryOperator.LessOrEqual, lastEvent), Num(1), Num(0))
            .As(CompleteColumn, $"1 when the {WithinDays} day(s) are over by the last event of `{Source.Name}`"));
        var query = new SelectQuery(items,
            new JoinFrom(From(new CteRef(anchorName), Anchored), JoinKind.Left, From(staged, Event), Eq(Col(Event, entity), Col(Anchored, entity))),
            GroupBy: [Col(Anchored, entity), anchoredAt])
        {
            With = [new CommonTableExpression(anchorName, anchors, $"activation `{Name}`: each {entity}'s first anchor event ({AnchorText})")],
        };
        return new DerivedRows($"{Name}_cohort", entity, "anchored_at", query, [Source],
            $"activation `{Name}`: per anchored {entity}, the actions done within {WithinDays} day(s) of the anchor");
    }
}
