using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a simple metric: an aggregation of a source's qualifying rows.</summary>
public sealed record SimpleSpec(NameReference? Source, Aggregation? Aggregation, SqlSnippet? Expr, SqlSnippet? Filter, double? Percentile = null) : MetricSpec;

/// <summary>
/// <c>type: simple</c> (the default): <c>agg</c> of <c>expr</c> over the rows of <c>source</c> that pass <c>filter</c>.
/// Per exposed unit it is the unit's rows after first exposure; per time bucket it is the bucket's rows.
/// <c>agg: percentile</c> with <c>percentile: 0.95</c> is the p95 of <c>expr</c> per bucket; it has no value per unit,
/// and a target engine without a percentile aggregate (SQLite) refuses it (MC2009).
/// </summary>
public sealed class SimpleMetricType : MetricType
{
    public static SimpleMetricType Instance { get; } = new();

    internal static readonly IReadOnlyDictionary<string, Aggregation> AggregationNames =
        Enum.GetValues<Aggregation>().ToDictionary(Aggregations.YamlName, a => a, StringComparer.Ordinal);

    public override string Name => "simple";

    public override bool HasUnitValues => true;

    public override string Summary => "an aggregation (count, sum, count_distinct, average, min, max, proportion, percentile) of a source's rows";

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new SimpleSpec(reader.Reference("source"), reader.Choice("agg", AggregationNames, required: true), reader.Snippet("expr"), reader.Snippet("filter"),
            reader.Number("percentile"));

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
        if (spec.Expr is null && aggregation is Aggregation.Sum or Aggregation.Average or Aggregation.CountDistinct or Aggregation.Min or Aggregation.Max or Aggregation.Percentile)
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

        if (aggregation == Aggregation.Percentile && spec.Percentile is null)
        {
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.At("agg"),
                $"{context}: `agg: percentile` needs `percentile`, the fraction to compute", "for example `percentile: 0.95` for the p95 or `percentile: 0.5` for the median");
            ok = false;
        }
        else if (spec.Percentile is { } fraction && aggregation == Aggregation.Percentile && fraction is < 0 or > 1)
        {
            binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("percentile"),
                $"{context}: `percentile: {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}` is not a fraction between 0 and 1", "write the p95 as `percentile: 0.95`");
            ok = false;
        }
        else if (spec.Percentile is not null && aggregation != Aggregation.Percentile)
        {
            binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("percentile"),
                $"{context}: `percentile` belongs to `agg: percentile`, not `agg: {Aggregations.YamlName(aggregation)}`", "remove `percentile`, or write `agg: percentile`");
            ok = false;
        }

        var expr = binder.Expression(spec.Expr, source, context);
        var filter = binder.Expression(spec.Filter, source, context);
        if (spec.Expr is not null && expr is null || spec.Filter is not null && filter is null || !ok)
            return null;
        return new SimpleMetric(definition, source, aggregation, expr, filter, spec.Expr, spec.Filter) { Fraction = spec.Percentile };
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

    /// <summary>The fraction of <c>agg: percentile</c> (0.95 for the p95); null for the other aggregations.</summary>
    public double? Fraction { get; init; }

    public override IReadOnlyList<BoundSource> Sources => [Source];

    public bool ZeroWhenEmpty => Aggregations.ZeroWhenEmpty(Aggregation);

    public override string Summary =>
        $"{Aggregations.YamlName(Aggregation)}{(Fraction is { } p ? $" {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")}{(ExprText is { } e ? $" of {e.Text}" : "")} over {Source.Name}{(FilterText is { } f ? $" where {f.Text}" : "")}";

    /// <summary>Every aggregation but a percentile has a value per unit (a percentile of one unit's rows compares nothing useful).</summary>
    public override bool HasUnitValue => Aggregation != Aggregation.Percentile;

    /// <summary>A percentile is compared in experiments as the quantile of a per-unit value (below), though it has no mean per unit.</summary>
    public override bool InExperiments => true;

    /// <summary>
    /// A percentile in an experiment: the <see cref="Fraction"/>-quantile, over the variant's units, of each unit's
    /// average of <c>expr</c> over its qualifying rows after first exposure (units without such rows left out), so the
    /// units stay the independent observations the quantile test assumes. No CUPED, no cap.
    /// </summary>
    public override ExperimentStatistics? Experiment(UnitValueBuilder units)
    {
        if (HasUnitValue)
            return units.MeanOf(this, frame => PerUnit(units, frame), ZeroWhenEmpty, binary: Aggregation == Aggregation.Proportion);
        var average = units.Measure(Name, Source, Aggregation.Average, Expr, Filter, UnitTimeFrame.After, $"average of {ExprText?.Text} per unit, for the {Summary}");
        units.Column(Name, Cast(average, SqlType.Double), $"percentile metric defined at {Location}: the unit's average; its quantile is compared");
        return new QuantileStatistics(Name, Fraction ?? throw new InvalidOperationException("binding checks `percentile`"));
    }

    /// <summary>The unit's value over a time frame, as a measure of its source's single pass (null when it has no rows).</summary>
    public SqlExpr PerUnit(UnitValueBuilder units, UnitTimeFrame frame) =>
        units.Measure(frame is UnitTimeFrame.BeforeExposure ? UnitValueBuilder.Covariate(Name) : Name, Source, Aggregation, Expr, Filter, frame, Summary);

    /// <summary><see cref="PerUnit"/> with 0 for a unit without rows where the aggregation says so.</summary>
    public SqlExpr UnitValue(UnitValueBuilder units, UnitTimeFrame frame) =>
        ZeroWhenEmpty ? Coalesce(PerUnit(units, frame), Num(0)) : PerUnit(units, frame);

    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        if (Aggregation != Aggregation.Proportion)
            return new GrainValue(query.Measure(Name, Source, Aggregation, Expr, Filter, Fraction), ZeroWhenEmpty);
        // Per bucket, a proportion is the share of the source's entities in the bucket that have a qualifying row.
        var qualifying = query.Measure(Name, Source, Aggregation.CountDistinct, Col(Source.Entity.Name), Filter);
        return new GrainValue(new BinaryExpr(qualifying, BinaryOperator.Divide, query.Entities(Source)), false);
    }
}
