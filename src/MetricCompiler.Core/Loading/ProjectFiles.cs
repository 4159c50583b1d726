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

    public IReadOnlyDictionary<string, string> Checksums => _checksums;

    /// <summary>The file's text, or null after reporting why it cannot be read.</summary>
    public string? ReadText(string relativePath) => Read(relativePath, out _);

    /// <summary>The file's top-level mapping, or null after reporting why there is none.</summary>
    public YamlMappingNode? ReadDocument(string relativePath)
    {
        var text = Read(relativePath, out var checksum);
        if (text is null)
            return null;
        if (cache?.Find(checksum!) is { } events)
            return ProjectLoader.ParseDocument(new ReplayParser(events), relativePath, diagnostics);

        var errorsBefore = diagnostics.Items.Count;
        if (cache is null)
            return ProjectLoader.ParseDocument(new Parser(new StringReader(text)), relativePath, diagnostics);
        var recording = new RecordingParser(new Parser(new StringReader(text)));
        var mapping = ProjectLoader.ParseDocument(recording, relativePath, diagnostics);
        if (mapping is not null && diagnostics.Items.Count == errorsBefore)
            cache.Remember(checksum!, recording.Events);
        return mapping;
    }

    private string? Read(string relativePath, out string? checksum)
    {
        checksum = null;
        if (ProjectFileReader.ReadBytes(root, relativePath, diagnostics) is not { } bytes)
            return null;
        checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
        _checksums[relativePath] = checksum;
        return ProjectFileReader.Decode(bytes, relativePath, diagnostics);
    }
}
