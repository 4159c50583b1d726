namespace MetricCompiler.Core.Diagnostics;

/// <summary>A position in a project file. Line and column are 1-based; the path is relative to the project root.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public static SourceLocation None { get; } = new("<unknown>", 0, 0);

    public SourceLocation WithColumnOffset(int offset) => this with { Column = Column + offset };

    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
