using System.Diagnostics;
using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Model;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Execution.Running;

/// <summary>Runs one data test: counts its failing rows and keeps the first of them for the report.</summary>
internal static class TestRunner
{
    /// <summary>How many failing rows a result keeps (and the console prints).</summary>
    public const int PreviewRows = 5;

    /// <param name="now">The reference time source freshness is measured at (<c>--now</c>, or the current UTC time).</param>
    /// <param name="audited">
    /// The staged rows and the audit of a staging node this run built, by node (the same query over the same raw rows a
    /// row-count parity test would run again); null for the tables in place (<c>metricc test</c>).
    /// </param>
    public static NodeResult Run(IWarehouseAdapter adapter, SqlRenderer renderer, PlannedTest test, DateTime now, Func<string, StagingCounts?>? audited = null)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            if (test.Freshness is { } freshness)
                return Freshness(adapter, renderer, test, freshness, now, clock);
            if (test.Parity is { } parity)
                return Parity(adapter, renderer, test, parity, clock, audited?.Invoke(test.AttachedTo!));
            var sql = renderer.Render(test.FailingRows).TrimEnd();
            var counted = adapter.Query($"select count(*) as failures from ({Environment.NewLine}{sql}{Environment.NewLine}) as failing_rows");
            var failures = Convert.ToInt64(counted[0].Values.First(), CultureInfo.InvariantCulture);
            var preview = failures == 0 ? [] : adapter.Query($"select * from ({Environment.NewLine}{sql}{Environment.NewLine}) as failing_rows limit {PreviewRows}");
            var status = failures == 0 ? NodeResult.Pass : test.Severity == TestSeverity.Warn ? NodeResult.Warn : NodeResult.Fail;
            return Result(test, status, clock.Elapsed.TotalSeconds, failures,
                failures == 0 ? null : $"{failures:N0} failing row(s): expected {test.Description}") with { FailingRows = preview };
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            return Result(test, NodeResult.Error, clock.Elapsed.TotalSeconds, null, $"the test's query failed: {e.Message}");
        }
    }

    /// <summary>
    /// A source freshness test: the age of the latest event time at <paramref name="now"/> against <c>error_after</c>
    /// (a failure, or a warning with only <c>warn_after</c>) and <c>warn_after</c> (a warning).
    /// </summary>
    private static NodeResult Freshness(IWarehouseAdapter adapter, SqlRenderer renderer, PlannedTest test, FreshnessDefinition freshness, DateTime now, Stopwatch clock)
    {
        var value = adapter.Query(renderer.Render(test.FailingRows)).Single()[FreshnessColumns.Latest];
        var latest = TimeOf(value);
        var at = now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        string status;
        string? message;
        double? ageHours = null;
        if (latest is null)
        {
            status = freshness.ErrorAfter is null ? NodeResult.Warn : NodeResult.Fail;
            message = $"no event time at all: the source has no rows with one (reference time {at} UTC)";
        }
        else
        {
            var age = now - latest.Value;
            ageHours = Math.Round(age.TotalHours, 2);
            var stale = freshness.ErrorAfter is { } error && age > error.Span ? ("error", error)
                : freshness.WarnAfter is { } warn && age > warn.Span ? ("warn", warn)
                : default((string, FreshnessThreshold)?);
            status = stale is null ? NodeResult.Pass : stale.Value.Item1 == "error" ? NodeResult.Fail : NodeResult.Warn;
            message = $"the latest event is at {latest.Value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC, {Age(age)} before the reference time {at} UTC" +
                (stale is { } s ? $": older than `{s.Item1}_after` ({s.Item2})" : "");
        }

        var failing = status == NodeResult.Pass ? 0 : 1;
        IReadOnlyList<IReadOnlyDictionary<string, object?>> rows = failing == 0 ? [] :
        [
            new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                [FreshnessColumns.Latest] = latest,
                ["age_hours"] = ageHours,
                ["reference_time"] = now,
            },
        ];
        return Result(test, status, clock.Elapsed.TotalSeconds, failing, message) with { FailingRows = rows };
    }

    /// <summary>
    /// The rows each staging rule dropped, read over the raw table (what is left beyond the staged rows were duplicates),
    /// the values it made null in the rows it kept, and the raw rows.
    /// </summary>
    public static StagingCounts Audit(IWarehouseAdapter db, StagingAudit audit, long staged, SqlRenderer renderer)
    {
        static long Count(IReadOnlyDictionary<string, object?> row, string column) =>
            row.TryGetValue(column, out var v) && v is not null and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
        var dropped = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var column in audit.DroppedColumns)
            dropped[column] = 0;
        var nulled = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var column in audit.NulledColumns)
            nulled[column] = 0;
        var raw = 0L;
        foreach (var row in db.Query(renderer.Render(audit.Query)))
        {
            var rows = Count(row, StagingAuditColumns.AuditedRows);
            raw += rows;
            if (row.GetValueOrDefault(StagingAuditColumns.DroppedBy) is string reason and not "")
                dropped[reason] = rows;
            else
                foreach (var column in audit.NulledColumns)
                    nulled[column] = Count(row, column);
        }

        dropped[StagingAuditColumns.Duplicates] = Math.Max(0, raw - dropped.Values.Sum() - staged);
        return new StagingCounts(dropped, nulled, raw, staged);
    }

    /// <summary>
    /// Row-count parity: the staging audit over the raw rows and the staged rows (this run's build table, or the table
    /// in place for <c>metricc test</c>); the share of raw rows dropped against the thresholds, with every reason.
    /// </summary>
    private static NodeResult Parity(IWarehouseAdapter adapter, SqlRenderer renderer, PlannedTest test, RowCountParity parity, Stopwatch clock, StagingCounts? audited)
    {
        var staging = test.AttachedTo!;
        var staged = audited?.Staged ?? Convert.ToInt64(adapter.Query(renderer.Render(new Sql.Model.SelectQuery([Sql.Model.Sql.As(Sql.Model.Sql.CountStar(), "staged_rows")],
            Sql.Model.Sql.From(new Sql.Model.NodeRef(staging))))).Single()["staged_rows"], CultureInfo.InvariantCulture);
        var counts = audited ?? Audit(adapter, parity.Audit, staged, renderer);
        var raw = counts.RawRows;
        var reasons = counts.Dropped.ToList();
        var dropped = reasons.Sum(r => r.Value);
        var share = raw == 0 ? 0 : (double)dropped / raw;
        var status = parity.MaxDroppedShare is { } max && share > max ? test.Severity == TestSeverity.Warn ? NodeResult.Warn : NodeResult.Fail
            : parity.WarnDroppedShare is { } warn && share > warn ? NodeResult.Warn
            : NodeResult.Pass;
        var why = Readout.StagingQuality.Describe(counts.Dropped);
        var message = $"staging dropped {dropped.ToString("N0", CultureInfo.InvariantCulture)} of {raw.ToString("N0", CultureInfo.InvariantCulture)} raw rows " +
            $"({RowCountParity.Percent(share)}): {why}" +
            (status == NodeResult.Pass ? "" : parity.MaxDroppedShare is { } m && share > m ? $"; more than `max_dropped_share` ({RowCountParity.Percent(m)})" : $"; more than `warn_dropped_share` ({RowCountParity.Percent(parity.WarnDroppedShare!.Value)})");
        var row = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [StagingAuditColumns.RawRows] = raw,
            ["staged_rows"] = staged,
            ["dropped_rows"] = dropped,
            ["dropped_share"] = Math.Round(share, 6),
        };
        foreach (var (reason, count) in reasons)
            row[reason] = count;
        // The counts are the result even when it passes: what staging dropped, and why, is always reported.
        return Result(test, status, clock.Elapsed.TotalSeconds, status == NodeResult.Pass ? 0 : dropped, message) with { FailingRows = [row] };
    }

    private static string Age(TimeSpan age) =>
        age.TotalHours >= 48 ? $"{age.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} days"
            : age.TotalMinutes >= 120 ? $"{age.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} hours"
            : $"{age.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} minutes";

    /// <summary>A timestamp as a driver returns it (SQLite: ISO text), in UTC.</summary>
    private static DateTime? TimeOf(object? value) => value switch
    {
        null or DBNull => null,
        DateTime t => DateTime.SpecifyKind(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t, DateTimeKind.Utc),
        DateTimeOffset o => o.UtcDateTime,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        string text when DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
        _ => throw new WarehouseException($"the event time `{value}` is not a timestamp"),
    };

    public static NodeResult Skip(PlannedTest test, string why) => Result(test, NodeResult.Skipped, 0, null, why);

    private static NodeResult Result(PlannedTest test, string status, double seconds, long? failures, string? message) =>
        new(test.Name, status, seconds, failures, message) { ResourceType = "test", AttachedTo = test.AttachedTo, Severity = test.SeverityName };
}

/// <summary>What a staging audit counted: rows dropped by reason, values made null by reason, and the raw rows; and the rows staged.</summary>
internal sealed record StagingCounts(IReadOnlyDictionary<string, long> Dropped, IReadOnlyDictionary<string, long> Nulled, long RawRows, long Staged);
