using System.Data.Common;
using MetricCompiler.Adapters;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// Reads an experiment's <c>exp_&lt;id&gt;__unit_metrics</c> table (built by the same SQL the real analysis uses) once,
/// into per-column arrays. Rows come in unit_id order so a seed always splits the same units the same way.
/// </summary>
public static class UnitMetricsReader
{
    /// <summary>The columns a simulation needs: every base metric of the experiment and its CUPED covariate.</summary>
    public static IReadOnlyList<string> RequiredColumns(LoweredExperiment lowered) =>
        lowered.Statistics.Values.SelectMany(s => s.UnitColumns).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The advice given whenever the table is missing or out of date.</summary>
    public static string BuildAdvice(string experimentId) => $"run `metricc run --select +{NodeNames.UnitMetrics(experimentId)}` first";

    public static UnitMetricsData Read(IWarehouseAdapter adapter, LoweredExperiment lowered)
    {
        var experiment = lowered.Experiment;
        ArgumentNullException.ThrowIfNull(adapter);
        var table = NodeNames.UnitMetrics(experiment.Id);
        if (!adapter.TableExists(table))
            throw new SimulationDataException($"table `{table}` does not exist in {adapter.Description}; {BuildAdvice(experiment.Id)}");

        var dialect = adapter.Dialect;
        var names = RequiredColumns(lowered);
        var select = names.Count == 0 ? "unit_id" : string.Join(", ", names.Select(dialect.QuoteIdentifier));
        var sql = $"select {select} from {dialect.QuoteRelation(table)} order by {dialect.QuoteIdentifier("unit_id")}";
        var values = names.Select(_ => new List<double>()).ToArray();
        var units = 0;
        try
        {
            adapter.Read(sql, (_, row) =>
            {
                for (var i = 0; i < names.Count; i++)
                    values[i].Add(row[i] is null ? double.NaN : Convert.ToDouble(row[i], System.Globalization.CultureInfo.InvariantCulture));
                units++;
            });
        }
        catch (Exception e) when (e is DbException or WarehouseException)
        {
            throw new SimulationDataException(
                $"cannot read `{table}` ({e.Message.Trim()}); it may predate the current YAML: {BuildAdvice(experiment.Id)}", e);
        }

        if (units == 0)
            throw new SimulationDataException($"table `{table}` has no analysed units; check the experiment window and exposures, then {BuildAdvice(experiment.Id)}");

        var columns = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
            columns[names[i]] = values[i].ToArray();
        return new UnitMetricsData(units, columns);
    }
}
