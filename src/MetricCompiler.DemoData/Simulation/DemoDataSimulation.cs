namespace MetricCompiler.DemoData.Simulation;

/// <summary>
/// Simulates all users in user order, chunk by chunk, a few chunks ahead of the consumer on the thread pool, so
/// simulation overlaps with writing and only a few chunks of events are held in memory. Each user has an independent
/// random stream, so the result does not depend on scheduling.
/// </summary>
internal sealed class DemoDataSimulation
{
    public const int UsersPerChunk = 1_000;

    private const int ChunksInFlight = 4;

    private readonly DemoDataOptions _options;
    private readonly UserSimulator _simulator;

    public DemoDataSimulation(DemoDataOptions options)
    {
        _options = options;
        Experiments = DemoExperiments.All;
        Windows = Experiments.Select(experiment => ExperimentWindow.Clip(experiment, options.PeriodStart, options.PeriodEnd)).ToArray();
        _simulator = new UserSimulator(options, Experiments, Windows);
    }

    public IReadOnlyList<ExperimentDefinition> Experiments { get; }

    public IReadOnlyList<ExperimentWindow> Windows { get; }

    /// <summary>Timelines of users 1..N in order, in chunks of <see cref="UsersPerChunk"/>.</summary>
    public IEnumerable<IReadOnlyList<UserTimeline>> SimulateInChunks()
    {
        var chunkCount = (_options.Users + UsersPerChunk - 1) / UsersPerChunk;
        var inFlight = new Queue<Task<UserTimeline[]>>();
        var nextChunk = 0;
        for (var delivered = 0; delivered < chunkCount; delivered++)
        {
            while (inFlight.Count < ChunksInFlight && nextChunk < chunkCount)
            {
                var chunk = nextChunk++;
                inFlight.Enqueue(Task.Run(() => SimulateChunk(chunk)));
            }

            yield return inFlight.Dequeue().GetAwaiter().GetResult();
        }
    }

    /// <summary>Plants the multi-variant fault once every user's exposures are known.</summary>
    public void PlantFaults(IReadOnlyList<ExposureLog> exposureLogs) =>
        MultiVariantFaultPlanter.Plant(exposureLogs, Experiments, Windows, _options.Seed);

    private UserTimeline[] SimulateChunk(int chunk)
    {
        var firstUser = (chunk * UsersPerChunk) + 1;
        var count = Math.Min(UsersPerChunk, _options.Users - firstUser + 1);
        var timelines = new UserTimeline[count];
        for (var i = 0; i < count; i++)
        {
            timelines[i] = _simulator.Simulate(firstUser + i);
        }

        return timelines;
    }
}
