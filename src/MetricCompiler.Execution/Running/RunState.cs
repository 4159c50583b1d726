using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricCompiler.Execution.Artifacts;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// How an incremental model was built in a run: <see cref="Incremental"/> (the days before <see cref="RecomputedFrom"/>
/// kept, the rest recomputed) or <see cref="Full"/>, and why.
/// </summary>
public sealed record IncrementalBuild(string Mode, string Reason, DateOnly? RecomputedFrom = null)
{
    public const string Incremental = "incremental";
    public const string Full = "full";
}

/// <summary>
/// One run's change to a table: from <see cref="From"/> on (every row when null), and, for a staging with
/// <c>retention_days</c>, the rows before <see cref="DroppedBefore"/> that may have been removed.
/// </summary>
public sealed record TableChange(int Run, DateOnly? From, DateOnly? DroppedBefore = null);

/// <summary>
/// What the table in place of a node was built from: the checksum of its definition (manifest.json), the run that last
/// wrote it (<see cref="BuiltIn"/>), and the runs that changed it since run <see cref="HistoryFrom"/> (a run that
/// rebuilt it with the same rows, or left it alone, is not a change).
/// </summary>
public sealed record TableRecord(string Checksum, int BuiltIn, int HistoryFrom, IReadOnlyList<TableChange> Changes)
{
    /// <summary>How many changes a record keeps; a node built before the oldest of them is rebuilt rather than reused.</summary>
    public const int KeptChanges = 100;
}

/// <summary>
/// A source's row-level data test of <c>error</c> severity that passed: the checksum of its definition (kind, severity,
/// query) and the day from which it last read the raw rows (null: every row), every earlier row having passed before.
/// </summary>
public sealed record TestRecord(string Checksum, DateOnly? ReadFrom);

/// <summary>A target's state: how many runs succeeded on it, each table's record, and the source tests that passed.</summary>
public sealed record TargetState(int Runs, IReadOnlyDictionary<string, TableRecord> Tables)
{
    public static readonly TargetState Empty = new(0, new Dictionary<string, TableRecord>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, TestRecord> Tests { get; init; } = new Dictionary<string, TestRecord>(StringComparer.Ordinal);
}

/// <summary>
/// <c>target/run_state.json</c>: per target, what each table in place was built from and how the runs changed it since.
/// It is written with the run's other artifacts, after the swap, so it describes the tables in place: a run that failed,
/// or a <c>metricc compile</c> of a changed model, leaves it as it was. An incremental model whose definition is not the
/// one recorded is rebuilt in full; a node is reused only when its record proves that nothing it reads changed since it
/// was built (docs/spec.md, "Reused tables").
/// </summary>
public static class RunState
{
    public const string FileName = "run_state.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Target name → its state; empty when the file is missing or unreadable (every table is then rebuilt, incremental ones in full).</summary>
    public static Dictionary<string, TargetState> Read(string targetDirectory)
    {
        var result = new Dictionary<string, TargetState>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(Path.Combine(targetDirectory, FileName)))?["targets"] is not JsonObject targets)
                return result;
            foreach (var (target, entry) in targets)
            {
                if (entry is not JsonObject state)
                    continue;
                var tables = new Dictionary<string, TableRecord>(StringComparer.Ordinal);
                if (state["tables"] is JsonObject records)
                    foreach (var (table, record) in records)
                        if (ReadRecord(record) is { } parsed)
                            tables[table] = parsed;
                var tests = new Dictionary<string, TestRecord>(StringComparer.Ordinal);
                if (state["tests"] is JsonObject passed)
                    foreach (var (test, record) in passed)
                        if (record?["checksum"] is JsonValue checksum && checksum.TryGetValue<string>(out var text))
                            tests[test] = new TestRecord(text, Day(record["read_from"]));
                result[target] = new TargetState(state["runs"]?.GetValue<int>() ?? 0, tables) { Tests = tests };
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            // No record: every table is rebuilt, which is always correct.
            result.Clear();
        }

        return result;
    }

    private static TableRecord? ReadRecord(JsonNode? record)
    {
        if (record?["checksum"] is not JsonValue checksum || !checksum.TryGetValue<string>(out var text))
            return null;
        var changes = new List<TableChange>();
        if (record["changes"] is JsonArray list)
            foreach (var change in list)
                if (change is not null)
                    changes.Add(new TableChange(change["run"]!.GetValue<int>(), Day(change["from"]), Day(change["dropped_before"])));
        return new TableRecord(text, record["built_in"]?.GetValue<int>() ?? 0, record["history_from"]?.GetValue<int>() ?? int.MaxValue, changes);
    }

    private static DateOnly? Day(JsonNode? value) =>
        value is null ? null : DateOnly.ParseExact(value.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Forgets what the tables of <paramref name="target"/> were built from, so that its next run builds every table, the
    /// incremental ones in full: <c>metricc seed</c> replaces the raw tables, which no lookback window covers.
    /// </summary>
    public static void Forget(string targetDirectory, string target)
    {
        var state = Read(targetDirectory);
        if (state.Remove(target))
            Write(targetDirectory, state).Commit();
    }

    /// <summary>The state with <paramref name="target"/>'s replaced by <paramref name="next"/>, staged under a temporary name.</summary>
    public static StagedFile Stage(string targetDirectory, IReadOnlyDictionary<string, TargetState> previous, string target, TargetState next)
    {
        var state = new Dictionary<string, TargetState>(previous, StringComparer.Ordinal) { [target] = next };
        return Write(targetDirectory, state);
    }

    private static StagedFile Write(string targetDirectory, Dictionary<string, TargetState> state)
    {
        var targets = new JsonObject();
        foreach (var (name, target) in state.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var tables = new JsonObject();
            foreach (var (table, record) in target.Tables.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                var changes = new JsonArray();
                foreach (var change in record.Changes)
                {
                    var json = new JsonObject { ["run"] = change.Run, ["from"] = Text(change.From) };
                    if (change.DroppedBefore is { } dropped)
                        json["dropped_before"] = Text(dropped);
                    changes.Add(json);
                }

                tables[table] = new JsonObject
                {
                    ["checksum"] = record.Checksum,
                    ["built_in"] = record.BuiltIn,
                    ["history_from"] = record.HistoryFrom,
                    ["changes"] = changes,
                };
            }

            var tests = new JsonObject();
            foreach (var (test, record) in target.Tests.OrderBy(t => t.Key, StringComparer.Ordinal))
                tests[test] = new JsonObject { ["checksum"] = record.Checksum, ["read_from"] = Text(record.ReadFrom) };
            targets[name] = new JsonObject { ["runs"] = target.Runs, ["tables"] = tables, ["tests"] = tests };
        }

        var document = new JsonObject
        {
            ["description"] = "per target: the definition checksum (manifest.json) each table in place was built from, the run that built it, " +
                "and the runs that changed it since (from a day on, or every row when `from` is null); per source test that passed, the day from which " +
                "it last read the raw rows (null: all of them); metricc writes it after each successful run",
            ["targets"] = targets,
        };
        return ArtifactWriter.Stage(Path.Combine(targetDirectory, FileName), document.ToJsonString(Indented) + "\n");
    }

    private static string? Text(DateOnly? day) => day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
