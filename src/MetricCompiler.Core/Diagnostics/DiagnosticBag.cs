namespace MetricCompiler.Core.Diagnostics;

/// <summary>Collects every diagnostic of a run so that all problems are reported at once.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Any(d => d.IsError);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void Error(DiagnosticDescriptor descriptor, SourceLocation location, string message, string? hint = null) =>
        _items.Add(new Diagnostic(descriptor.Code, DiagnosticSeverity.Error, message, location, hint));

    public void Warning(DiagnosticDescriptor descriptor, SourceLocation location, string message, string? hint = null) =>
        _items.Add(new Diagnostic(descriptor.Code, DiagnosticSeverity.Warning, message, location, hint));

    /// <summary>Diagnostics ordered by file, line and column, so output is stable from run to run.</summary>
    public IReadOnlyList<Diagnostic> Sorted() =>
        _items.OrderBy(d => d.Location.File, StringComparer.Ordinal)
            .ThenBy(d => d.Location.Line)
            .ThenBy(d => d.Location.Column)
            .ThenBy(d => d.Code, StringComparer.Ordinal)
            .ToList();
}
