using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace MetricCompiler.Core.Diagnostics;

/// <summary>
/// The reference table of docs/diagnostics.md, generated from <see cref="DiagnosticCodes"/>: every code with its
/// severity, title, when it is reported and how to fix it, each linked to its section. The text between
/// <see cref="Begin"/> and <see cref="End"/> is this output; a test regenerates it and fails when the file differs.
/// </summary>
public static partial class DiagnosticReference
{
    public const string Begin = "<!-- BEGIN diagnostics reference: generated from src/MetricCompiler.Core/Diagnostics/DiagnosticDescriptor.cs; do not edit by hand -->";
    public const string End = "<!-- END diagnostics reference -->";

    /// <summary>Every public descriptor of <see cref="DiagnosticCodes"/>, in code order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All() =>
        typeof(DiagnosticCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Code, StringComparer.Ordinal)
            .ToList();

    /// <summary>The generated block, markers included, ending with a newline.</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append(Begin).Append('\n');
        sb.Append("To regenerate after changing a descriptor: `METRICC_UPDATE_GOLDEN=1 dotnet test tests/MetricCompiler.Compiler.Tests -c Release --filter DiagnosticsReference`.\n\n");
        sb.Append("| code | severity | title | reported when | how to fix it |\n");
        sb.Append("| --- | --- | --- | --- | --- |\n");
        foreach (var d in All())
            sb.Append($"| [{d.Code}](#{Anchor(d)}) | {Severity(d.Severity)} | {Cell(d.Title)} | {Cell(d.When)} | {Cell(d.Fix)} |\n");
        sb.Append(End).Append('\n');
        return sb.ToString();
    }

    /// <summary>The document with its generated block replaced by <see cref="Markdown"/>; null when it has no (or a broken) block.</summary>
    public static string? Update(string document)
    {
        var start = document.IndexOf(Begin, StringComparison.Ordinal);
        var end = document.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start)
            return null;
        var after = end + End.Length;
        if (after < document.Length && document[after] == '\n')
            after++;
        return document[..start] + Markdown() + document[after..];
    }

    /// <summary>The anchor GitHub gives the heading <c>## MC1001 YAML syntax error</c>.</summary>
    public static string Anchor(DiagnosticDescriptor d) =>
        NotInSlug().Replace($"{d.Code} {d.Title}".ToLowerInvariant(), "").Replace(' ', '-');

    private static string Severity(DescriptorSeverity severity) => severity switch
    {
        DescriptorSeverity.Warning => "warning",
        DescriptorSeverity.ErrorOrWarning => "error or warning",
        _ => "error",
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    [GeneratedRegex(@"[^a-z0-9 _-]")]
    private static partial Regex NotInSlug();
}
