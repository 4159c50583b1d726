using MetricCompiler.DemoData.Randomness;

namespace MetricCompiler.DemoData.Simulation;

/// <summary>
/// Plants the "multi-variant user" fault: for about 0.3 % of each experiment's exposed users, adds one exposure row in a
/// different variant, strictly after their first exposure and inside the window (so the first exposure still decides).
/// </summary>
internal static class MultiVariantFaultPlanter
{
    public const double ShareOfExposedUsers = 0.003;

    private const long MinDelaySeconds = 60;
    private const long MaxDelaySeconds = 3 * UtcTimestamp.SecondsPerDay;

    public static void Plant(
        IReadOnlyList<ExposureLog> exposureLogs,
        IReadOnlyList<ExperimentDefinition> experiments,
        IReadOnlyList<ExperimentWindow> windows,
        ulong seed)
    {
        for (var e = 0; e < experiments.Count; e++)
        {
            var experimentIndex = e;
            var window = windows[e];
            var exposed = exposureLogs.Where(log => log.FirstExposureIn(experimentIndex) is not null).ToList();
            var candidates = exposed
                .Where(log => log.FirstExposureIn(experimentIndex)!.ExposedAt + MinDelaySeconds <= window.LastSecond)
                .ToArray();
            var target = exposed.Count == 0 ? 0 : Math.Max(1, (int)Math.Round(exposed.Count * ShareOfExposedUsers));
            var count = Math.Min(target, candidates.Length);
            var random = Xoshiro256StarStar.ForStream(seed, "multi-variant-fault:" + experiments[e].Id, 0);

            // Partial Fisher-Yates: the first `count` candidates after shuffling are the faulty users.
            for (var i = 0; i < count; i++)
            {
                var pick = i + random.NextInt(candidates.Length - i);
                (candidates[i], candidates[pick]) = (candidates[pick], candidates[i]);
                AddOtherVariantExposure(candidates[i], experiments[e], e, window, random);
            }
        }
    }

    private static void AddOtherVariantExposure(
        ExposureLog exposureLog,
        ExperimentDefinition experiment,
        int experimentIndex,
        ExperimentWindow window,
        Xoshiro256StarStar random)
    {
        var first = exposureLog.FirstExposureIn(experimentIndex)!;
        var otherIndex = random.NextInt(experiment.Variants.Count - 1);
        if (otherIndex >= first.VariantIndex)
        {
            otherIndex++;
        }

        var earliest = first.ExposedAt + MinDelaySeconds;
        var latest = Math.Min(first.ExposedAt + MaxDelaySeconds, window.LastSecond);
        var exposedAt = random.NextLong(earliest, latest);
        exposureLog.AddRow(new GeneratedExposure(exposedAt, experimentIndex, experiment.Variants[otherIndex].Name));
    }
}
