namespace MetricCompiler.DemoData.Simulation;

/// <summary>All users' timelines, in user order, with the data-quality faults planted.</summary>
internal sealed record SimulatedDataset(
    IReadOnlyList<UserTimeline> Timelines,
    IReadOnlyList<ExperimentDefinition> Experiments,
    IReadOnlyList<ExperimentWindow> Windows);

internal static class DemoDataSimulation
{
    /// <summary>Simulates every user (in parallel: each user has an independent stream, so the result does not depend on scheduling).</summary>
    public static SimulatedDataset Run(DemoDataOptions options)
    {
        var experiments = DemoExperiments.All;
        var windows = experiments.Select(experiment => ExperimentWindow.Clip(experiment, options.PeriodStart, options.PeriodEnd)).ToArray();
        var simulator = new UserSimulator(options, experiments, windows);
        var timelines = new UserTimeline[options.Users];
        Parallel.For(0, options.Users, index => timelines[index] = simulator.Simulate(index + 1));
        MultiVariantFaultPlanter.Plant(timelines, experiments, windows, options.Seed);
        return new SimulatedDataset(timelines, experiments, windows);
    }
}
