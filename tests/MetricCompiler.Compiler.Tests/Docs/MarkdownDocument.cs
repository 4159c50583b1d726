using System.Text;
using System.Text.RegularExpressions;

namespace MetricCompiler.Compiler.Tests.Docs;

/// <summary>A fenced code block of a Markdown file: its info string (e.g. <c>yaml</c>), its text and the line it starts on.</summary>
public sealed record FencedBlock(string Info, string Text, int Line)
{
    /// <summary>The first line of the block, trimmed (the marker comment such as <c># complete-project</c>).</summary>
    public string FirstLine => Text.Split('\n')[0].Trim();
}

/// <summary>Just enough Markdown reading for the documentation tests: fenced blocks, headings and inline code spans.</summary>
public sealed class MarkdownDocument
{
    private static readonly Regex InlineCode = new(@"(`+)(.+?)\1", RegexOptions.CultureInvariant);

    private MarkdownDocument(string path, IReadOnlyList<FencedBlock> blocks, IReadOnlyList<string> proseLines)
    {
        Path = path;
        Blocks = blocks;
        ProseLines = proseLines;
    }

    public string Path { get; }

    public IReadOnlyList<FencedBlock> Blocks { get; }

    /// <summary>Every line outside fenced blocks.</summary>
    public IReadOnlyList<string> ProseLines { get; }

    public IEnumerable<FencedBlock> YamlBlocks => Blocks.Where(b => b.Info == "yaml");

    /// <summary>The text of every inline code span outside fenced blocks.</summary>
    public IReadOnlyList<string> InlineCodeSpans() =>
        ProseLines.SelectMany(line => InlineCode.Matches(line).Select(m => m.Groups[2].Value.Trim())).ToList();

    /// <summary>Loads a file of the repository, e.g. <c>docs/spec.md</c>.</summary>
    public static MarkdownDocument Load(string relativePath)
    {
        var path = System.IO.Path.Combine(RepositoryRoot(), relativePath);
        Assert.True(File.Exists(path), $"{relativePath} does not exist (looked for {path})");
        return Parse(path, File.ReadAllText(path));
    }

    public static MarkdownDocument Parse(string path, string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = new List<FencedBlock>();
        var prose = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (!trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                prose.Add(lines[i]);
                continue;
            }

            var indent = lines[i].Length - trimmed.Length;
            var info = trimmed[3..].Trim();
            var start = i + 1;
            var body = new StringBuilder();
            i++;
            while (i < lines.Length && lines[i].Trim() != "```")
            {
                var line = lines[i];
                var cut = Math.Min(indent, line.Length - line.TrimStart().Length);
                body.Append(line[cut..]).Append('\n');
                i++;
            }

            Assert.True(i < lines.Length, $"{path}: the code block opened at line {start} is never closed");
            blocks.Add(new FencedBlock(info, body.ToString(), start + 1));
        }

        return new MarkdownDocument(path, blocks, prose);
    }

    /// <summary>The folder holding MetricCompiler.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "MetricCompiler.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"MetricCompiler.sln not found above {AppContext.BaseDirectory}");
    }
}
