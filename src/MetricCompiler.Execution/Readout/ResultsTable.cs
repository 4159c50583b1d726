using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Execution.Readout;

/// <summary>The <c>experiment_results</c> table: one row per experiment, metric and treatment variant.</summary>
public static class ResultsTable
{
    public static readonly IReadOnlyList<ColumnSpec> Columns =
    [
        new("experiment_id", SqlType.String),
        new("segment_dimension", SqlType.String),
        new("segment", SqlType.String),
        new("variant", SqlType.String),
        new("metric", SqlType.String),
        new("metric_role", SqlType.String),
        new("desired_direction", SqlType.String),
        new("control_n", SqlType.Integer),
        new("variant_n", SqlType.Integer),
        new("control_mean", SqlType.Double),
        new("variant_mean", SqlType.Double),
        new("absolute_lift", SqlType.Double),
        new("relative_lift", SqlType.Double),
        new("std_error", SqlType.Double),
        new("ci_low", SqlType.Double),
        new("ci_high", SqlType.Double),
        new("relative_ci_low", SqlType.Double),
        new("relative_ci_high", SqlType.Double),
        new("p_value", SqlType.Double),
        new("adjusted_p_value", SqlType.Double),
        new("significant", SqlType.Integer),
        new("cuped", SqlType.Integer),
        new("guardrail_status", SqlType.String),
        new("srm_p_value", SqlType.Double),
        new("decision", SqlType.String),
        new("analysed_at", SqlType.String),
    ];

    public static IEnumerable<object?[]> Rows(ExperimentReadout readout, DateTime analysedAt)
    {
        var stamp = analysedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var decision = DecisionPolicy.Name(readout.Decision);
        foreach (var m in readout.Metrics)
            yield return Row(readout, null, null, m.Metric, m.Role, m.DesiredDirection, m.Comparison, m.Cuped, m.Guardrail?.Status, decision, stamp);
        var metrics = readout.Metrics.GroupBy(m => m.Metric).ToDictionary(g => g.Key, g => g.First());
        foreach (var s in readout.Segments)
        {
            var m = metrics[s.Metric];
            yield return Row(readout, s.Dimension, s.Segment, s.Metric, m.Role, m.DesiredDirection, s.Comparison, m.Cuped, null, null, stamp);
        }
    }

    private static object?[] Row(ExperimentReadout readout, string? dimension, string? segment, string metric, Core.Model.MetricRole role,
        Core.Model.Direction direction, Statistics.Comparison c, bool cuped, string? guardrail, string? decision, string stamp) =>
    [
        readout.ExperimentId, dimension, segment, c.Variant, metric, role.ToString().ToLowerInvariant(), direction.ToString().ToLowerInvariant(),
        c.ControlN, c.VariantN, Finite(c.ControlMean), Finite(c.VariantMean), Finite(c.AbsoluteLift), Finite(c.RelativeLift), Finite(c.StdError),
        Finite(c.CiLow), Finite(c.CiHigh), Finite(c.RelativeCiLow), Finite(c.RelativeCiHigh), Finite(c.PValue), Finite(c.AdjustedPValue),
        c.Significant ? 1 : 0, cuped ? 1 : 0, guardrail, Finite(readout.Srm.Result?.PValue), decision, stamp,
    ];

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>Rows already in the table for experiments this run did not analyse; they are carried over unchanged.</summary>
    public static IEnumerable<object?[]> Existing(IWarehouseAdapter adapter, string table, IReadOnlySet<string> analysed)
    {
        if (!adapter.TableExists(table))
            yield break;
        // Read by name so rows written by an older version (fewer columns) carry over with nulls.
        foreach (var row in adapter.Query($"select * from {adapter.Dialect.QuoteRelation(table)}"))
        {
            if (row.TryGetValue("experiment_id", out var id) && id is string experiment && !analysed.Contains(experiment))
                yield return Columns.Select(c => row.TryGetValue(c.Name, out var value) ? value : null).ToArray();
        }
    }
}
