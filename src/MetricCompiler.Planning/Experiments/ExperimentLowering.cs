using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Semantics;

namespace MetricCompiler.Planning.Experiments;

/// <summary>An experiment's per-unit plan and, for every analysed metric, the shape of its statistics.</summary>
public sealed record LoweredExperiment(BoundExperiment Experiment, UnitValueBuilder Units, IReadOnlyDictionary<string, ExperimentStatistics> Statistics)
{
    public ExperimentStatistics Of(BoundMetric metric) => Statistics[metric.Name];
}

/// <summary>
/// Lowers an experiment's metrics, each through its own type, into the per-unit plan: the planner writes the SQL from
/// it, and the readout and the simulation read the statistics shapes from the same lowering.
/// </summary>
public static class ExperimentLowering
{
    public static LoweredExperiment Lower(BoundExperiment experiment)
    {
        var cuped = experiment.Analysis.Cuped;
        var units = new UnitValueBuilder(cuped.Enabled ? cuped.LookbackDays : 0, experiment.Covariates, cuped.LookbackDays)
        {
            AttributeColumns = [.. experiment.AttributeCovariates.SelectMany(a => a.UnitColumns)],
        };
        var statistics = new Dictionary<string, ExperimentStatistics>(StringComparer.Ordinal);
        foreach (var metric in experiment.Metrics)
            statistics[metric.Metric.Name] = units.Statistics(metric.Metric) with { Cap = metric.Metric.Definition.Cap };
        return new LoweredExperiment(experiment, units, statistics);
    }
}
