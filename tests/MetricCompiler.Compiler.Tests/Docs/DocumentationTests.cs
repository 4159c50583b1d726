using System.Reflection;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;

namespace MetricCompiler.Compiler.Tests.Docs;

/// <summary>Keeps docs/spec.md and docs/diagnostics.md in step with the loader, the validator and the diagnostic codes.</summary>
public sealed class DocumentationTests
{
    private const string SpecPath = "docs/spec.md";
    private const string DiagnosticsPath = "docs/diagnostics.md";
    private const string CompleteProjectMarker = "# complete-project";
    private const string InvalidMarker = "# invalid";

    /// <summary>
    /// Every key the loader reads: <see cref="YamlKeys"/> (the loader's own table, mapping by mapping), plus the target
    /// settings that src/MetricCompiler.Adapters/AdapterFactory.cs reads (sqlite and duckdb `path`; postgres `host`,
    /// `port`, `database`, `user`, `schema`), which a target holds as free-form settings; less the keys it reads only to
    /// refuse them (<see cref="YamlKeys.Refused"/>).
    /// </summary>
    private static readonly string[] LoaderKeys =
        [.. YamlKeys.All().Except(YamlKeys.Refused), "path", "host", "port", "database", "user", "schema"];

    /// <summary>
    /// Every word of a fixed vocabulary, from the dictionaries of ProjectBuilder.cs (ColumnTypes, Aggregations,
    /// Directions, Corrections, Methods, PrimaryRules, GuardrailRules) and ProjectValidator.Adapters.
    /// </summary>
    private static readonly string[] LoaderValues =
    [
        "string", "integer", "number", "boolean", "timestamp",
        "count", "sum", "count_distinct", "average", "proportion", "ratio",
        "increase", "decrease",
        "none", "holm", "bh",
        "frequentist", "sequential", "bayesian",
        "all", "any",
        "no_breach", "non_inferior",
        "sqlite", "postgres", "trino", "snowflake",
        // metric types and session measures (MetricTypes, SessionsMetricType.Measures) and the percentile aggregation
        "retention", "sessions", "duration", "events_per_session", "bounce_rate", "percentile",
    ];

    /// <summary>Codes that mean a YAML block is malformed or uses a key or value the loader does not know.</summary>
    private static readonly string[] ShapeCodes = ["MC1001", "MC1002", "MC1003", "MC1005"];

    private static readonly Regex CodeHeading = new(@"^##\s+(MC\d{4})\b(.*)$", RegexOptions.CultureInvariant);

    [Fact]
    public void Every_declared_diagnostic_code_has_a_heading_and_every_heading_is_a_declared_code()
    {
        var declared = DeclaredCodes();
        Assert.NotEmpty(declared);

        var headings = MarkdownDocument.Load(DiagnosticsPath).ProseLines
            .Select(line => CodeHeading.Match(line))
            .Where(m => m.Success)
            .Select(m => (Code: m.Groups[1].Value, Title: m.Groups[2].Value))
            .ToList();

        var duplicates = headings.GroupBy(h => h.Code).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{DiagnosticsPath} has more than one heading for: {string.Join(", ", duplicates)}");

        var documented = headings.Select(h => h.Code).ToHashSet(StringComparer.Ordinal);
        var missing = declared.Keys.Where(code => !documented.Contains(code)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"{DiagnosticsPath} has no `## <code>` heading for: {string.Join(", ", missing)}");

        var unknown = documented.Where(code => !declared.ContainsKey(code)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unknown.Count == 0, $"{DiagnosticsPath} documents codes that DiagnosticCodes does not declare: {string.Join(", ", unknown)}");

        var wrongTitles = headings
            .Where(h => declared.TryGetValue(h.Code, out var title) && !h.Title.Contains(title, StringComparison.Ordinal))
            .Select(h => $"{h.Code} (expected the title \"{declared[h.Code]}\", found \"{h.Title.Trim()}\")")
            .ToList();
        Assert.True(wrongTitles.Count == 0, $"{DiagnosticsPath} headings without their descriptor title: {string.Join("; ", wrongTitles)}");
    }

    [Fact]
    public void Every_complete_project_example_in_the_spec_loads_without_errors()
    {
        var blocks = MarkdownDocument.Load(SpecPath).YamlBlocks.Where(b => b.FirstLine == CompleteProjectMarker).ToList();
        Assert.True(blocks.Count >= 5, $"{SpecPath} should hold several `{CompleteProjectMarker}` examples, found {blocks.Count}");

        var failures = new List<string>();
        foreach (var block in blocks)
        {
            var result = LoadAsProject(block);
            var errors = result.Diagnostics.Where(d => d.IsError).ToList();
            if (result.Project is null || errors.Count > 0)
                failures.Add($"block at {SpecPath}:{block.Line}:\n  " + string.Join("\n  ", errors.Select(e => e.Format())));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Every_yaml_example_in_the_spec_uses_only_keys_and_values_the_loader_accepts()
    {
        // Fragments are not whole projects (they may miss `version` or refer to definitions shown elsewhere), but they
        // must parse, and every key and fixed value in them must be one the loader knows. Blocks marked `# invalid`
        // show mistakes on purpose and must really be rejected.
        var failures = new List<string>();
        foreach (var block in MarkdownDocument.Load(SpecPath).YamlBlocks)
        {
            var diagnostics = LoadAsProject(block).Diagnostics;
            if (block.FirstLine.StartsWith(InvalidMarker, StringComparison.Ordinal))
            {
                if (!diagnostics.Any(d => d.IsError))
                    failures.Add($"block at {SpecPath}:{block.Line} is marked `{InvalidMarker}` but loads without errors");
                continue;
            }

            var shape = diagnostics.Where(d => ShapeCodes.Contains(d.Code)).ToList();
            if (shape.Count > 0)
                failures.Add($"block at {SpecPath}:{block.Line}:\n  " + string.Join("\n  ", shape.Select(d => d.Format())));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Every_key_the_loader_accepts_is_documented_with_an_example()
    {
        var spec = MarkdownDocument.Load(SpecPath);
        var yaml = spec.YamlBlocks.Where(b => !b.FirstLine.StartsWith(InvalidMarker, StringComparison.Ordinal)).Select(b => b.Text).ToList();
        var spans = spec.InlineCodeSpans();

        var noExample = LoaderKeys
            .Where(key => !yaml.Any(text => Regex.IsMatch(text, $@"(?<![\w]){Regex.Escape(key)}:")))
            .ToList();
        Assert.True(noExample.Count == 0, $"{SpecPath} has no ```yaml example using these keys: {string.Join(", ", noExample)}");

        var notNamed = LoaderKeys
            .Where(key => !spans.Any(span => ContainsWord(span, key)))
            .ToList();
        Assert.True(notNamed.Count == 0, $"{SpecPath} never names these keys in `backticks`: {string.Join(", ", notNamed)}");
    }

    [Fact]
    public void Every_allowed_value_is_documented()
    {
        var spec = MarkdownDocument.Load(SpecPath);
        var texts = spec.InlineCodeSpans().Concat(spec.YamlBlocks.Select(b => b.Text)).ToList();
        var missing = LoaderValues.Where(value => !texts.Any(text => ContainsWord(text, value))).ToList();
        Assert.True(missing.Count == 0, $"{SpecPath} never shows these allowed values in `backticks` or a yaml block: {string.Join(", ", missing)}");
    }

    private static bool ContainsWord(string text, string word) =>
        Regex.IsMatch(text, $@"(?<![\w]){Regex.Escape(word)}(?![\w])");

    /// <summary>Code -> title of every public static DiagnosticDescriptor field of DiagnosticCodes.</summary>
    private static Dictionary<string, string> DeclaredCodes() =>
        typeof(DiagnosticCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToDictionary(d => d.Code, d => d.Title, StringComparer.Ordinal);

    /// <summary>Writes the block as metrics.yml in a fresh temp folder and loads it.</summary>
    private static LoadResult LoadAsProject(FencedBlock block)
    {
        var root = Path.Combine(Path.GetTempPath(), "metricc-docs-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            File.WriteAllText(Path.Combine(root, ProjectLoader.DefaultProjectFile), block.Text);
            return ProjectLoader.Load(root);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
