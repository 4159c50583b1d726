using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Reports;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Artifacts;

/// <summary>
/// Writes what dbt users expect under <c>target/</c>: <c>compiled/&lt;node&gt;.sql</c>, <c>manifest.json</c> (deterministic:
/// same project, same bytes), <c>run_results.json</c> and <c>results/&lt;experiment&gt;.json</c>. Files are written to a
/// temporary name and moved into place, so a reader never sees half a file.
/// </summary>
public sealed partial class ArtifactWriter(string targetDirectory)
{
    public const string Version = "0.1.0";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string TargetDirectory => targetDirectory;

    /// <summary>
    /// Writes <c>compiled/&lt;node&gt;.sql</c> for every node with SQL. With <paramref name="removeStale"/> (a whole
    /// project compiled), files of nodes that no longer exist are removed; a selection leaves other files alone.
    /// </summary>
    public void WriteCompiled(IReadOnlyList<CompiledNode> compiled, bool removeStale = true)
    {
        var folder = Path.Combine(targetDirectory, "compiled");
        try
        {
            Directory.CreateDirectory(folder);
            var expected = compiled.Where(c => c.Sql is not null).Select(c => $"{c.Node.Name}.sql").ToHashSet(StringComparer.Ordinal);
            if (removeStale)
                foreach (var stale in Directory.EnumerateFiles(folder, "*.sql").Where(f => !expected.Contains(Path.GetFileName(f))))
                    File.Delete(stale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ArtifactException.For(folder, e);
        }

        foreach (var node in compiled.Where(c => c.Sql is not null))
            WriteAtomically(Path.Combine(targetDirectory, node.RelativePath), node.Sql!);
    }

    /// <summary>Writes <c>compiled/tests/&lt;test&gt;.sql</c> for every data test, removing files of tests that no longer exist.</summary>
    public void WriteCompiledTests(IReadOnlyList<(PlannedTest Test, string Sql)> tests)
    {
        var folder = Path.Combine(targetDirectory, "compiled", "tests");
        try
        {
            Directory.CreateDirectory(folder);
            var expected = tests.Select(t => $"{t.Test.Name}.sql").ToHashSet(StringComparer.Ordinal);
            foreach (var stale in Directory.EnumerateFiles(folder, "*.sql").Where(f => !expected.Contains(Path.GetFileName(f))))
                File.Delete(stale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ArtifactException.For(folder, e);
        }

        foreach (var (test, sql) in tests)
            WriteAtomically(Path.Combine(folder, $"{test.Name}.sql"), sql);
    }

    public void WriteManifest(BoundProject bound, TargetDefinition target, IReadOnlyList<CompiledNode> compiled, IReadOnlyList<PlannedTest>? tests = null)
    {
        var project = bound.Definition;
        var nodes = new JsonObject();
        foreach (var c in compiled)
        {
            nodes[c.Node.Name] = new JsonObject
            {
                ["kind"] = c.Node.KindName,
                ["description"] = c.Node.Description,
                ["defined_at"] = c.Node.Origin.ToString(),
                ["depends_on"] = Array(c.Node.DependsOn),
                ["source_tables"] = Array(c.Node.SourceTables),
                ["tags"] = Array(c.Node.Tags),
                ["experiment_id"] = c.Node.ExperimentId,
                ["checksum"] = c.Checksum,
                ["compiled_path"] = c.Sql is null ? null : c.RelativePath,
            };
            if (c.Node.Kind == NodeKind.Model && nodes[c.Node.Name] is JsonObject model)
            {
                model["materialized"] = c.Node.MaterializedName;
                if (c.Node.Incremental is { } incremental)
                    model["incremental"] = new JsonObject { ["event_time"] = incremental.EventTime, ["lookback_days"] = incremental.LookbackDays };
                model["definition_checksum"] = c.Node.DefinitionChecksum;
            }
        }

        // One pass over the dependencies builds every node's children (linear in nodes + edges).
        var children = compiled.ToDictionary(c => c.Node.Name, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var c in compiled)
            foreach (var dependency in c.Node.DependsOn)
                if (children.TryGetValue(dependency, out var list))
                    list.Add(c.Node.Name);
        var childMap = new JsonObject();
        foreach (var c in compiled)
            childMap[c.Node.Name] = Array(children[c.Node.Name]);

        var manifest = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["metricc_version"] = Version,
                ["project"] = project.Name,
                ["time_zone"] = bound.Time.ZoneId,
                ["spec_version"] = project.Version,
                ["target"] = target.Name,
                ["adapter"] = target.Adapter,
                ["files"] = Array(project.Files),
            },
            ["sources"] = Object(project.Sources, s => s.Name, s => new JsonObject
            {
                ["table"] = s.Table,
                ["entity"] = s.Entity,
                ["event_time"] = s.EventTime,
                ["unique_key"] = s.UniqueKey,
                ["defined_at"] = s.Location.ToString(),
                ["columns"] = Object(s.Columns, c => c.Name, c => JsonValue.Create(c.Type.ToString().ToLowerInvariant())),
            }),
            ["metrics"] = Object(bound.Metrics, m => m.Name, m => new JsonObject
            {
                ["type"] = m.Type.Name,
                ["label"] = m.Definition.Label,
                ["description"] = m.Definition.Description,
                ["owner"] = m.Definition.Owner,
                ["computes"] = m.Summary,
                ["sources"] = Array(m.Sources.Select(s => s.Name)),
                ["depends_on_metrics"] = Array(m.Inputs.Select(i => i.Name)),
                ["per_unit"] = m.HasUnitValue,
                ["desired_direction"] = m.DesiredDirection.ToString().ToLowerInvariant(),
                ["tags"] = Array(m.Definition.Tags),
                ["defined_at"] = m.Location.ToString(),
            }),
            ["experiments"] = Object(project.Experiments, e => e.Id, e => new JsonObject
            {
                ["name"] = e.Name,
                ["owner"] = e.Owner,
                ["start"] = e.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["end"] = e.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["variants"] = Object(e.Variants, v => v.Name, v => new JsonObject { ["weight"] = v.Weight, ["control"] = v.IsControl }),
                ["primary_metrics"] = Array(e.PrimaryMetrics.Select(m => m.Name)),
                ["secondary_metrics"] = Array(e.SecondaryMetrics.Select(m => m.Name)),
                ["guardrails"] = Object(e.Guardrails, g => g.Metric.Name, g => new JsonObject
                {
                    ["harmful_direction"] = g.HarmfulDirection.ToString().ToLowerInvariant(),
                    ["margin"] = g.Margin,
                }),
                ["defined_at"] = e.Location.ToString(),
            }),
            ["models"] = Object(project.Models, m => m.Name, m => new JsonObject
            {
                ["path"] = m.File,
                ["materialized"] = m.Sql.Materialization.ToString().ToLowerInvariant(),
                ["checksum"] = m.Checksum,
                ["refs"] = Array(m.Sql.Refs.Select(r => r.Name.Name).Distinct(StringComparer.Ordinal)),
                ["sources"] = Array(m.Sql.Sources.Select(r => r.Name.Name).Distinct(StringComparer.Ordinal)),
            }),
            ["tests"] = Object(tests ?? [], t => t.Name, t => new JsonObject
            {
                ["kind"] = t.Kind,
                ["attached_to"] = t.AttachedTo,
                ["reads"] = Array(t.Reads),
                ["severity"] = t.SeverityName,
                ["description"] = t.Description,
                ["defined_at"] = t.Origin.ToString(),
                ["compiled_path"] = $"compiled/tests/{t.Name}.sql",
            }),
            ["nodes"] = nodes,
            ["child_map"] = childMap,
        };
        WriteAtomically(Path.Combine(targetDirectory, "manifest.json"), manifest.ToJsonString(Indented) + "\n");
    }

    private static JsonNode? Value(object? value) => value switch
    {
        null or DBNull => null,
        string text => JsonValue.Create(text),
        bool b => JsonValue.Create(b),
        long or int or short or byte => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        double or float or decimal => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        DateTime t => JsonValue.Create(t.ToString("yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    public void WriteRunResults(string command, TargetDefinition target, DateTime startedAt, double elapsedSeconds, IReadOnlyList<NodeResult> results, string? error) =>
        StageRunResults(command, target, startedAt, elapsedSeconds, results, error).Commit();

    /// <param name="experiments">Each readout's decision (with the one it replaced and its files); a failed run reads out nothing.</param>
    public StagedFile StageRunResults(string command, TargetDefinition target, DateTime startedAt, double elapsedSeconds, IReadOnlyList<NodeResult> results, string? error,
        IReadOnlyList<Notify.ExperimentDecision>? experiments = null)
    {
        var document = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["metricc_version"] = Version,
                ["command"] = command,
                ["target"] = target.Name,
                ["generated_at"] = startedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            },
            ["status"] = error is null && results.All(r => r.Status is not (NodeResult.Error or NodeResult.Fail)) ? "success" : "error",
            ["error"] = error,
            ["elapsed_seconds"] = Math.Round(elapsedSeconds, 3),
            ["results"] = new JsonArray(results.Select(r => (JsonNode)(r.ResourceType == "test"
                ? new JsonObject
                {
                    ["node"] = r.Node,
                    ["resource_type"] = "test",
                    ["attached_to"] = r.AttachedTo,
                    ["severity"] = r.Severity,
                    ["status"] = r.Status,
                    ["execution_seconds"] = Math.Round(r.Seconds, 3),
                    ["failures"] = r.Rows,
                    ["message"] = r.Message,
                    ["failing_rows"] = new JsonArray(r.FailingRows.Select(row => (JsonNode)new JsonObject(row.Select(c => KeyValuePair.Create(c.Key, Value(c.Value))))).ToArray()),
                }
                : new JsonObject
                {
                    ["node"] = r.Node,
                    ["resource_type"] = "node",
                    ["status"] = r.Status,
                    ["execution_seconds"] = Math.Round(r.Seconds, 3),
                    ["rows"] = r.Rows,
                    ["message"] = r.Message,
                    ["dropped"] = r.Dropped is null ? null : new JsonObject(r.Dropped.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
                    ["nulled"] = r.Nulled is null ? null : new JsonObject(r.Nulled.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
                    ["excluded_units"] = r.Excluded is null ? null : new JsonObject(r.Excluded.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
                    ["incremental"] = r.Incremental is not { } build ? null : new JsonObject
                    {
                        ["mode"] = build.Mode,
                        ["reason"] = build.Reason,
                        ["recomputed_from"] = build.RecomputedFrom?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    },
                })).ToArray()),
            ["experiments"] = new JsonArray((experiments ?? []).Select(e => (JsonNode)new JsonObject
            {
                ["experiment_id"] = e.ExperimentId,
                ["name"] = e.Name,
                ["decision"] = e.Decision,
                ["previous_decision"] = e.PreviousDecision,
                ["decision_changed"] = e.Changed,
                ["reasons"] = Array(e.Reasons),
                ["readouts"] = new JsonObject
                {
                    ["json"] = e.ResultsPath,
                    ["markdown"] = e.MarkdownPath,
                    ["html"] = e.HtmlPath,
                },
            }).ToArray()),
        };
        return Stage(Path.Combine(targetDirectory, "run_results.json"), document.ToJsonString(Indented) + "\n");
    }

    /// <summary>
    /// Writes <c>results/&lt;experiment&gt;.json</c>, and the readouts people read next to it: <c>readouts/&lt;experiment&gt;.md</c>
    /// and <c>.html</c>. Without <paramref name="experiment"/> those two leave out the owner and the guardrail margins.
    /// </summary>
    public string WriteReadout(ExperimentReadout readout, DateTime analysedAt, ExperimentDefinition? experiment = null, string timeZone = ReadoutMarkdown.DefaultTimeZone)
    {
        var staged = StageReadout(readout, analysedAt, experiment, timeZone);
        staged.Commit();
        return Path.Combine(targetDirectory, "results", $"{readout.ExperimentId}.json");
    }

    /// <summary>The readout's three files written under temporary names, to be renamed into place together.</summary>
    public StagedFiles StageReadout(ExperimentReadout readout, DateTime analysedAt, ExperimentDefinition? experiment = null, string timeZone = ReadoutMarkdown.DefaultTimeZone)
    {
        var staged = new StagedFiles();
        var readouts = Path.Combine(targetDirectory, "readouts");
        try
        {
            staged.Add(Stage(Path.Combine(targetDirectory, "results", $"{readout.ExperimentId}.json"), ReadoutJson.Serialize(readout, analysedAt)));
            staged.Add(Stage(Path.Combine(readouts, $"{readout.ExperimentId}.md"), ReadoutMarkdown.Render(readout, experiment, timeZone)));
            staged.Add(Stage(Path.Combine(readouts, $"{readout.ExperimentId}.html"), ReadoutHtml.Render(readout, experiment, timeZone)));
            return staged;
        }
        catch (ArtifactException)
        {
            staged.Discard();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to a temporary file next to <paramref name="path"/> and renames it into place:
    /// a reader sees the old file or the new one, never half of one. A failure (read-only folder, full disk) removes the
    /// temporary file, leaves the old file as it was and throws <see cref="ArtifactException"/>.
    /// </summary>
    /// <remarks>
    /// A file that already holds exactly these bytes is left alone: a recompile rewrites (and flushes to disk) only what
    /// changed, which is most of the cost of compiling a large project twice.
    /// </remarks>
    public static void WriteAtomically(string path, string content)
    {
        if (Holds(path, content))
            return;
        Stage(path, content).Commit();
    }

    /// <summary>Whether <paramref name="path"/> exists with exactly the UTF-8 bytes of <paramref name="content"/>.</summary>
    private static bool Holds(string path, string content)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                return false;
            var bytes = new UTF8Encoding(false).GetBytes(content);
            return info.Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // unreadable: write it, and report a failure there
        }
    }

    /// <summary>
    /// Removes the temporary files (<c>&lt;file&gt;.&lt;process id&gt;.&lt;guid&gt;.tmp</c>) that a process killed before it
    /// could rename or remove them left under <c>target/</c>; those of a process still running are left alone. Returns
    /// how many were removed.
    /// </summary>
    public int RemoveLeftovers()
    {
        var removed = 0;
        try
        {
            if (!Directory.Exists(targetDirectory))
                return 0;
            foreach (var file in Directory.EnumerateFiles(targetDirectory, "*.tmp", SearchOption.AllDirectories))
            {
                if (LeftoverOwner().Match(Path.GetFileName(file)) is not { Success: true } match
                    || !int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                    || owner == Environment.ProcessId || Running(owner))
                    continue;
                TryDelete(file);
                removed += File.Exists(file) ? 0 : 1;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort, as for every temporary file: a leftover is never read.
        }

        return removed;

        static bool Running(int processId)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(processId);
                return !process.HasExited;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\.([0-9]+)\.[0-9a-f]{32}\.tmp$")]
    private static partial System.Text.RegularExpressions.Regex LeftoverOwner();

    /// <summary>Writes the temporary file only; <see cref="StagedFile.Commit"/> renames it into place, <see cref="StagedFile.Discard"/> removes it.</summary>
    public static StagedFile Stage(string path, string content)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = new UTF8Encoding(false).GetBytes(content);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            return new StagedFile(temporary, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw ArtifactException.For(path, e);
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover *.tmp file is harmless and never read.
        }
    }

    private static JsonArray Array(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static JsonObject Object<T>(IEnumerable<T> items, Func<T, string> key, Func<T, JsonNode?> value)
    {
        var result = new JsonObject();
        foreach (var item in items)
            result[key(item)] = value(item);
        return result;
    }
}

/// <summary>An artifact under <c>target/</c> could not be written; the file it would replace is unchanged.</summary>
public sealed class ArtifactException(string message, Exception inner) : Exception(message, inner)
{
    public static ArtifactException For(string path, Exception e) =>
        new($"cannot write `{path}`: {e.Message} (is the folder writable and is there space on the disk?); the previous file is unchanged", e);
}

/// <summary>A file written under a temporary name, waiting to be renamed into place.</summary>
public sealed class StagedFile(string temporary, string path)
{
    public string Path => path;

    public void Commit()
    {
        try
        {
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ArtifactWriter.TryDelete(temporary);
            throw ArtifactException.For(path, e);
        }
    }

    public void Discard() => ArtifactWriter.TryDelete(temporary);
}

/// <summary>Several staged files committed or discarded together.</summary>
public sealed class StagedFiles
{
    private readonly List<StagedFile> _files = [];

    public void Add(StagedFile file) => _files.Add(file);

    public void AddRange(StagedFiles other) => _files.AddRange(other._files);

    public void Commit()
    {
        for (var i = 0; i < _files.Count; i++)
        {
            try
            {
                _files[i].Commit();
            }
            catch (ArtifactException)
            {
                foreach (var rest in _files.Skip(i + 1))
                    rest.Discard();
                throw;
            }
        }
    }

    public void Discard() => _files.ForEach(f => f.Discard());
}
