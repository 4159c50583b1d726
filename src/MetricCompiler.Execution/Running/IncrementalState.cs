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
/// <c>target/incremental_state.json</c>: per target, the manifest checksum of each incremental model's definition when
/// its table was last swapped in. It is written with the run's other artifacts, after the swap, so it describes the
/// tables in place: a run that failed, or a <c>metricc compile</c> of a changed model, leaves it as it was, and the next
/// run sees the change and rebuilds the table in full.
/// </summary>
public static class IncrementalState
{
    public const string FileName = "incremental_state.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Target name → model → checksum; empty when the file is missing or unreadable (every model is then rebuilt in full).</summary>
    public static Dictionary<string, Dictionary<string, string>> Read(string targetDirectory)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(Path.Combine(targetDirectory, FileName)))?["targets"] is not JsonObject targets)
                return result;
            foreach (var (target, models) in targets)
            {
                var checksums = result[target] = new Dictionary<string, string>(StringComparer.Ordinal);
                if (models is JsonObject entries)
                    foreach (var (model, entry) in entries)
                        if (entry?["checksum"] is JsonValue value && value.TryGetValue<string>(out var checksum))
                            checksums[model] = checksum;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            // No record: the models are rebuilt in full, which is always correct.
        }

        return result;
    }

    /// <summary>
    /// Forgets what the incremental tables of <paramref name="target"/> were built from, so that its next run builds them
    /// in full: <c>metricc seed</c> replaces the raw tables, which no lookback window covers.
    /// </summary>
    public static void Forget(string targetDirectory, string target)
    {
        var state = Read(targetDirectory);
        if (state.Remove(target))
            Write(targetDirectory, state).Commit();
    }

    /// <summary>The state with <paramref name="built"/> (model → checksum) recorded for <paramref name="target"/>, staged under a temporary name.</summary>
    public static StagedFile Stage(string targetDirectory, Dictionary<string, Dictionary<string, string>> previous, string target, IReadOnlyDictionary<string, string> built)
    {
        var state = previous.ToDictionary(p => p.Key, p => new Dictionary<string, string>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        if (!state.TryGetValue(target, out var models))
            models = state[target] = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (model, checksum) in built)
            models[model] = checksum;
        return Write(targetDirectory, state);
    }

    private static StagedFile Write(string targetDirectory, Dictionary<string, Dictionary<string, string>> state)
    {
        var targets = new JsonObject();
        foreach (var (name, entries) in state.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var json = new JsonObject();
            foreach (var (model, checksum) in entries.OrderBy(m => m.Key, StringComparer.Ordinal))
                json[model] = new JsonObject { ["checksum"] = checksum };
            targets[name] = json;
        }

        var document = new JsonObject
        {
            ["description"] = "the definition checksum (manifest.json) each incremental model's table in place was built from; metricc writes it after each successful run",
            ["targets"] = targets,
        };
        return ArtifactWriter.Stage(Path.Combine(targetDirectory, FileName), document.ToJsonString(Indented) + "\n");
    }
}
