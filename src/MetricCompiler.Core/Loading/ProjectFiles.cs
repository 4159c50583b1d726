using System.Security.Cryptography;
using MetricCompiler.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// The files of one load: each read once through <see cref="ProjectFileReader"/>, its checksum (SHA-256 of its bytes)
/// kept, and YAML parsed or, when <see cref="IParseCache"/> has the events of the same bytes, replayed.
/// </summary>
internal sealed class ProjectFiles(string root, DiagnosticBag diagnostics, IParseCache? cache)
{
    private readonly Dictionary<string, string> _checksums = new(StringComparer.Ordinal);
    private readonly ProjectFileReader.RealPaths _paths = new();

    public IReadOnlyDictionary<string, string> Checksums => _checksums;

    /// <summary>The file's text, or null after reporting why it cannot be read.</summary>
    public string? ReadText(string relativePath) => Read(relativePath, out _);

    /// <summary>The file's top-level mapping, or null after reporting why there is none.</summary>
    public YamlMappingNode? ReadDocument(string relativePath)
    {
        if (ReadChecked(relativePath) is not ({ } bytes, { } checksum))
            return null;
        // The cache keeps the events of files that decoded and parsed without error: the same bytes need no UTF-8 check.
        if (cache?.Find(checksum) is { } events)
            return ProjectLoader.ParseDocument(new ReplayParser(events), relativePath, diagnostics);
        if (ProjectFileReader.Decode(bytes, relativePath, diagnostics) is not { } text)
            return null;

        var errorsBefore = diagnostics.Items.Count;
        if (cache is null)
            return ProjectLoader.ParseDocument(new Parser(new StringReader(text)), relativePath, diagnostics);
        var recording = new RecordingParser(new Parser(new StringReader(text)));
        var mapping = ProjectLoader.ParseDocument(recording, relativePath, diagnostics);
        if (mapping is not null && diagnostics.Items.Count == errorsBefore)
            cache.Remember(checksum, recording.Events);
        return mapping;
    }

    private string? Read(string relativePath, out string? checksum)
    {
        checksum = null;
        if (ReadChecked(relativePath) is not ({ } bytes, { } sha))
            return null;
        checksum = sha;
        return ProjectFileReader.Decode(bytes, relativePath, diagnostics);
    }

    /// <summary>The file's bytes and their checksum (kept in <see cref="Checksums"/>), or null after reporting why not.</summary>
    private (byte[] Bytes, string Checksum)? ReadChecked(string relativePath)
    {
        if (ProjectFileReader.ReadBytes(root, relativePath, diagnostics, _paths) is not { } bytes)
            return null;
        var checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
        _checksums[relativePath] = checksum;
        return (bytes, checksum);
    }
}
