using System.Security.Cryptography;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Artifacts;
using YamlDotNet.Core.Events;

namespace MetricCompiler.Execution.Caching;

/// <summary>How much of a compile the cache saved: YAML files replayed or parsed, SQL nodes reused or rendered.</summary>
public sealed record CacheCounts(int FilesReplayed, int FilesParsed, int NodesReused, int NodesRendered);

/// <summary>
/// The checksum (SHA-256 of the UTF-8 bytes) of a node's SQL as rendered for one fingerprint (<see cref="NodeFingerprints"/>).
/// The text itself is the node's file under <c>target/compiled/</c>: reused only while that file still has this checksum.
/// </summary>
internal sealed record CachedSql(string Fingerprint, string Checksum);

/// <summary>
/// <c>target/compile_cache/cache.bin</c>: what a compile can reuse from the one before, keyed by content checksums. The
/// parser's events of each YAML file by the SHA-256 of its bytes (<see cref="IParseCache"/>), and for each node the
/// checksum of the SQL rendered for its fingerprint (the SQL is its file in <c>target/compiled/</c>). One file, written whole under a temporary name and renamed into place, holding only what the
/// last compile used; it starts with the build identity of the metricc that wrote it and ends with the SHA-256 of
/// everything before. A file that is missing, unreadable, cut short, altered or written by another build is ignored
/// (the compile is then a full one), never trusted.
/// </summary>
public sealed class CompileCache : IParseCache
{
    public const string FolderName = "compile_cache";
    public const string FileName = "cache.bin";

    private const int Format = 2;
    private static readonly byte[] Magic = "MCCC"u8.ToArray();

    private readonly string _path;
    private readonly Dictionary<string, byte[]> _parsed;
    private readonly Dictionary<string, CachedSql> _nodes;
    private readonly Dictionary<string, byte[]> _usedParsed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CachedSql> _usedNodes = new(StringComparer.Ordinal);
    private bool _added;
    private int _filesReplayed, _filesParsed, _nodesReused, _nodesRendered;

    private CompileCache(string path, Dictionary<string, byte[]> parsed, Dictionary<string, CachedSql> nodes)
    {
        _path = path;
        _parsed = parsed;
        _nodes = nodes;
    }

    /// <summary>The identity of this metricc build: a cache written by another build is ignored.</summary>
    public static string BuildIdentity { get; } = string.Join(",",
        new[] { typeof(ProjectLoader), typeof(Sql.Rendering.SqlRenderer), typeof(Planning.Planner), typeof(CompileCache), typeof(YamlDotNet.Core.Parser) }
            .Select(t => t.Assembly.ManifestModule.ModuleVersionId.ToString("N"))) + "," + ArtifactWriter.Version;

    /// <summary>Where the cache of the project whose <c>target/</c> folder this is lives.</summary>
    public static string PathIn(string targetDirectory) => Path.Combine(targetDirectory, FolderName, FileName);

    public CacheCounts Counts => new(_filesReplayed, _filesParsed, _nodesReused, _nodesRendered);

    /// <summary>An empty cache that <see cref="Save"/> writes to <paramref name="targetDirectory"/>.</summary>
    public static CompileCache Empty(string targetDirectory) => new(PathIn(targetDirectory), new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    /// <summary>The cache of <paramref name="targetDirectory"/>, or an empty one when there is none it can trust. Never throws.</summary>
    public static CompileCache Open(string targetDirectory)
    {
        var path = PathIn(targetDirectory);
        try
        {
            if (!File.Exists(path))
                return Empty(targetDirectory);
            return Read(path, File.ReadAllBytes(path)) ?? Empty(targetDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or EndOfStreamException
                                      or ArgumentException or FormatException or OverflowException or NotSupportedException)
        {
            return Empty(targetDirectory);
        }
    }

    public IReadOnlyList<ParsingEvent>? Find(string checksum)
    {
        if (_parsed.TryGetValue(checksum, out var bytes))
        {
            try
            {
                var events = YamlEventCodec.Decode(bytes);
                _usedParsed[checksum] = bytes;
                _filesReplayed++;
                return events;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
            {
                _parsed.Remove(checksum);
            }
        }

        _filesParsed++;
        return null;
    }

    public void Remember(string checksum, IReadOnlyList<ParsingEvent> events)
    {
        if (YamlEventCodec.TryEncode(events) is not { } bytes)
            return;
        _usedParsed[checksum] = bytes;
        _added = true;
    }

    /// <summary>The checksum of the SQL rendered for <paramref name="node"/> at this fingerprint, or null.</summary>
    internal string? FindSql(string node, string fingerprint) =>
        _nodes.TryGetValue(node, out var cached) && cached.Fingerprint == fingerprint ? cached.Checksum : null;

    /// <summary>The node's SQL at this fingerprint is reused (its file holds it).</summary>
    internal void Reused(string node, string fingerprint, string checksum)
    {
        _usedNodes[node] = new CachedSql(fingerprint, checksum);
        _nodesReused++;
    }

    /// <summary>The node was rendered; its SQL has this checksum.</summary>
    internal void Rendered(string node, string fingerprint, string checksum)
    {
        _nodesRendered++;
        if (_nodes.TryGetValue(node, out var known) && known.Fingerprint == fingerprint && known.Checksum == checksum && !_usedNodes.ContainsKey(node))
        {
            _usedNodes[node] = known; // its file was missing or changed: the entry itself still holds
            return;
        }

        _usedNodes[node] = new CachedSql(fingerprint, checksum);
        _added = true;
    }

    /// <summary>
    /// Writes what this compile used (and nothing else, so the cache does not grow with history) when it differs from
    /// what was read. Best effort: a cache that cannot be written only makes the next compile a full one.
    /// </summary>
    public void Save()
    {
        if (!_added && _usedParsed.Count == _parsed.Count && _usedNodes.Count == _nodes.Count)
            return;
        try
        {
            ArtifactWriter.Stage(_path, Write()).Commit();
        }
        catch (ArtifactException)
        {
        }
    }

    private byte[] Write()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Format);
            w.Write(BuildIdentity);
            w.Write(_usedParsed.Count);
            foreach (var (checksum, events) in _usedParsed.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.Write(checksum);
                w.Write(events.Length);
                w.Write(events);
            }

            w.Write(_usedNodes.Count);
            foreach (var (node, sql) in _usedNodes.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.Write(node);
                w.Write(sql.Fingerprint);
                w.Write(sql.Checksum);
            }
        }

        buffer.Write(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        return buffer.ToArray();
    }

    /// <summary>The cache in <paramref name="bytes"/>, or null when they are not one this build wrote intact.</summary>
    private static CompileCache? Read(string path, byte[] bytes)
    {
        const int hashLength = 32;
        if (bytes.Length < Magic.Length + hashLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            return null;
        var body = bytes.AsSpan(0, bytes.Length - hashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - hashLength)))
            return null;
        using var r = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false), System.Text.Encoding.UTF8);
        r.ReadBytes(Magic.Length);
        if (r.ReadInt32() != Format || r.ReadString() != BuildIdentity)
            return null;
        var parsed = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var files = r.ReadInt32();
        for (var i = 0; i < files; i++)
        {
            var checksum = r.ReadString();
            var length = r.ReadInt32();
            if (length < 0 || length > body.Length)
                return null;
            parsed[checksum] = r.ReadBytes(length);
        }

        var nodes = new Dictionary<string, CachedSql>(StringComparer.Ordinal);
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var node = r.ReadString();
            var fingerprint = r.ReadString();
            nodes[node] = new CachedSql(fingerprint, r.ReadString());
        }

        return r.BaseStream.Position == body.Length ? new CompileCache(path, parsed, nodes) : null;
    }
}
