using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Execution.Caching;

/// <summary>
/// Each node's fingerprint: the SHA-256 of everything its compiled SQL is made from, so a node whose fingerprint is
/// unchanged renders to the same text. It covers:
/// <list type="bullet">
/// <item>what every node shares: this metricc build (<see cref="CompileCache.BuildIdentity"/>), the dialect, the target
/// (name, adapter, settings), <c>--vars</c> and the project file (its settings, such as <c>time_zone</c>);</item>
/// <item>the node's own fields that its header prints (name, kind, description, where defined, reads, tags, ...);</item>
/// <item>the fingerprints of the nodes it reads;</item>
/// <item>the checksums of the files that define what its query is built from: a staging node's source; an
/// experiment's nodes the experiment, its exposure source, its metrics with their inputs and sources, its covariates
/// and segment sources; any other node (SQL models, metric tables) every file of the project.</item>
/// </list>
/// The unit is the file, so changing one metric re-renders the nodes that read any definition of its file.
/// </summary>
public static class NodeFingerprints
{
    public static IReadOnlyDictionary<string, string> Compute(BoundProject project, ExecutionPlan plan, IReadOnlyDictionary<string, string> fileChecksums,
        SqlDialect dialect, TargetDefinition target, IReadOnlyDictionary<string, object?>? vars)
    {
        var shared = new Digest()
            .Add(CompileCache.BuildIdentity)
            .Add(dialect.Name)
            .Add(target.Name).Add(target.Adapter)
            .AddPairs(target.Settings)
            .Add(JsonSerializer.Serialize((vars ?? new Dictionary<string, object?>()).OrderBy(v => v.Key, StringComparer.Ordinal).ToDictionary(v => v.Key, v => v.Value)))
            .Add(project.Definition.ProjectFile).Add(fileChecksums.GetValueOrDefault(project.Definition.ProjectFile, "-"))
            .Finish();
        // Each file list in name order, sorted once: an experiment's four nodes share theirs, every other node all files.
        List<string>? allFiles = null;
        var experiments = project.Experiments.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var experimentFiles = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var result = new Dictionary<string, string>(plan.Nodes.Count, StringComparer.Ordinal);
        foreach (var node in plan.Nodes) // in run order: what a node reads comes before it
        {
            IReadOnlyList<string> sorted = node switch
            {
                { Kind: NodeKind.Staging } => [node.Origin.File],
                { ExperimentId: { } id } when experiments.TryGetValue(id, out var experiment) =>
                    experimentFiles.TryGetValue(id, out var known) ? known : experimentFiles[id] = Sorted(FilesOf(experiment)),
                _ => allFiles ??= Sorted(fileChecksums.Keys),
            };
            var digest = new Digest().Add(shared)
                .Add(node.Name).Add(node.KindName).Add(node.Description).Add(node.Origin.ToString())
                .Add(node.ExperimentId ?? "-").Add(node.MaterializedName).Add(node.DefinitionChecksum ?? "-")
                .Add(node.Incremental is { } i ? $"{i.EventTime}/{i.LookbackDays}" : "-")
                .AddAll(node.SourceTables).AddAll(node.Tags);
            digest.Add(node.DependsOn.Count);
            foreach (var dependency in node.DependsOn)
                digest.Add(dependency).Add(result.GetValueOrDefault(dependency, "-"));
            digest.Add(sorted.Count);
            foreach (var file in sorted)
                digest.Add(file).Add(fileChecksums.GetValueOrDefault(file, "-"));
            result[node.Name] = digest.Finish();
        }

        return result;
    }

    private static List<string> Sorted(IEnumerable<string> files)
    {
        var list = files.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>The files of the definitions an experiment's queries are built from.</summary>
    internal static IReadOnlyCollection<string> FilesOf(BoundExperiment experiment)
    {
        var files = new HashSet<string>(StringComparer.Ordinal) { experiment.Definition.Location.File, experiment.Exposure.Source.Location.File };
        var seen = new HashSet<BoundMetric>(ReferenceEqualityComparer.Instance);
        void Metric(BoundMetric metric)
        {
            if (!seen.Add(metric))
                return;
            files.Add(metric.Location.File);
            foreach (var source in metric.Sources)
                files.Add(source.Location.File);
            foreach (var input in metric.Inputs)
                Metric(input);
        }

        foreach (var metric in experiment.Metrics)
            Metric(metric.Metric);
        foreach (var covariate in experiment.Covariates)
            Metric(covariate);
        foreach (var segment in experiment.Segments)
            files.Add(segment.Source.Location.File);
        foreach (var attribute in experiment.AttributeCovariates)
            files.Add(attribute.Source.Location.File);
        return files;
    }

    /// <summary>SHA-256 over length-prefixed fields, so no two different field lists give the same bytes.</summary>
    private sealed class Digest
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private byte[] _buffer = new byte[256];

        public Digest Add(string text)
        {
            var length = Encoding.UTF8.GetMaxByteCount(text.Length) + 4;
            if (_buffer.Length < length)
                _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
            var written = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(4));
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_buffer, written);
            _hash.AppendData(_buffer, 0, written + 4);
            return this;
        }

        public Digest Add(int value) => Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public Digest AddAll(IReadOnlyCollection<string> values)
        {
            Add(values.Count);
            foreach (var value in values)
                Add(value);
            return this;
        }

        public Digest AddPairs(IReadOnlyDictionary<string, string> pairs)
        {
            Add(pairs.Count);
            foreach (var (key, value) in pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
                Add(key).Add(value);
            return this;
        }

        public string Finish()
        {
            var text = Convert.ToHexStringLower(_hash.GetHashAndReset());
            _hash.Dispose();
            return text;
        }
    }
}
