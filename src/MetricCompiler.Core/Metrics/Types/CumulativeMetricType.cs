using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a cumulative metric.</summary>
public sealed record CumulativeSpec(NameReference? Metric, string? Window, TimeGrain? GrainToDate) : MetricSpec;

/// <summary>
/// <c>type: cumulative</c>: a simple metric over a window of days ending on each day, read over a date spine so that a
/// day without rows is a row: <c>window: 7 days</c> (WAU from active users), <c>grain_to_date: month</c>
/// (month-to-date), or neither (all time). At a coarser grain the value is the one on the bucket's last day.
/// A cumulative metric has no value per exposed unit.
/// </summary>
public sealed partial class CumulativeMetricType : MetricType
{
    public static CumulativeMetricType Instance { get; } = new();

    internal static readonly IReadOnlyDictionary<string, TimeGrain> Grains =
        Enum.GetValues<TimeGrain>().ToDictionary(g => g.ToString().ToLowerInvariant(), g => g, StringComparer.Ordinal);

    public override string Name => "cumulative";

    public override bool HasUnitValues => false;

    public override string Summary => "a simple metric over a trailing window of days or a period to date, per day of a date spine";

    [GeneratedRegex(@"^\s*(\d+)\s*(day|days)\s*$")]
    private static partial Regex WindowPattern();

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new CumulativeSpec(reader.Reference("metric", required: true), reader.String("window"), reader.Choice("grain_to_date", Grains));

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (CumulativeSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        CumulativeWindow window = new CumulativeWindow.AllTime();
        if (spec.Window is not null && spec.GrainToDate is not null)
        {
            binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("grain_to_date"), $"{context}: give either `window` or `grain_to_date`, not both");
            return null;
        }

        if (spec.Window is { } text)
        {
            var match = WindowPattern().Match(text);
            if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) || days is < 1 or > 3660)
            {
                binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("window"), $"{context}: `window: {text}` is not a window",
                    "write a number of days between 1 and 3660, for example `window: 7 days` (WAU) or `window: 28 days` (MAU)");
                return null;
            }

            window = new CumulativeWindow.Trailing(days);
        }
        else if (spec.GrainToDate is { } grain)
        {
            window = new CumulativeWindow.ToDate(grain);
        }

        if (spec.Metric is null)
            return null;
        var metric = binder.Metric(spec.Metric, context);
        switch (metric)
        {
            case null:
                return null;
            case SimpleMetric { Aggregation: not (Aggregation.Proportion or Aggregation.Percentile) } simple:
                return new CumulativeMetric(definition, simple, window);
            default:
                binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, spec.Metric.Location,
                    $"{context}: a cumulative metric accumulates a simple metric, and `{spec.Metric.Name}` is a {(metric is SimpleMetric s ? Aggregations.YamlName(s.Aggregation) : metric.Type.Name + " metric")}",
                    "accumulate a count, sum, count_distinct, average, min or max metric; for active users use `agg: count_distinct` of the entity");
                return null;
        }
    }
}

/// <summary>A bound cumulative metric.</summary>
public sealed record CumulativeMetric(MetricDefinition Definition, SimpleMetric Metric, CumulativeWindow Window) : BoundMetric(Definition)
{
    public override MetricType Type => CumulativeMetricType.Instance;

    public override IReadOnlyList<BoundMetric> Inputs => [Metric];

    public override IReadOnlyList<BoundSource> Sources => Metric.Sources;

    public override string Summary => Window switch
    {
        CumulativeWindow.Trailing t => $"{Metric.Name} over the trailing {t.Days} days",
        CumulativeWindow.ToDate d => $"{Metric.Name} {d.Grain.ToString().ToLowerInvariant()} to date",
        _ => $"{Metric.Name} over all time",
    };

    public override bool HasUnitValue => false;

    public override GrainValue AtGrain(GrainQueryBuilder query) =>
        new(query.Cumulative(Name, Metric.Source, Metric.Aggregation, Metric.Expr, Metric.Filter, Window), Metric.ZeroWhenEmpty);
}
