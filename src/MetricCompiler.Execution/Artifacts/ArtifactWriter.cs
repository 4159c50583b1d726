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
public sealed class ArtifactWriter(string targetDirectory)
{
    public const string Version = "0.1.0";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string TargetDirectory => targetDirectory;

    public void WriteCompiled(IReadOnlyList<CompiledNode> compiled)
    {
        var folder = Path.Combine(targetDirectory, "compiled");
        Directory.CreateDirectory(folder);
        var expected = compiled.Where(c => c.Sql is not null).Select(c => $"{c.Node.Name}.sql").ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateFiles(folder, "*.sql").Where(f => !expected.Contains(Path.GetFileName(f))))
            File.Delete(stale);
        foreach (var node in compiled.Where(c => c.Sql is not null))
            WriteAtomically(Path.Combine(targetDirectory, node.RelativePath), node.Sql!);
    }

    public void WriteManifest(BoundProject bound, TargetDefinition target, IReadOnlyList<CompiledNode> compiled)
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
            ["nodes"] = nodes,
            ["child_map"] = childMap,
        };
        WriteAtomically(Path.Combine(targetDirectory, "manifest.json"), manifest.ToJsonString(Indented) + "\n");
    }

    public void WriteRunResults(string command, TargetDefinition target, DateTime startedAt, double elapsedSeconds, IReadOnlyList<NodeResult> results, string? error)
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
            ["status"] = error is null && results.All(r => r.Status != NodeResult.Error) ? "success" : "error",
            ["error"] = error,
            ["elapsed_seconds"] = Math.Round(elapsedSeconds, 3),
            ["results"] = new JsonArray(results.Select(r => (JsonNode)new JsonObject
            {
                ["node"] = r.Node,
                ["status"] = r.Status,
                ["execution_seconds"] = Math.Round(r.Seconds, 3),
                ["rows"] = r.Rows,
                ["message"] = r.Message,
            }).ToArray()),
        };
        WriteAtomically(Path.Combine(targetDirectory, "run_results.json"), document.ToJsonString(Indented) + "\n");
    }

    /// <summary>
    /// Writes <c>results/&lt;experiment&gt;.json</c>, and the readouts people read next to it: <c>readouts/&lt;experiment&gt;.md</c>
    /// and <c>.html</c>. Without <paramref name="experiment"/> those two leave out the owner and the guardrail margins.
    /// </summary>
    public string WriteReadout(ExperimentReadout readout, DateTime analysedAt, ExperimentDefinition? experiment = null, string timeZone = ReadoutMarkdown.DefaultTimeZone)
    {
        var path = Path.Combine(targetDirectory, "results", $"{readout.ExperimentId}.json");
        WriteAtomically(path, ReadoutJson.Serialize(readout, analysedAt));
        var readouts = Path.Combine(targetDirectory, "readouts");
        WriteAtomically(Path.Combine(readouts, $"{readout.ExperimentId}.md"), ReadoutMarkdown.Render(readout, experiment, timeZone));
        WriteAtomically(Path.Combine(readouts, $"{readout.ExperimentId}.html"), ReadoutHtml.Render(readout, experiment, timeZone));
        return path;
    }

    public static void WriteAtomically(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content, new UTF8Encoding(false));
        File.Move(temporary, path, overwrite: true);
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
