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
    /// <param name="onDisk">Nodes whose file was just read and found to hold their SQL (the compile cache): not compared again.</param>
    /// <returns>How many files were written (the others already held the same bytes).</returns>
    public int WriteCompiled(IReadOnlyList<CompiledNode> compiled, bool removeStale = true, IReadOnlySet<string>? onDisk = null)
    {
        var folder = Path.Combine(targetDirectory, "compiled");
        try
        {
            Directory.CreateDirectory(folder);
            if (removeStale)
            {
                var expected = compiled.Where(c => c.Sql is not null).Select(c => c.Node.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var stale in StaleSqlFiles(folder, expected))
                    File.Delete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ArtifactException.For(folder, e);
        }

        var written = 0;
        foreach (var node in compiled.Where(c => c.Sql is not null && onDisk?.Contains(c.Node.Name) != true))
            if (WriteAtomically(Path.Combine(targetDirectory, node.RelativePath), node.Sql!))
                written++;
        return written;
    }

    /// <summary>Writes <c>compiled/tests/&lt;test&gt;.sql</c> for every data test, removing files of tests that no longer exist.</summary>
    public void WriteCompiledTests(IReadOnlyList<(PlannedTest Test, string Sql)> tests)
    {
        var folder = Path.Combine(targetDirectory, "compiled", "tests");
        try
        {
            Directory.CreateDirectory(folder);
            var expected = tests.Select(t => t.Test.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var stale in StaleSqlFiles(folder, expected))
                File.Delete(stale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ArtifactException.For(folder, e);
        }

        foreach (var (test, sql) in tests)
            WriteAtomically(Path.Combine(folder, $"{test.Name}.sql"), sql);
    }

    /// <summary>
    /// The <c>*.sql</c> files in <paramref name="folder"/> whose name without <c>.sql</c> is not in <paramref name="expected"/>:
    /// each file name is looked up as a span, without a string per current file and per expected name.
    /// </summary>
    private static IEnumerable<string> StaleSqlFiles(string folder, HashSet<string> expected)
    {
        var names = expected.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var path in Directory.EnumerateFiles(folder, "*.sql"))
        {
            var name = Path.GetFileName(path.AsSpan());
            if (!(name.EndsWith(".sql", StringComparison.Ordinal) && names.Contains(name[..^4])))
                yield return path;
        }
    }

    public void WriteManifest(BoundProject bound, TargetDefinition target, IReadOnlyList<CompiledNode> compiled, IReadOnlyList<PlannedTest>? tests = null) =>
        WriteAtomically(Path.Combine(targetDirectory, "manifest.json"), ManifestJson.Write(bound, target, compiled, tests).Span);

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
                    ["unchanged"] = r.Unchanged ? true : null,
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
    /// <returns>Whether the file was written (false: it already held these bytes).</returns>
    public static bool WriteAtomically(string path, string content)
    {
        // Encoded into a pooled buffer: most files of a recompile already hold these bytes and are only compared.
        var encoding = new UTF8Encoding(false);
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(encoding.GetByteCount(content));
        try
        {
            return WriteAtomically(path, rented.AsSpan(0, encoding.GetBytes(content, rented)));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc cref="WriteAtomically(string, string)"/>
    public static bool WriteAtomically(string path, byte[] content) => WriteAtomically(path, content.AsSpan());

    /// <inheritdoc cref="WriteAtomically(string, string)"/>
    public static bool WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        if (Holds(path, content))
            return false;
        Stage(path, content).Commit();
        return true;
    }

    /// <summary>Whether <paramref name="path"/> exists with exactly the bytes of <paramref name="content"/>.</summary>
    private static bool Holds(string path, ReadOnlySpan<byte> content)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = content.Length;
            if (RandomAccess.GetLength(handle) != length)
                return false;
            var actual = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var total = 0;
                int read;
                while (total < length && (read = RandomAccess.Read(handle, actual.AsSpan(total, length - total), total)) > 0)
                    total += read;
                return total == length && actual.AsSpan(0, length).SequenceEqual(content);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(actual);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // missing or unreadable: write it, and report a failure there
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
    public static StagedFile Stage(string path, string content) => Stage(path, new UTF8Encoding(false).GetBytes(content));

    /// <inheritdoc cref="Stage(string, string)"/>
    public static StagedFile Stage(string path, byte[] content) => Stage(path, content.AsSpan());

    /// <inheritdoc cref="Stage(string, string)"/>
    public static StagedFile Stage(string path, ReadOnlySpan<byte> content)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
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
