using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// The outcome of loading a project: the definitions as written (null when the files could not be read), the bound
/// project (null unless binding found no error) and every diagnostic.
/// </summary>
public sealed record LoadResult(ProjectDefinition? Project, IReadOnlyList<Diagnostic> Diagnostics, BoundProject? Bound = null)
{
    public bool Succeeded => Bound is not null && !Diagnostics.Any(d => d.IsError);

    /// <summary>The SHA-256 (lower-case hex) of the bytes of every file the load read, by its path relative to the project folder.</summary>
    public IReadOnlyDictionary<string, string> FileChecksums { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>
/// Loads <c>metrics.yml</c> and the files it includes into a <see cref="ProjectDefinition"/>, keeping the file, line and
/// column of every definition, then validates it. Problems are collected, never thrown.
/// </summary>
public static class ProjectLoader
{
    public const string DefaultProjectFile = "metrics.yml";
    public const int SupportedVersion = 1;

    /// <param name="vars">Values for <c>{{ var('x') }}</c> in SQL models and tests (<c>--vars</c>).</param>
    /// <param name="parseCache">YAML events of files parsed before (<c>metricc compile</c>'s cache); null: every file is parsed.</param>
    public static LoadResult Load(string path, IReadOnlyDictionary<string, object?>? vars = null, IParseCache? parseCache = null)
    {
        var diagnostics = new DiagnosticBag();
        var projectFile = ProjectFile(path);
        var root = Path.GetDirectoryName(Path.GetFullPath(projectFile))!;
        var displayName = Path.GetFileName(projectFile);
        if (!File.Exists(projectFile))
        {
            diagnostics.Error(DiagnosticCodes.FileNotFound, new SourceLocation(displayName, 0, 0),
                $"project file `{projectFile}` does not exist", "run metricc from the folder that holds metrics.yml, or pass --project-dir");
            return new LoadResult(null, diagnostics.Sorted());
        }

        var files = new ProjectFiles(root, diagnostics, parseCache);
        var builder = new ProjectBuilder(root, diagnostics, vars ?? new Dictionary<string, object?>(), files);
        var rootMapping = files.ReadDocument(displayName);
        if (rootMapping is null)
            return new LoadResult(null, diagnostics.Sorted()) { FileChecksums = files.Checksums };

        builder.ReadProjectFile(displayName, rootMapping);
        var project = builder.Build(displayName);
        var bound = ProjectValidator.Validate(project, diagnostics);
        return new LoadResult(project, diagnostics.Sorted(), bound) { FileChecksums = files.Checksums };
    }

    /// <summary>The project file a <c>--project-dir</c> (a folder, or the file itself) names.</summary>
    public static string ProjectFile(string path) => Directory.Exists(path) ? Path.Combine(path, DefaultProjectFile) : path;

    /// <summary>The folder of the project file a <c>--project-dir</c> names.</summary>
    public static string RootOf(string path) => Path.GetDirectoryName(Path.GetFullPath(ProjectFile(path)))!;

    /// <summary>
    /// Parses one file's text; a syntax error becomes MC1001 at its position, a file over the nesting or alias limits
    /// MC1012. <paramref name="source"/> gives the events (a YamlDotNet parser over the text, or replayed ones); null
    /// when the file is not a mapping or did not parse.
    /// </summary>
    internal static YamlMappingNode? ParseDocument(IParser source, string relativePath, DiagnosticBag diagnostics)
    {
        var stream = new YamlStream();
        var parser = new GuardedParser(source);
        try
        {
            stream.Load(parser);
        }
        catch (YamlLimitException e)
        {
            diagnostics.Error(DiagnosticCodes.YamlLimit, Position(relativePath, e.At), e.Message, e.Hint);
            return null;
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).Trim();
            var start = e.Start.Line > 0 ? e.Start : parser.LastPosition;
            diagnostics.Error(DiagnosticCodes.YamlSyntax, Position(relativePath, start),
                $"YAML syntax error: {StripPosition(message)}", "check indentation and quoting at this position; quote values that contain `: ` or start with a special character");
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet throws these (not YamlException) for some malformed input, such as a flow mapping cut off at
            // the end of a block list; the position is the last event the parser produced before it failed.
            diagnostics.Error(DiagnosticCodes.YamlSyntax, Position(relativePath, parser.LastPosition),
                $"YAML syntax error: the file ends inside an unfinished structure or is malformed after this position ({e.GetType().Name})",
                "check for an unclosed `{`, `[` or quote after this position");
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return new YamlMappingNode();
        if (stream.Documents[0].RootNode is YamlMappingNode mapping)
            return mapping;
        var node = stream.Documents[0].RootNode;
        diagnostics.Error(DiagnosticCodes.WrongNodeType, new SourceLocation(relativePath, (int)node.Start.Line, (int)node.Start.Column),
            $"`{relativePath}` must be a mapping of top-level keys (version, sources, metrics, experiments, ...)");
        return null;
    }

    private static SourceLocation Position(string file, Mark mark) =>
        new(file, Math.Max(1, (int)mark.Line), Math.Max(1, (int)mark.Column));

    private static string StripPosition(string message)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is reported separately.
        var index = message.LastIndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && index >= 0 ? message[(index + 3)..] : message;
    }
}
