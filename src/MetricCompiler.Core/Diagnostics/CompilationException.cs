namespace MetricCompiler.Core.Diagnostics;

/// <summary>Thrown when a stage cannot continue; carries the diagnostics that explain why.</summary>
public sealed class CompilationException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception(diagnostics.Count == 0 ? "compilation failed" : diagnostics[0].Format())
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
