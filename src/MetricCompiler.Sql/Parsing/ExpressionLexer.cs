using System.Text;

namespace MetricCompiler.Sql.Parsing;

public enum TokenKind
{
    Identifier,
    QuotedIdentifier,
    Number,
    String,
    Symbol,
    End,
}

/// <summary>A token of a user expression; <see cref="Offset"/> is where it starts in the text.</summary>
public sealed record Token(TokenKind Kind, string Text, int Offset)
{
    public bool IsWord(string word) => Kind == TokenKind.Identifier && string.Equals(Text, word, StringComparison.OrdinalIgnoreCase);

    public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;
}

/// <summary>Raised for text that is not part of the expression language; carries the offset of the offending character.</summary>
public sealed class ExpressionSyntaxException(string message, int offset, string? hint = null) : Exception(message)
{
    public int Offset => offset;

    public string? Hint => hint;
}

/// <summary>
/// Splits a user expression into tokens. It knows exactly one way to quote a string (<c>'...'</c>, with <c>''</c> for a
/// quote) and one way to quote a name (<c>"..."</c>, with <c>""</c>); every other quoting or statement device SQL engines
/// accept (<c>[...]</c>, backticks, <c>$$...$$</c>, comments, <c>;</c>) is refused here, so no text can change meaning
/// between our reading and the engine's.
/// </summary>
public static class ExpressionLexer
{
    /// <summary>Longer expressions are refused: a metric filter is a line, not a program.</summary>
    public const int MaxLength = 4000;

    private static readonly string[] Symbols = ["<>", "!=", "<=", ">=", "||", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ","];

    public static IReadOnlyList<Token> Tokenize(string text)
    {
        if (text.Length > MaxLength)
            throw new ExpressionSyntaxException($"the expression is {text.Length:N0} characters long; at most {MaxLength:N0} are accepted", MaxLength);
        var tokens = new List<Token>((text.Length / 4) + 2); // about one token per four characters: grown once at most
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (char.IsControl(c))
                throw new ExpressionSyntaxException($"control character U+{(int)c:X4} is not allowed in an expression", i);
            if (c == '\'')
            {
                var (value, end) = Quoted(text, i, '\'', "unterminated string literal", "close the string with `'`; write `''` for a quote inside it");
                tokens.Add(new Token(TokenKind.String, value, i));
                i = end;
                continue;
            }

            if (c == '"')
            {
                var (value, end) = Quoted(text, i, '"', "unterminated quoted name", "close the name with `\"`");
                if (value.Length == 0)
                    throw new ExpressionSyntaxException("an empty quoted name is not a column", i);
                tokens.Add(new Token(TokenKind.QuotedIdentifier, value, i));
                i = end;
                continue;
            }

            if (char.IsAsciiDigit(c) || c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))
            {
                var end = Number(text, i);
                tokens.Add(new Token(TokenKind.Number, text[i..end], i));
                i = end;
                continue;
            }

            if (char.IsAsciiLetter(c) || c == '_')
            {
                var end = i;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                    end++;
                tokens.Add(new Token(TokenKind.Identifier, text[i..end], i));
                i = end;
                continue;
            }

            if (c == ';')
                throw new ExpressionSyntaxException("a `;` ends a statement; write a single expression", i);
            if (c == '-' && At(text, i + 1) == '-' || c == '/' && At(text, i + 1) == '*')
                throw new ExpressionSyntaxException("comments are not allowed inside an expression", i, "describe the metric with `description:` instead");
            if (c == ':' && At(text, i + 1) == ':')
                throw new ExpressionSyntaxException("`::` casts are not portable", i, "write `cast(x as type)`");
            if (c == '.')
                throw new ExpressionSyntaxException("qualified names are not allowed: columns refer to the source's own columns", i);
            if (c is '[' or ']' or '`' or '$' or '{' or '}' or '\\' or '?' or '@' or '#' or ':' or '^' or '&' or '|' or '~' or '!')
            {
                if (c == '|' && At(text, i + 1) == '|' || c == '!' && At(text, i + 1) == '=')
                {
                    tokens.Add(new Token(TokenKind.Symbol, text.Substring(i, 2), i));
                    i += 2;
                    continue;
                }

                throw new ExpressionSyntaxException($"`{c}` is not part of the expression language", i,
                    c is '[' or '`' or '"' ? "quote a column name with double quotes: \"Order Total\"" : "see docs/spec.md#expressions for what an expression may contain");
            }

            var symbol = Symbol(text, i);
            if (symbol is null)
                throw new ExpressionSyntaxException($"`{c}` is not part of the expression language", i, "see docs/spec.md#expressions for what an expression may contain");
            tokens.Add(new Token(TokenKind.Symbol, symbol, i));
            i += symbol.Length;
        }

        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static char At(string text, int index) => index < text.Length ? text[index] : '\0';

    /// <summary>The first of <see cref="Symbols"/> (two-character ones first) that <paramref name="text"/> has at <paramref name="i"/>, or null.</summary>
    private static string? Symbol(string text, int i)
    {
        foreach (var symbol in Symbols)
            if (string.CompareOrdinal(text, i, symbol, 0, symbol.Length) == 0)
                return symbol;
        return null;
    }

    private static (string Value, int End) Quoted(string text, int start, char quote, string unterminated, string hint)
    {
        // The common case, a quoted text without a doubled quote or a control character, is one substring.
        var close = text.IndexOf(quote, start + 1);
        if (close > 0 && At(text, close + 1) != quote && !text.AsSpan(start + 1, close - start - 1).ContainsAnyInRange('\0', '\u001f')
            && !text.AsSpan(start + 1, close - start - 1).ContainsAnyInRange('\u007f', '\u009f'))
            return (text.Substring(start + 1, close - start - 1), close + 1);
        var value = new StringBuilder();
        var i = start + 1;
        while (true)
        {
            if (i >= text.Length)
                throw new ExpressionSyntaxException(unterminated, start, hint);
            var c = text[i];
            if (c == quote)
            {
                if (At(text, i + 1) == quote)
                {
                    value.Append(quote);
                    i += 2;
                    continue;
                }

                return (value.ToString(), i + 1);
            }

            if (c == '\0' || char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
                throw new ExpressionSyntaxException($"control character U+{(int)c:X4} is not allowed in an expression", i);
            value.Append(c);
            i++;
        }
    }

    private static int Number(string text, int start)
    {
        var i = start;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (At(text, i) == '.')
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        }

        if (At(text, i) is 'e' or 'E' && (char.IsAsciiDigit(At(text, i + 1)) || At(text, i + 1) is '+' or '-' && char.IsAsciiDigit(At(text, i + 2))))
        {
            i += 2;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        }

        if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_' || text[i] == '.'))
            throw new ExpressionSyntaxException($"`{text[start..(i + 1)]}` is not a number", start);
        return i;
    }
}
