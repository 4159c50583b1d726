using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Artifacts;

/// <summary>
/// The text of <c>target/manifest.json</c>: metadata, sources, metrics, experiments, models, tests, nodes and the child
/// map, indented, keys in the order below. Written straight to a <see cref="Utf8JsonWriter"/> (no document tree is built:
/// at 10,000 metrics that tree was most of the write phase). A name that occurs twice keeps its first place and its last
/// value, as a JSON object assigned key by key would.
/// </summary>
internal static class ManifestJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true };

    /// <summary>The UTF-8 bytes of the manifest, ending in a newline (the writer's own buffer: megabytes at 10k metrics, not copied).</summary>
    public static ReadOnlyMemory<byte> Write(BoundProject bound, TargetDefinition target, IReadOnlyList<CompiledNode> compiled, IReadOnlyList<PlannedTest>? tests)
    {
        var project = bound.Definition;
        // About what a node and a metric take, so a large manifest is not copied through every doubling of the buffer.
        var buffer = new ArrayBufferWriter<byte>(Math.Max(64 * 1024, (compiled.Count * 1024) + (bound.Metrics.Count * 512)));
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteString("metricc_version", ArtifactWriter.Version);
            w.WriteString("project", project.Name);
            w.WriteString("time_zone", bound.Time.ZoneId);
            w.WriteNumber("spec_version", project.Version);
            w.WriteString("target", target.Name);
            w.WriteString("adapter", target.Adapter);
            Array(w, "files", project.Files);
            w.WriteEndObject();

            Object(w, "sources", project.Sources, s => s.Name, s =>
            {
                w.WriteStartObject();
                w.WriteString("table", s.Table);
                w.WriteString("entity", s.Entity);
                w.WriteString("event_time", s.EventTime);
                w.WriteString("unique_key", s.UniqueKey);
                w.WriteString("defined_at", s.Location.ToString());
                Object(w, "columns", s.Columns, c => c.Name, c => w.WriteStringValue(c.Type.ToString().ToLowerInvariant()));
                w.WriteEndObject();
            });
            Object(w, "metrics", bound.Metrics, m => m.Name, m =>
            {
                w.WriteStartObject();
                w.WriteString("type", m.Type.Name);
                w.WriteString("label", m.Definition.Label);
                w.WriteString("description", m.Definition.Description);
                w.WriteString("owner", m.Definition.Owner);
                w.WriteString("computes", m.Summary);
                Array(w, "sources", m.Sources.Select(s => s.Name));
                Array(w, "depends_on_metrics", m.Inputs.Select(i => i.Name));
                w.WriteBoolean("per_unit", m.HasUnitValue);
                w.WriteString("desired_direction", m.DesiredDirection.ToString().ToLowerInvariant());
                Array(w, "tags", m.Definition.Tags);
                w.WriteString("defined_at", m.Location.ToString());
                w.WriteEndObject();
            });
            Object(w, "experiments", project.Experiments, e => e.Id, e =>
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("owner", e.Owner);
                w.WriteString("start", e.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("end", e.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                Object(w, "variants", e.Variants, v => v.Name, v =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("weight", v.Weight);
                    w.WriteBoolean("control", v.IsControl);
                    w.WriteEndObject();
                });
                Array(w, "primary_metrics", e.PrimaryMetrics.Select(m => m.Name));
                Array(w, "secondary_metrics", e.SecondaryMetrics.Select(m => m.Name));
                Object(w, "guardrails", e.Guardrails, g => g.Metric.Name, g =>
                {
                    w.WriteStartObject();
                    w.WriteString("harmful_direction", g.HarmfulDirection.ToString().ToLowerInvariant());
                    w.WriteNumber("margin", g.Margin);
                    w.WriteEndObject();
                });
                w.WriteString("defined_at", e.Location.ToString());
                w.WriteEndObject();
            });
            Object(w, "models", project.Models, m => m.Name, m =>
            {
                w.WriteStartObject();
                w.WriteString("path", m.File);
                w.WriteString("materialized", m.Sql.Materialization.ToString().ToLowerInvariant());
                w.WriteString("checksum", m.Checksum);
                Array(w, "refs", m.Sql.Refs.Select(r => r.Name.Name).Distinct(StringComparer.Ordinal));
                Array(w, "sources", m.Sql.Sources.Select(r => r.Name.Name).Distinct(StringComparer.Ordinal));
                w.WriteEndObject();
            });
            Object(w, "tests", tests ?? [], t => t.Name, t =>
            {
                w.WriteStartObject();
                w.WriteString("kind", t.Kind);
                w.WriteString("attached_to", t.AttachedTo);
                Array(w, "reads", t.Reads);
                w.WriteString("severity", t.SeverityName);
                w.WriteString("description", t.Description);
                w.WriteString("defined_at", t.Origin.ToString());
                w.WriteString("compiled_path", $"compiled/tests/{t.Name}.sql");
                w.WriteEndObject();
            });
            Object(w, "nodes", compiled, c => c.Node.Name, c => Node(w, c));

            // One pass over the dependencies builds every node's children (linear in nodes + edges).
            var children = new Dictionary<string, List<string>>(compiled.Count, StringComparer.Ordinal);
            foreach (var c in compiled)
                children.TryAdd(c.Node.Name, []);
            foreach (var c in compiled)
                foreach (var dependency in c.Node.DependsOn)
                    if (children.TryGetValue(dependency, out var list))
                        list.Add(c.Node.Name);
            Object(w, "child_map", compiled, c => c.Node.Name, c => Array(w, null, children[c.Node.Name]));
            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }

    private static void Node(Utf8JsonWriter w, CompiledNode c)
    {
        w.WriteStartObject();
        w.WriteString("kind", c.Node.KindName);
        w.WriteString("description", c.Node.Description);
        w.WriteString("defined_at", c.Node.Origin.ToString());
        Array(w, "depends_on", c.Node.DependsOn);
        Array(w, "source_tables", c.Node.SourceTables);
        Array(w, "tags", c.Node.Tags);
        w.WriteString("experiment_id", c.Node.ExperimentId);
        w.WriteString("checksum", c.Checksum);
        w.WriteString("compiled_path", c.Sql is null ? null : c.RelativePath);
        if (c.Node.Kind == NodeKind.Model)
        {
            w.WriteString("materialized", c.Node.MaterializedName);
            if (c.Node.Incremental is { } incremental)
            {
                w.WriteStartObject("incremental");
                w.WriteString("event_time", incremental.EventTime);
                w.WriteNumber("lookback_days", incremental.LookbackDays);
                w.WriteEndObject();
            }

            w.WriteString("definition_checksum", c.Node.DefinitionChecksum);
        }

        w.WriteEndObject();
    }

    /// <summary>An array of strings; <paramref name="name"/> null for an array that is a value (of an object being written).</summary>
    private static void Array(Utf8JsonWriter w, string? name, IEnumerable<string> values)
    {
        if (name is null)
            w.WriteStartArray();
        else
            w.WriteStartArray(name);
        foreach (var value in values)
            w.WriteStringValue(value);
        w.WriteEndArray();
    }

    /// <summary>An object of one property per item: the first occurrence of a key gives its place, the last its value.</summary>
    private static void Object<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, Func<T, string> key, Action<T> value)
    {
        var order = new List<(string Key, T Item)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var k = key(item);
            if (index.TryGetValue(k, out var at))
                order[at] = (k, item);
            else
            {
                index[k] = order.Count;
                order.Add((k, item));
            }
        }

        w.WriteStartObject(name);
        foreach (var (k, item) in order)
        {
            w.WritePropertyName(k);
            value(item);
        }

        w.WriteEndObject();
    }
}
