using System.Text;

namespace MetricCompiler.Core.Expressions;

public enum SnippetPartKind
{
    /// <summary>SQL text passed through as written: operators, literals, keywords, function names.</summary>
    Text,
    /// <summary>A reference to a column of the metric's source; renderers qualify and quote it.</summary>
    Column,
}

/// <summary>A piece of a user-written SQL expression; <see cref="Offset"/> is its position in the original text.</summary>
public sealed record SnippetPart(SnippetPartKind Kind, string Text, int Offset);

/// <summary>A user expression split into SQL text and column references, or the reason it is not a single expression.</summary>
public sealed record ScannedSnippet(IReadOnlyList<SnippetPart> Parts, string? Error, int ErrorOffset)
{
    public IEnumerable<SnippetPart> Columns => Parts.Where(p => p.Kind == SnippetPartKind.Column);
}

/// <summary>
/// Scans the SQL expressions users write in <c>expr</c> and <c>filter</c>. It finds the column names they refer to (so
/// validation can check them against the source and renderers can qualify them), and rejects anything that is not a
/// single expression over one row: statement separators, comments, subqueries and qualified names.
/// </summary>
public static class SnippetScanner
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "in", "is", "null", "like", "ilike", "between", "case", "when", "then", "else", "end",
        "true", "false", "as", "distinct", "interval", "escape", "current_date", "current_timestamp",
        // type names, which follow `as` inside cast(...)
        "integer", "int", "bigint", "smallint", "real", "double", "precision", "float", "numeric", "decimal",
        "varchar", "char", "text", "date", "timestamp", "boolean",
    };

    private static readonly HashSet<string> Forbidden = new(StringComparer.OrdinalIgnoreCase)
    {
        "select", "from", "where", "join", "union", "insert", "update", "delete", "drop", "create", "alter", "with",
    };

    public static ScannedSnippet Scan(string text)
    {
        var parts = new List<SnippetPart>();
        var pending = new StringBuilder();
        var pendingStart = 0;
        var depth = 0;

        void Flush(int at)
        {
            if (pending.Length > 0)
                parts.Add(new SnippetPart(SnippetPartKind.Text, pending.ToString(), pendingStart));
            pending.Clear();
            pendingStart = at;
        }

        ScannedSnippet Fail(string message, int offset) => new(parts, message, offset);

        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == ';')
                return Fail("a `;` ends a statement; write a single expression", i);
            if (c == '-' && i + 1 < text.Length && text[i + 1] == '-' || c == '/' && i + 1 < text.Length && text[i + 1] == '*')
                return Fail("comments are not allowed inside an expression", i);
            if (c == '\'')
            {
                var end = i + 1;
                while (true)
                {
                    if (end >= text.Length)
                        return Fail("unterminated string literal", i);
                    if (text[end] == '\'')
                    {
                        if (end + 1 < text.Length && text[end + 1] == '\'') { end += 2; continue; }
                        break;
                    }

                    end++;
                }

                pending.Append(text, i, end - i + 1);
                i = end + 1;
                continue;
            }

            if (c == '"')
            {
                var end = text.IndexOf('"', i + 1);
                if (end < 0)
                    return Fail("unterminated quoted name", i);
                Flush(i);
                parts.Add(new SnippetPart(SnippetPartKind.Column, text[(i + 1)..end], i));
                pendingStart = end + 1;
                i = end + 1;
                if (i < text.Length && text[i] == '.')
                    return Fail("qualified names are not allowed: columns refer to the metric's own source", i);
                continue;
            }

            if (char.IsDigit(c) || c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1]))
            {
                var end = i;
                while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '.'))
                    end++;
                pending.Append(text, i, end - i);
                i = end;
                continue;
            }

            if (char.IsLetter(c) || c == '_')
            {
                var end = i;
                while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
                    end++;
                var word = text[i..end];
                var next = end;
                while (next < text.Length && char.IsWhiteSpace(text[next]))
                    next++;
                if (Forbidden.Contains(word))
                    return Fail($"`{word}` is not allowed: write an expression over the source's columns, not a query", i);
                if (next < text.Length && text[next] == '.' && (next + 1 >= text.Length || !char.IsDigit(text[next + 1])))
                    return Fail("qualified names are not allowed: columns refer to the metric's own source", i);
                var isFunction = next < text.Length && text[next] == '(';
                if (isFunction || Keywords.Contains(word))
                {
                    pending.Append(word);
                }
                else
                {
                    Flush(i);
                    parts.Add(new SnippetPart(SnippetPartKind.Column, word, i));
                    pendingStart = end;
                }

                i = end;
                continue;
            }

            if (c == '(') depth++;
            if (c == ')' && --depth < 0)
                return Fail("unbalanced `)`", i);
            pending.Append(c);
            i++;
        }

        if (depth != 0)
            return Fail("unbalanced `(`", text.Length);
        Flush(text.Length);
        if (parts.All(p => p.Kind == SnippetPartKind.Text && string.IsNullOrWhiteSpace(p.Text)))
            return Fail("the expression is empty", 0);
        return new ScannedSnippet(parts, null, 0);
    }
}
