using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Compiler.Tests.Docs;

/// <summary>
/// The reference table of docs/diagnostics.md is generated from the descriptors, never kept by hand: the committed
/// table must be what <see cref="DiagnosticReference.Markdown"/> gives (<c>METRICC_UPDATE_GOLDEN=1</c> rewrites it).
/// </summary>
public sealed class DiagnosticsReferenceTests
{
    private const string DiagnosticsPath = "docs/diagnostics.md";

    [Fact]
    public void The_committed_reference_is_the_one_generated_from_the_descriptors()
    {
        var path = Path.Combine(MarkdownDocument.RepositoryRoot(), DiagnosticsPath);
        var committed = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        var updated = DiagnosticReference.Update(committed);
        Assert.True(updated is not null, $"{DiagnosticsPath} has no block between `{DiagnosticReference.Begin}` and `{DiagnosticReference.End}`");

        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1" && updated != committed)
            File.WriteAllText(path, updated);
        else
            Assert.True(updated == committed,
                $"{DiagnosticsPath}: the reference table differs from the descriptors; regenerate it with " +
                "`METRICC_UPDATE_GOLDEN=1 dotnet test tests/MetricCompiler.Compiler.Tests -c Release --filter DiagnosticsReference` and review the diff");
    }

    [Fact]
    public void The_generated_table_has_one_row_per_descriptor_linking_to_its_section()
    {
        var table = DiagnosticReference.Markdown();
        var rows = table.Split('\n').Where(l => l.StartsWith("| [MC", StringComparison.Ordinal)).ToList();
        var descriptors = DiagnosticReference.All();
        Assert.Equal(descriptors.Count, rows.Count);
        Assert.Contains("| [MC1002](#mc1002-unknown-key) | error | Unknown key | A mapping holds a key that is not allowed there", table);
        Assert.Contains("| [MC2009](#mc2009-metric-cannot-be-computed-on-the-targets-engine) | error |", table);
        Assert.Contains("| [MC3006](#mc3006-metric-listed-twice-in-one-experiment) | warning |", table);

        // Every link lands on a heading of the document (GitHub's anchors: lower case, punctuation dropped, spaces to -).
        var headings = MarkdownDocument.Load(DiagnosticsPath).ProseLines
            .Where(l => l.StartsWith("## ", StringComparison.Ordinal))
            .Select(l => Regex.Replace(l[3..].Trim().ToLowerInvariant(), "[^a-z0-9 _-]", "").Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);
        var dangling = descriptors.Where(d => !headings.Contains(DiagnosticReference.Anchor(d))).Select(d => d.Code).ToList();
        Assert.True(dangling.Count == 0, $"links without a `## <code> <title>` heading in {DiagnosticsPath}: {string.Join(", ", dangling)}");
    }

    [Fact]
    public void Every_descriptor_says_when_it_is_reported_and_how_to_fix_it()
    {
        var incomplete = DiagnosticReference.All()
            .Where(d => string.IsNullOrWhiteSpace(d.When) || string.IsNullOrWhiteSpace(d.Fix))
            .Select(d => d.Code)
            .ToList();
        Assert.True(incomplete.Count == 0, $"descriptors without `When` or `Fix` (src/MetricCompiler.Core/Diagnostics/DiagnosticDescriptor.cs): {string.Join(", ", incomplete)}");
    }

    [Fact]
    public void The_severity_of_each_descriptor_is_the_one_the_code_reports_it_with()
    {
        // Read the sources: every `.Warning(DiagnosticCodes.X` and every error report of a code (Error, Report, or a
        // Diagnostic built with DiagnosticSeverity.Error from X.Code).
        var sources = Directory.EnumerateFiles(Path.Combine(MarkdownDocument.RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();
        var fields = typeof(DiagnosticCodes).GetFields().Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .ToDictionary(f => f.Name, f => (DiagnosticDescriptor)f.GetValue(null)!, StringComparer.Ordinal);
        var warned = Names(sources, @"\.Warning\(\s*DiagnosticCodes\.(\w+)");
        var errored = Names(sources, @"\.(?:Error|Report)\(\s*DiagnosticCodes\.(\w+)");
        Assert.NotEmpty(warned);
        Assert.NotEmpty(errored);

        var wrong = new List<string>();
        foreach (var (name, d) in fields)
        {
            if (warned.Contains(name) && d.Severity == DescriptorSeverity.Error)
                wrong.Add($"{d.Code} ({name}) is reported as a warning but declared {d.Severity}");
            if (errored.Contains(name) && d.Severity == DescriptorSeverity.Warning)
                wrong.Add($"{d.Code} ({name}) is reported as an error but declared {d.Severity}");
            if (d.Severity == DescriptorSeverity.ErrorOrWarning && !(warned.Contains(name) && errored.Contains(name)))
                wrong.Add($"{d.Code} ({name}) is declared {d.Severity} but the sources report it one way only");
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static HashSet<string> Names(IEnumerable<string> sources, string pattern) =>
        sources.SelectMany(s => Regex.Matches(s, pattern).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
}
