using MetricCompiler.Core.Metrics;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>One row of an <c>exp_&lt;id&gt;__statistics</c> table (one metric, one arm); a SQL null sum is null.</summary>
public sealed record StatisticsRow(
    long N,
    double? ValueSum,
    double? ValueSumSquares,
    double? DenominatorSum = null,
    double? DenominatorSumSquares = null,
    double? CovariateSum = null,
    double? CovariateSumSquares = null,
    double? CrossSum = null,
    double? Quantile = null,
    double? QuantileLower = null,
    double? QuantileUpper = null)
{
    /// <summary>A regression-adjusted metric's covariate columns, in <see cref="StatisticsColumns.MatrixColumns"/> order (null: none).</summary>
    public IReadOnlyList<double>? Matrix { get; init; }

    /// <summary>The row as the warehouse returns it (the statistics table's column names), for <see cref="ReadoutBuilder.ToInput"/>.</summary>
    public IReadOnlyDictionary<string, object?> ToRow(string metric, string variant)
    {
        var row = Row(metric, variant);
        if (Matrix is { } matrix)
        {
            var k = (int)Math.Round((Math.Sqrt(25 + (8.0 * matrix.Count)) - 5) / 2); // k(k + 5)/2 columns
            foreach (var (column, value) in StatisticsColumns.MatrixColumns(k).Zip(matrix))
                row[column] = value;
        }

        return row;
    }

    private Dictionary<string, object?> Row(string metric, string variant) => new(13, StringComparer.OrdinalIgnoreCase)
    {
        [StatisticsColumns.Metric] = metric,
        [StatisticsColumns.Variant] = variant,
        [StatisticsColumns.N] = N,
        [StatisticsColumns.ValueSum] = ValueSum,
        [StatisticsColumns.ValueSumSquares] = ValueSumSquares,
        [StatisticsColumns.DenominatorSum] = DenominatorSum,
        [StatisticsColumns.DenominatorSumSquares] = DenominatorSumSquares,
        [StatisticsColumns.CovariateSum] = CovariateSum,
        [StatisticsColumns.CovariateSumSquares] = CovariateSumSquares,
        [StatisticsColumns.CrossSum] = CrossSum,
        [StatisticsColumns.Quantile] = Quantile,
        [StatisticsColumns.QuantileLower] = QuantileLower,
        [StatisticsColumns.QuantileUpper] = QuantileUpper,
    };
}

/// <summary>
/// How a split's statistics become engine input: the readout's own mapping (<see cref="ReadoutBuilder.ToInput"/>);
/// the requests come from <see cref="EngineRequests"/>, as the readout's do.
/// </summary>
public static class SimulationInputs
{
    /// <summary>The engine input of one metric from its statistics rows, in arm order, exactly as the readout builds it.</summary>
    public static MetricInput Input(string metric, ExperimentStatistics statistics, IReadOnlyList<(string Arm, StatisticsRow Row)> arms) =>
        ReadoutBuilder.ToInput(metric, statistics, arms.Select(a => a.Arm).ToList(), arms.Select(a => a.Row.ToRow(metric, a.Arm)));
}
