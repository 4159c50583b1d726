using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a ratio metric.</summary>
public sealed record RatioSpec(NameReference? Numerator, NameReference? Denominator) : MetricSpec;

/// <summary>
/// <c>type: ratio</c> (or the older <c>agg: ratio</c>): the sum of one metric over the sum of another across all units or
/// rows of a bucket, such as revenue per order. In an experiment its variance comes from the delta method.
/// </summary>
public sealed class RatioMetricType : MetricType
{
    public static RatioMetricType Instance { get; } = new();

    public override string Name => "ratio";

    public override bool HasUnitValues => true;

    public override string Summary => "the sum of a numerator metric over the sum of a denominator metric";

    internal override MetricSpec Read(YamlMappingReader reader)
    {
        // `agg: ratio` is the older spelling of `type: ratio`.
        if (reader.Has("agg"))
            reader.String("agg");
        return new RatioSpec(reader.Reference("numerator"), reader.Reference("denominator"));
    }

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (RatioSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        if (spec.Numerator is null)
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: a ratio needs a `numerator` metric");
        if (spec.Denominator is null)
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: a ratio needs a `denominator` metric");
        if (spec.Numerator is null || spec.Denominator is null)
            return null;
        var numerator = Part(spec.Numerator, "numerator");
        var denominator = Part(spec.Denominator, "denominator");
        return numerator is null || denominator is null ? null : new RatioMetric(definition, numerator, denominator);

        SimpleMetric? Part(NameReference reference, string role)
        {
            var metric = binder.Metric(reference, context);
            switch (metric)
            {
                case null:
                    return null;
                case SimpleMetric { ZeroWhenEmpty: true } simple:
                    return simple;
                case SimpleMetric simple:
                    binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                        $"metric `{definition.Name}`: the {role} `{reference.Name}` is an {Aggregations.YamlName(simple.Aggregation)}, which has no value for units without events",
                        "use the sum and the count it averages as numerator and denominator instead");
                    return null;
                default:
                    binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                        $"metric `{definition.Name}`: the {role} `{reference.Name}` is itself a {metric.Type.Name} metric",
                        "numerator and denominator must be count, sum, count_distinct or proportion metrics");
                    return null;
            }
        }
    }
}

/// <summary>A bound ratio metric.</summary>
public sealed record RatioMetric(MetricDefinition Definition, SimpleMetric Numerator, SimpleMetric Denominator) : BoundMetric(Definition)
{
    public override MetricType Type => RatioMetricType.Instance;

    public override IReadOnlyList<BoundMetric> Inputs => [Numerator, Denominator];

    public override IReadOnlyList<BoundSource> Sources => Numerator.Sources.Concat(Denominator.Sources).Distinct<BoundSource>(ReferenceEqualityComparer.Instance).ToList(); // one instance per source

    public override string Summary => $"ratio of {Numerator.Name} to {Denominator.Name}";

    public override bool HasUnitValue => true;

    public override ExperimentStatistics Experiment(UnitValueBuilder units)
    {
        var numerator = units.Statistics(Numerator).UnitColumns[0];
        var denominator = units.Statistics(Denominator).UnitColumns[0];
        return new RatioStatistics(numerator, denominator);
    }

    public override GrainValue AtGrain(GrainQueryBuilder query) =>
        new(new BinaryExpr(query.Value(Numerator).Expression, BinaryOperator.Divide, query.Value(Denominator).Expression), false);
}
