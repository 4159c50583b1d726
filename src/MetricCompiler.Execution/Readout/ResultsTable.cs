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
        foreach (var m in readout.Metrics)
        {
            var c = m.Comparison;
            yield return
            [
                readout.ExperimentId, c.Variant, m.Metric, m.Role.ToString().ToLowerInvariant(), m.DesiredDirection.ToString().ToLowerInvariant(),
                c.ControlN, c.VariantN, c.ControlMean, c.VariantMean, c.AbsoluteLift, c.RelativeLift, c.StdError,
                c.CiLow, c.CiHigh, c.RelativeCiLow, c.RelativeCiHigh, c.PValue, c.AdjustedPValue,
                c.Significant ? 1 : 0, m.Cuped ? 1 : 0, m.Guardrail?.Status, readout.Srm.Result?.PValue,
                DecisionPolicy.Name(readout.Decision), stamp,
            ];
        }
    }

    /// <summary>Rows already in the table for experiments this run did not analyse; they are carried over unchanged.</summary>
    public static IEnumerable<object?[]> Existing(IWarehouseAdapter adapter, string table, IReadOnlySet<string> analysed)
    {
        if (!adapter.TableExists(table))
            yield break;
        var columns = string.Join(", ", Columns.Select(c => adapter.Dialect.QuoteIdentifier(c.Name)));
        foreach (var row in adapter.Query($"select {columns} from {adapter.Dialect.QuoteRelation(table)}"))
        {
            if (row["experiment_id"] is string id && !analysed.Contains(id))
                yield return Columns.Select(c => row[c.Name]).ToArray();
        }
    }
}
