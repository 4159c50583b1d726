namespace MetricCompiler.Core.Diagnostics;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>One problem found in a project: a stable code, a severity, where it is, what is wrong and how to fix it.</summary>
public sealed record Diagnostic(string Code, DiagnosticSeverity Severity, string Message, SourceLocation Location, string? Hint = null)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    /// <summary>Compiler-style one-liner (<c>file:line:col: error MC2002: message</c>) followed by an indented hint.</summary>
    public string Format()
    {
        var severity = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var line = $"{Location}: {severity} {Code}: {Message}";
        return Hint is null ? line : $"{line}{Environment.NewLine}    hint: {Hint}";
    }

    public override string ToString() => Format();
}
