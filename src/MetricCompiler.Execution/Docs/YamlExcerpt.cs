using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Execution.Docs;

/// <summary>
/// The YAML text of one definition as written, for the docs site to show (escaped there): the lines from the
/// definition's first key to the last line indented under it. It reads text only; what the text means comes from the
/// bound project.
/// </summary>
public sealed class YamlExcerpt(string rootDirectory)
{
    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);

    public string? Of(SourceLocation location)
    {
        if (location.Line < 1 || Lines(location.File) is not { } lines || location.Line > lines.Length)
            return null;
        var first = location.Line - 1;
        var indent = Math.Max(0, location.Column - 1);
        var last = first;
        for (var i = first + 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0)
                continue;
            if (line.Length - line.TrimStart(' ').Length < indent)
                break;
            last = i;
        }

        return string.Join("\n", lines[first..(last + 1)].Select(l => l.TrimEnd())) + "\n";
    }

    private string[]? Lines(string file)
    {
        if (_files.TryGetValue(file, out var cached))
            return cached;
        string[]? lines;
        try
        {
            lines = File.ReadAllText(Path.Combine(rootDirectory, file)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = null;
        }

        _files[file] = lines;
        return lines;
    }
}
