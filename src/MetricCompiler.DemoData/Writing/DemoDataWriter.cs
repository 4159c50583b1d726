using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.DemoData.Schema;
using MetricCompiler.DemoData.Simulation;

namespace MetricCompiler.DemoData.Writing;

/// <summary>
/// Drops, re-creates and fills the raw tables through the adapter's bulk load (one load, so the engine can make it
/// all-or-nothing), hashing every row as it goes. Users and their events are written chunk by chunk as the
/// simulation delivers them; exposures last, once the faults are planted.
/// </summary>
internal sealed class DemoDataWriter
{
    private const long ProgressEveryRows = 250_000;

    private readonly IWarehouseAdapter _adapter;
    private readonly IProgress<string>? _progress;

    public DemoDataWriter(IWarehouseAdapter adapter, IProgress<string>? progress)
    {
        _adapter = adapter;
        _progress = progress;
    }

    public DemoDataSummary Write(DemoDataSimulation simulation)
    {
        using var usersHasher = new CanonicalRowHasher();
        using var eventsHasher = new CanonicalRowHasher();
        using var exposuresHasher = new CanonicalRowHasher();
        long users = 0, events = 0, duplicates = 0, exposures = 0;
        List<ExposureLog> exposureLogs = [];
        _adapter.LoadTables(DemoTables.All.Select(table => table.ToSpec()).ToList(), sinks =>
        {
            (users, events, duplicates, exposureLogs) = WriteUsersAndEvents(
                simulation, new HashingRowWriter(sinks[0], usersHasher), new HashingRowWriter(sinks[1], eventsHasher));
            simulation.PlantFaults(exposureLogs);
            exposures = WriteExposures(simulation, exposureLogs, new HashingRowWriter(sinks[2], exposuresHasher));
        });

        var multiVariantUsers = exposureLogs.Sum(log => (long)log.MultiVariantExperimentCount());
        var checksum = CanonicalRowHasher.CombineTableDigests(
        [
            (DemoTables.Users, usersHasher.FinishHex()),
            (DemoTables.Events, eventsHasher.FinishHex()),
            (DemoTables.Exposures, exposuresHasher.FinishHex()),
        ]);
        return new DemoDataSummary(users, events, exposures, duplicates, multiVariantUsers, checksum);
    }

    private (long Users, long Events, long Duplicates, List<ExposureLog> ExposureLogs) WriteUsersAndEvents(
        DemoDataSimulation simulation,
        HashingRowWriter usersWriter,
        HashingRowWriter eventsWriter)
    {
        var exposureLogs = new List<ExposureLog>();
        long nextEventId = 1;
        long duplicates = 0;
        var eventId = string.Empty;
        var occurredAt = string.Empty;
        foreach (var chunk in simulation.SimulateInChunks())
        {
            foreach (var timeline in chunk)
            {
                var profile = timeline.Profile;
                usersWriter.WriteRow(profile.UserId, UtcTimestamp.ToText(profile.SignupAt), profile.Country, profile.Platform);
                foreach (var generatedEvent in timeline.Events)
                {
                    if (generatedEvent.RepeatsPrevious)
                    {
                        duplicates++;
                    }
                    else
                    {
                        eventId = "e" + nextEventId++.ToString("D9", CultureInfo.InvariantCulture);
                        occurredAt = UtcTimestamp.ToText(generatedEvent.OccurredAt);
                    }

                    eventsWriter.WriteRow(
                        eventId,
                        profile.UserId,
                        EventTypeNames.ToText(generatedEvent.Type),
                        occurredAt,
                        generatedEvent.Page,
                        generatedEvent.PageLoadMs,
                        generatedEvent.Revenue);
                    if (eventsWriter.RowsWritten % ProgressEveryRows == 0)
                    {
                        Report($"{DemoTables.Events.Name}: {eventsWriter.RowsWritten:N0} rows, {usersWriter.RowsWritten:N0} users");
                    }
                }

                exposureLogs.Add(timeline.Exposures);
            }
        }

        Report($"{DemoTables.Users.Name}: {usersWriter.RowsWritten:N0} rows");
        Report($"{DemoTables.Events.Name}: {eventsWriter.RowsWritten:N0} rows ({duplicates:N0} duplicate deliveries)");
        return (usersWriter.RowsWritten, eventsWriter.RowsWritten, duplicates, exposureLogs);
    }

    private long WriteExposures(
        DemoDataSimulation simulation,
        IReadOnlyList<ExposureLog> exposureLogs,
        HashingRowWriter writer)
    {
        long nextId = 1;
        foreach (var log in exposureLogs)
        {
            foreach (var exposure in log.Rows)
            {
                writer.WriteRow(
                    "x" + nextId++.ToString("D9", CultureInfo.InvariantCulture),
                    simulation.Experiments[exposure.ExperimentIndex].Id,
                    log.UserId,
                    exposure.Variant,
                    UtcTimestamp.ToText(exposure.ExposedAt));
            }
        }

        Report($"{DemoTables.Exposures.Name}: {writer.RowsWritten:N0} rows");
        return writer.RowsWritten;
    }

    private void Report(string message) => _progress?.Report(message);
}
