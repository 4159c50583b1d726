using System.Globalization;
using System.Data.Common;
using MetricCompiler.DemoData.Schema;
using MetricCompiler.DemoData.Simulation;

namespace MetricCompiler.DemoData.Writing;

/// <summary>Drops, re-creates and fills the raw tables inside one transaction, hashing every row as it goes.</summary>
internal sealed class DemoDataWriter
{
    private const long ProgressEveryRows = 250_000;

    private readonly DbConnection _connection;
    private readonly IProgress<string>? _progress;

    public DemoDataWriter(DbConnection connection, IProgress<string>? progress)
    {
        _connection = connection;
        _progress = progress;
    }

    public DemoDataSummary Write(SimulatedDataset dataset)
    {
        using var transaction = _connection.BeginTransaction();
        RecreateTables(transaction);
        using var hasher = new CanonicalRowHasher();
        var users = WriteUsers(dataset, transaction, hasher);
        var (events, duplicates) = WriteEvents(dataset, transaction, hasher);
        var exposures = WriteExposures(dataset, transaction, hasher);
        transaction.Commit();
        var multiVariantUsers = dataset.Timelines.Sum(timeline => (long)timeline.MultiVariantExperimentCount());
        return new DemoDataSummary(users, events, exposures, duplicates, multiVariantUsers, hasher.FinishHex());
    }

    private void RecreateTables(DbTransaction transaction)
    {
        foreach (var table in DemoTables.All)
        {
            Execute(transaction, table.DropSql);
            Execute(transaction, table.CreateSql);
        }
    }

    private void Execute(DbTransaction transaction, string sql)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long WriteUsers(SimulatedDataset dataset, DbTransaction transaction, CanonicalRowHasher hasher)
    {
        using var writer = new BatchedRowWriter(_connection, transaction, DemoTables.Users, hasher);
        foreach (var profile in dataset.Timelines.Select(timeline => timeline.Profile))
        {
            writer.WriteRow(profile.UserId, UtcTimestamp.ToText(profile.SignupAt), profile.Country, profile.Platform);
        }

        writer.Complete();
        Report($"{DemoTables.Users.Name}: {writer.RowsWritten:N0} rows");
        return writer.RowsWritten;
    }

    private (long Rows, long Duplicates) WriteEvents(SimulatedDataset dataset, DbTransaction transaction, CanonicalRowHasher hasher)
    {
        var totalRows = dataset.Timelines.Sum(timeline => (long)timeline.Events.Count);
        using var writer = new BatchedRowWriter(_connection, transaction, DemoTables.Events, hasher);
        long nextId = 1;
        long duplicates = 0;
        var eventId = string.Empty;
        var occurredAtText = string.Empty;
        foreach (var timeline in dataset.Timelines)
        {
            var userId = timeline.Profile.UserId;
            foreach (var generatedEvent in timeline.Events)
            {
                if (generatedEvent.RepeatsPrevious)
                {
                    duplicates++;
                }
                else
                {
                    eventId = "e" + nextId++.ToString("D9", CultureInfo.InvariantCulture);
                    occurredAtText = UtcTimestamp.ToText(generatedEvent.OccurredAt);
                }

                writer.WriteRow(
                    eventId,
                    userId,
                    EventTypeNames.ToText(generatedEvent.Type),
                    occurredAtText,
                    generatedEvent.Page,
                    generatedEvent.PageLoadMs,
                    generatedEvent.Revenue);
                if (writer.RowsWritten % ProgressEveryRows == 0)
                {
                    Report($"{DemoTables.Events.Name}: {writer.RowsWritten:N0} / {totalRows:N0} rows");
                }
            }
        }

        writer.Complete();
        Report($"{DemoTables.Events.Name}: {writer.RowsWritten:N0} rows ({duplicates:N0} duplicate deliveries)");
        return (writer.RowsWritten, duplicates);
    }

    private long WriteExposures(SimulatedDataset dataset, DbTransaction transaction, CanonicalRowHasher hasher)
    {
        using var writer = new BatchedRowWriter(_connection, transaction, DemoTables.Exposures, hasher);
        long nextId = 1;
        foreach (var timeline in dataset.Timelines)
        {
            foreach (var exposure in timeline.Exposures)
            {
                writer.WriteRow(
                    "x" + nextId++.ToString("D9", CultureInfo.InvariantCulture),
                    dataset.Experiments[exposure.ExperimentIndex].Id,
                    timeline.Profile.UserId,
                    exposure.Variant,
                    UtcTimestamp.ToText(exposure.ExposedAt));
            }
        }

        writer.Complete();
        Report($"{DemoTables.Exposures.Name}: {writer.RowsWritten:N0} rows");
        return writer.RowsWritten;
    }

    private void Report(string message) => _progress?.Report(message);
}
