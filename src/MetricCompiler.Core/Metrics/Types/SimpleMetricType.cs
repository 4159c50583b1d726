using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a simple metric: an aggregation of a source's qualifying rows.</summary>
public sealed record SimpleSpec(NameReference? Source, Aggregation? Aggregation, SqlSnippet? Expr, SqlSnippet? Filter) : MetricSpec;

/// <summary>
/// <c>type: simple</c> (the default): <c>agg</c> of <c>expr</c> over the rows of <c>source</c> that pass <c>filter</c>.
/// Per exposed unit it is the unit's rows after first exposure; per time bucket it is the bucket's rows.
/// </summary>
public sealed class SimpleMetricType : MetricType
{
    public static SimpleMetricType Instance { get; } = new();

    internal static readonly IReadOnlyDictionary<string, Aggregation> AggregationNames =
        Enum.GetValues<Aggregation>().ToDictionary(Aggregations.YamlName, a => a, StringComparer.Ordinal);

    public override string Name => "simple";

    public override bool HasUnitValues => true;

    public override string Summary => "an aggregation (count, sum, count_distinct, average, min, max, proportion) of a source's rows";

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new SimpleSpec(reader.Reference("source"), reader.Choice("agg", AggregationNames, required: true), reader.Snippet("expr"), reader.Snippet("filter"));

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (SimpleSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        if (spec.Aggregation is not { } aggregation)
            return null;
        if (spec.Source is null)
        {
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: required key `source` is missing");
            return null;
        }

        var source = binder.Source(spec.Source, context);
        if (source is null)
            return null;
        var ok = true;
        if (spec.Expr is null && aggregation is Aggregation.Sum or Aggregation.Average or Aggregation.CountDistinct or Aggregation.Min or Aggregation.Max)
        {
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location,
                $"{context}: `agg: {Aggregations.YamlName(aggregation)}` needs an `expr` naming what to aggregate", "for example `expr: revenue`");
            ok = false;
        }

        if (spec.Expr is not null && aggregation == Aggregation.Proportion)
        {
            binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("expr"),
                $"{context}: `agg: proportion` takes no `expr`; it is 1 when the unit has a qualifying event", "describe the qualifying events with `filter`");
            ok = false;
        }

        var expr = binder.Expression(spec.Expr, source, context);
        var filter = binder.Expression(spec.Filter, source, context);
        if (spec.Expr is not null && expr is null || spec.Filter is not null && filter is null || !ok)
            return null;
        return new SimpleMetric(definition, source, aggregation, expr, filter, spec.Expr, spec.Filter);
    }
}

/// <summary>A bound simple metric.</summary>
public sealed record SimpleMetric(
    MetricDefinition Definition,
    BoundSource Source,
    Aggregation Aggregation,
    SqlExpr? Expr,
    SqlExpr? Filter,
    SqlSnippet? ExprText,
    SqlSnippet? FilterText) : BoundMetric(Definition)
{
    public override MetricType Type => SimpleMetricType.Instance;

    public override IReadOnlyList<BoundSource> Sources => [Source];

    public bool ZeroWhenEmpty => Aggregations.ZeroWhenEmpty(Aggregation);

    public override string Summary =>
        $"{Aggregations.YamlName(Aggregation)}{(ExprText is { } e ? $" of {e.Text}" : "")} over {Source.Name}{(FilterText is { } f ? $" where {f.Text}" : "")}";

    public override bool HasUnitValue => true;

    public override ExperimentStatistics Experiment(UnitValueBuilder units) =>
        units.MeanOf(this, frame => PerUnit(units, frame), ZeroWhenEmpty, binary: Aggregation == Aggregation.Proportion);

    /// <summary>The unit's value over a time frame, as a measure of its source's single pass (null when it has no rows).</summary>
    public SqlExpr PerUnit(UnitValueBuilder units, UnitTimeFrame frame) =>
        units.Measure(frame is UnitTimeFrame.BeforeExposure ? UnitValueBuilder.Covariate(Name) : Name, Source, Aggregation, Expr, Filter, frame, Summary);

    /// <summary><see cref="PerUnit"/> with 0 for a unit without rows where the aggregation says so.</summary>
    public SqlExpr UnitValue(UnitValueBuilder units, UnitTimeFrame frame) =>
        ZeroWhenEmpty ? Coalesce(PerUnit(units, frame), Num(0)) : PerUnit(units, frame);

    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        if (Aggregation != Aggregation.Proportion)
            return new GrainValue(query.Measure(Name, Source, Aggregation, Expr, Filter), ZeroWhenEmpty);
        // Per bucket, a proportion is the share of the source's entities in the bucket that have a qualifying row.
        var qualifying = query.Measure(Name, Source, Aggregation.CountDistinct, Col(Source.Entity.Name), Filter);
        return new GrainValue(new BinaryExpr(qualifying, BinaryOperator.Divide, query.Entities(Source)), false);
    }
}
