using System.Globalization;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// Which tables a run keeps in place instead of rebuilding, and what it records of the tables it builds. A node is
/// reused when its rows are a function of what it reads (<see cref="PlanNode.Reusable"/>), its definition is the one
/// its table in place was built from, and every change since then to what it reads (in this run too) is outside the
/// event-time range it reads (<see cref="PlanNode.ReadRanges"/>): an experiment that ended before an incremental
/// staging's window is not recomputed. Thread-safe: a parallel run asks from its workers.
/// </summary>
internal sealed class TableReuse
{
    private readonly RunSession _session;
    private readonly IReadOnlyDictionary<string, TableRecord> _recorded;
    private readonly Dictionary<string, string> _checksums;
    private readonly Dictionary<string, TableChange?> _changes = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, TestRecord> _tests;
    private readonly Dictionary<string, TestRecord> _passed = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public TableReuse(RunSession session)
    {
        _session = session;
        var state = session.RunState.GetValueOrDefault(session.Target.Name) ?? TargetState.Empty;
        _recorded = state.Tables;
        _tests = state.Tests;
        Run = state.Runs + 1;
        _checksums = session.Compiled.ToDictionary(c => c.Node.Name, c => c.Checksum, StringComparer.Ordinal);
    }

    /// <summary>This run's number on its target: one more than the successful runs recorded.</summary>
    public int Run { get; }

    /// <summary>The checksum of the node's definition as this run compiled it.</summary>
    public string Checksum(string node) => _checksums[node];

    /// <summary>The record of the table in place, if its definition is the one this run compiled.</summary>
    public TableRecord? Current(string node) =>
        _recorded.TryGetValue(node, out var record) && _checksums.TryGetValue(node, out var checksum) && record.Checksum == checksum ? record : null;

    /// <summary>
    /// Whether a staging this run built is worth comparing with the table in place (all of it, or an incremental one's
    /// window): its rows are distinct (a unique key), and a selected node that reads it could be reused.
    /// </summary>
    /// <param name="window">An incremental staging's window start: a reader whose range ends before it, or a metric
    /// table that recomputes its latest periods, gains nothing from the comparison (the change from the window's start
    /// leaves the one alone, and costs the other a few more days).</param>
    public bool WorthComparing(PlanNode node, DateOnly? window = null) =>
        !_session.NoReuse && node.Kind == NodeKind.Staging && node.UniqueKey is not null && Current(node.Name) is not null
        && _session.Selected.Any(n => n.Reusable && n.DependsOn.Contains(node.Name) && Current(n.Name) is not null
            && (window is not { } start || Overlaps(n, node.Name, start)));

    private static bool Overlaps(PlanNode reader, string staging, DateOnly start) =>
        reader.ReadRanges.TryGetValue(staging, out var range)
            ? range.Until > start.ToDateTime(TimeOnly.MinValue)
            : reader.MetricTable is not { RecomputesFromADay: true };

    /// <summary>
    /// Why <paramref name="node"/>'s table in place can stay, or null when it must be built. Every node it reads has
    /// finished in this run (or is not selected).
    /// </summary>
    public string? Reason(PlanNode node, Func<string, bool> tableExists)
    {
        if (_session.NoReuse || !node.Reusable || node.SourceTables.Count > 0 || Current(node.Name) is not { BuiltIn: > 0 } record || !tableExists(node.Name))
            return null;
        lock (_gate)
        {
            var ranges = new List<string>();
            foreach (var read in node.DependsOn)
            {
                var range = node.ReadRanges.GetValueOrDefault(read);
                if (ChangesSince(read, record.BuiltIn) is not { } since || !since.All(change => Outside(change, range)))
                    return null;
                if (range is not null)
                    ranges.Add(string.Create(CultureInfo.InvariantCulture, $"`{read}` from {range.From:yyyy-MM-dd} to {range.Until.AddTicks(-1):yyyy-MM-dd}"));
            }

            return string.Create(CultureInfo.InvariantCulture,
                $"reused the table run {record.BuiltIn} built: nothing it reads changed since{(ranges.Count > 0 ? $" ({string.Join(", ", ranges)})" : "")}");
        }
    }

    /// <summary>
    /// For a metric table that <see cref="MetricTableSpec.RecomputesFromADay"/> and was not reused: the first day any of
    /// its inputs changed since its table was built, when every change since then starts at a day (an incremental
    /// staging's window, nothing aged out by retention). Null when it must be built in full.
    /// </summary>
    public DateOnly? RecomputeFrom(PlanNode node, Func<string, bool> tableExists)
    {
        if (_session.NoReuse || node.MetricTable is not { RecomputesFromADay: true } || Current(node.Name) is not { BuiltIn: > 0 } record || !tableExists(node.Name))
            return null;
        lock (_gate)
        {
            DateOnly? first = null;
            foreach (var read in node.DependsOn)
            {
                if (ChangesSince(read, record.BuiltIn) is not { } since)
                    return null;
                foreach (var change in since)
                {
                    if (change.From is not { } from || change.DroppedBefore is not null)
                        return null;
                    if (from != DateOnly.MaxValue && (first is null || from < first))
                        first = from;
                }
            }

            return first;
        }
    }

    /// <summary>
    /// Every change to <paramref name="read"/> after run <paramref name="builtIn"/>, this run's included; null when its
    /// record does not reach back that far (or there is none), so that nothing can be proven. Called under the gate.
    /// </summary>
    private IEnumerable<TableChange>? ChangesSince(string read, int builtIn)
    {
        if (!_recorded.TryGetValue(read, out var input) || input.HistoryFrom > builtIn + 1)
            return null;
        var since = input.Changes.Where(c => c.Run > builtIn);
        return _changes.TryGetValue(read, out var now) && now is not null ? since.Append(now) : since;
    }

    /// <summary>Whether a change leaves the rows of <paramref name="range"/> as they were (no range: the whole table is read).</summary>
    private static bool Outside(TableChange change, EventTimeRange? range) =>
        range is not null && change.From is { } from && range.Until <= from.ToDateTime(TimeOnly.MinValue)
        && (change.DroppedBefore is not { } dropped || range.From >= dropped.ToDateTime(TimeOnly.MinValue));

    /// <summary>A table this run built: every row may have changed, or from <paramref name="from"/> on (an incremental build).</summary>
    public void Built(PlanNode node, DateOnly? from)
    {
        DateOnly? dropped = from is not null && node.RetentionDays is { } days
            ? DateOnly.FromDateTime(_session.Now).AddDays(1 - days)
            : null;
        lock (_gate)
            _changes[node.Name] = new TableChange(Run, from, dropped);
    }

    /// <summary>A table this run built with the same rows as the table in place, which stays.</summary>
    public void Unchanged(PlanNode node)
    {
        lock (_gate)
            _changes[node.Name] = null;
    }

    /// <summary>
    /// Whether a source's row-level test (<c>not_null</c>, <c>accepted_values</c>) of <c>error</c> severity may read only
    /// the raw rows from <paramref name="window"/> on (its incremental staging's window): as it is defined now, it passed
    /// on every raw row before that day in an earlier run.
    /// </summary>
    public bool EarlierRowsPassed(PlannedTest test, string checksum, DateOnly window) =>
        !_session.NoReuse && test.Severity == Core.Model.TestSeverity.Error && test.Kind is ("not_null" or "accepted_values")
        && _tests.TryGetValue(test.Name, out var passed) && passed.Checksum == checksum && (passed.ReadFrom is not { } from || from <= window);

    /// <summary>A source test of <c>error</c> severity that passed in this run, reading the raw rows from <paramref name="readFrom"/> on (null: all).</summary>
    public void Passed(PlannedTest test, string checksum, DateOnly? readFrom)
    {
        if (test.Severity != Core.Model.TestSeverity.Error || test.Kind is not ("not_null" or "accepted_values"))
            return;
        lock (_gate)
            _passed[test.Name] = new TestRecord(checksum, readFrom);
    }

    /// <summary>Whether a staging this run built had the rows of the table in place (<see cref="Unchanged"/>).</summary>
    public bool IsUnchanged(string node)
    {
        lock (_gate)
            return _changes.TryGetValue(node, out var change) && change is null;
    }

    /// <summary>
    /// The target's state after this run succeeded: the run counted, each table it built (not a view) recorded with its
    /// change, the reused ones and those it did not select as they were.
    /// </summary>
    public TargetState Next()
    {
        var tables = new Dictionary<string, TableRecord>(_recorded, StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var (node, change) in _changes)
            {
                var previous = _recorded.GetValueOrDefault(node);
                var changes = (previous?.Changes ?? []).ToList();
                if (change is not null)
                    changes.Add(change);
                // A record without a history (none yet, or one an earlier version wrote) has a complete one from this run on.
                var historyFrom = previous is { HistoryFrom: < int.MaxValue } ? previous.HistoryFrom : Run;
                if (changes.Count > TableRecord.KeptChanges)
                {
                    historyFrom = changes[^(TableRecord.KeptChanges + 1)].Run + 1;
                    changes = changes[^TableRecord.KeptChanges..];
                }

                tables[node] = new TableRecord(_checksums[node], Run, historyFrom, changes);
            }
        }

        var tests = new Dictionary<string, TestRecord>(_tests, StringComparer.Ordinal);
        lock (_gate)
            foreach (var (test, record) in _passed)
                tests[test] = record;
        return new TargetState(Run, tables) { Tests = tests };
    }
}
