using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;

namespace MetricCompiler.Core.Expressions;

/// <summary>
/// Reads the expressions users write (<c>expr</c>, <c>filter</c>) into the SQL model and binds their columns to the
/// columns a source declares. Nothing a user writes reaches a warehouse as text: the renderer writes SQL from the bound
/// model, per dialect.
/// </summary>
public static class UserExpressions
{
    /// <summary>Parses and binds <paramref name="snippet"/>; reports every problem at its position and returns null if any.</summary>
    public static SqlExpr? Bind(SqlSnippet snippet, SourceDefinition source, string context, DiagnosticBag diagnostics)
    {
        ParsedExpression parsed;
        try
        {
            parsed = ExpressionParser.Parse(snippet.Text);
        }
        catch (ExpressionSyntaxException e)
        {
            diagnostics.Error(DiagnosticCodes.ExpressionSyntax, Position(snippet, e.Offset), $"{context}: {e.Message}",
                e.Hint is null ? $"in `{Excerpt(snippet.Text)}`" : $"{e.Hint} (in `{Excerpt(snippet.Text)}`)");
            return null;
        }

        // Column names are unique ignoring case (validation checks it), so a reference resolves by its text alone.
        var declared = new Dictionary<string, string>(parsed.Columns.Count, StringComparer.OrdinalIgnoreCase);
        var ok = true;
        foreach (var reference in parsed.Columns)
        {
            var column = reference.Quoted
                ? source.Columns.FirstOrDefault(c => c.Name == reference.Name)
                : source.FindColumn(reference.Name);
            if (column is null)
            {
                diagnostics.Error(DiagnosticCodes.UnknownColumn, Position(snippet, reference.Offset),
                    $"{context}: `{reference.Name}` is not a column of source `{source.Name}`",
                    NameSuggester.Hint(reference.Name, source.Columns.Select(c => c.Name).ToList(), "column"));
                ok = false;
            }
            else
            {
                declared[reference.Name] = column.Name;
            }
        }

        return ok
            ? SqlExprRewriter.Rewrite(parsed.Expression, node => node is ColumnExpr c ? c with { Name = declared[c.Name] } : node)
            : null;
    }

    /// <summary>The bound expression of a snippet that validation accepted.</summary>
    public static SqlExpr Resolve(SqlSnippet snippet, SourceDefinition source)
    {
        var diagnostics = new DiagnosticBag();
        return Bind(snippet, source, "expression", diagnostics)
            ?? throw new InvalidOperationException($"an invalid expression reached planning: {string.Join("; ", diagnostics.Sorted().Select(d => d.Message))}");
    }

    /// <summary>The file position of an offset inside the snippet's text, following its line breaks.</summary>
    public static SourceLocation Position(SqlSnippet snippet, int offset)
    {
        var text = snippet.Text;
        offset = Math.Clamp(offset, 0, text.Length);
        var line = 0;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return line == 0
            ? snippet.Location.WithColumnOffset(offset)
            : snippet.Location with { Line = snippet.Location.Line + line, Column = 1 + offset - lineStart };
    }

    private static string Excerpt(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
