using System.Globalization;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Parsing;

/// <summary>A column an expression names, as written (unquoted names are matched case-insensitively).</summary>
public sealed record ColumnReference(string Name, bool Quoted, int Offset);

/// <summary>A parsed expression: its SQL model (columns unqualified) and every column it names.</summary>
public sealed record ParsedExpression(SqlExpr Expression, IReadOnlyList<ColumnReference> Columns);

/// <summary>
/// Reads the portable expression language of <c>expr</c> and <c>filter</c> (docs/spec.md#expressions) into the SQL model:
/// columns, literals, arithmetic, comparisons, <c>and</c>/<c>or</c>/<c>not</c>, <c>in</c>, <c>between</c>,
/// <c>like</c>/<c>ilike</c>, <c>is [not] null</c>, <c>case</c>, <c>cast</c> and <see cref="PortableFunctions"/>. Anything
/// else is refused with its offset, so user text never reaches a warehouse as text: the renderer writes SQL from the model.
/// </summary>
public sealed class ExpressionParser
{
    /// <summary>Deeper nesting is refused instead of exhausting the stack.</summary>
    public const int MaxDepth = 64;

    private static readonly HashSet<string> Statements = new(StringComparer.OrdinalIgnoreCase)
    {
        "select", "from", "where", "join", "union", "insert", "update", "delete", "drop", "create", "alter", "with",
        "exists", "over", "partition", "grant", "revoke", "truncate", "copy", "call", "execute", "values", "into", "limit",
        "order", "group", "having", "returning", "lateral", "table",
    };

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "in", "is", "null", "like", "ilike", "between", "case", "when", "then", "else", "end", "true",
        "false", "cast", "as", "date", "timestamp", "distinct", "escape", "interval",
    };

    private static readonly Dictionary<string, SqlType> TypeNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text"] = SqlType.String, ["string"] = SqlType.String, ["varchar"] = SqlType.String, ["char"] = SqlType.String,
        ["integer"] = SqlType.Integer, ["int"] = SqlType.Integer, ["bigint"] = SqlType.Integer, ["smallint"] = SqlType.Integer,
        ["double"] = SqlType.Double, ["float"] = SqlType.Double, ["real"] = SqlType.Double, ["numeric"] = SqlType.Double,
        ["decimal"] = SqlType.Double, ["number"] = SqlType.Double,
        ["boolean"] = SqlType.Boolean, ["bool"] = SqlType.Boolean,
        ["date"] = SqlType.Date, ["timestamp"] = SqlType.Timestamp,
    };

    private readonly IReadOnlyList<Token> _tokens;
    private readonly List<ColumnReference> _columns = [];
    private int _position;
    private int _depth;

    private ExpressionParser(IReadOnlyList<Token> tokens) => _tokens = tokens;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ExpressionSyntaxException"/> with the offset of the problem.</summary>
    public static ParsedExpression Parse(string text)
    {
        var parser = new ExpressionParser(ExpressionLexer.Tokenize(text));
        if (parser.Current.Kind == TokenKind.End)
            throw new ExpressionSyntaxException("the expression is empty", 0);
        var expression = parser.Or();
        if (parser.Current.Kind != TokenKind.End)
            throw parser.Unexpected("the end of the expression");
        return new ParsedExpression(expression, parser._columns);
    }

    private Token Current => _tokens[_position];

    private Token Next() => _tokens[_position++];

    private bool AcceptWord(string word)
    {
        if (!Current.IsWord(word))
            return false;
        _position++;
        return true;
    }

    private bool AcceptSymbol(string symbol)
    {
        if (!Current.IsSymbol(symbol))
            return false;
        _position++;
        return true;
    }

    private void ExpectWord(string word)
    {
        if (!AcceptWord(word))
            throw Unexpected($"`{word}`");
    }

    private void ExpectSymbol(string symbol)
    {
        if (!AcceptSymbol(symbol))
            throw Unexpected($"`{symbol}`");
    }

    private ExpressionSyntaxException Unexpected(string expected) => Current.Kind == TokenKind.End
        ? new ExpressionSyntaxException($"the expression ends where {expected} was expected", Current.Offset)
        : new ExpressionSyntaxException($"expected {expected}, found `{Current.Text}`", Current.Offset);

    private SqlExpr Nested(Func<SqlExpr> parse)
    {
        if (++_depth > MaxDepth)
            throw new ExpressionSyntaxException($"the expression nests deeper than {MaxDepth} levels", Current.Offset);
        try
        {
            return parse();
        }
        finally
        {
            _depth--;
        }
    }

    private SqlExpr Or()
    {
        var left = And();
        while (AcceptWord("or"))
            left = new BinaryExpr(left, BinaryOperator.Or, And());
        return left;
    }

    private SqlExpr And()
    {
        var left = Not();
        while (AcceptWord("and"))
            left = new BinaryExpr(left, BinaryOperator.And, Not());
        return left;
    }

    private SqlExpr Not() => AcceptWord("not") ? Nested(() => new NotExpr(Not())) : Predicate();

    private SqlExpr Predicate()
    {
        var left = Additive();
        while (true)
        {
            if (Current.Kind == TokenKind.Symbol && Comparison(Current.Text) is { } op)
            {
                _position++;
                left = new BinaryExpr(left, op, Additive());
                continue;
            }

            if (AcceptWord("is"))
            {
                var negated = AcceptWord("not");
                ExpectWord("null");
                left = new IsNullExpr(left, negated);
                continue;
            }

            var save = _position;
            var not = AcceptWord("not");
            if (AcceptWord("in"))
            {
                ExpectSymbol("(");
                if (Current.IsWord("select"))
                    throw new ExpressionSyntaxException("subqueries are not allowed: list the values", Current.Offset);
                var values = new List<SqlExpr> { Or() };
                while (AcceptSymbol(","))
                    values.Add(Or());
                ExpectSymbol(")");
                left = new InListExpr(left, values, not);
                continue;
            }

            if (AcceptWord("between"))
            {
                var low = Additive();
                ExpectWord("and");
                left = new BetweenExpr(left, low, Additive(), not);
                continue;
            }

            if (Current.IsWord("like") || Current.IsWord("ilike"))
            {
                var insensitive = Next().IsWord("ilike");
                left = new LikeExpr(left, Additive(), insensitive, not);
                if (Current.IsWord("escape"))
                    throw new ExpressionSyntaxException("`escape` is not supported; patterns use `%` and `_` only", Current.Offset);
                continue;
            }

            _position = save;
            return left;
        }
    }

    private static BinaryOperator? Comparison(string symbol) => symbol switch
    {
        "=" => BinaryOperator.Equal,
        "<>" or "!=" => BinaryOperator.NotEqual,
        "<" => BinaryOperator.Less,
        "<=" => BinaryOperator.LessOrEqual,
        ">" => BinaryOperator.Greater,
        ">=" => BinaryOperator.GreaterOrEqual,
        _ => null,
    };

    private SqlExpr Additive()
    {
        var left = Multiplicative();
        while (true)
        {
            BinaryOperator? op = Current.IsSymbol("+") ? BinaryOperator.Add
                : Current.IsSymbol("-") ? BinaryOperator.Subtract
                : Current.IsSymbol("||") ? BinaryOperator.Concat
                : null;
            if (op is null)
                return left;
            _position++;
            left = new BinaryExpr(left, op.Value, Multiplicative());
        }
    }

    private SqlExpr Multiplicative()
    {
        var left = Unary();
        while (true)
        {
            BinaryOperator? op = Current.IsSymbol("*") ? BinaryOperator.Multiply
                : Current.IsSymbol("/") ? BinaryOperator.Divide
                : Current.IsSymbol("%") ? BinaryOperator.Modulo
                : null;
            if (op is null)
                return left;
            _position++;
            left = new BinaryExpr(left, op.Value, Unary());
        }
    }

    private SqlExpr Unary()
    {
        if (AcceptSymbol("-"))
        {
            return Nested(() =>
            {
                var operand = Unary();
                return operand is NumberLiteral n && !n.Text.StartsWith('-') ? new NumberLiteral("-" + n.Text) : new NegateExpr(operand);
            });
        }

        if (AcceptSymbol("+"))
            return Nested(Unary);
        return Primary();
    }

    private SqlExpr Primary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                _position++;
                return new NumberLiteral(NormaliseNumber(token));
            case TokenKind.String:
                _position++;
                return new StringLiteral(token.Text);
            case TokenKind.QuotedIdentifier:
                _position++;
                return Column(token, quoted: true);
            case TokenKind.Symbol when token.Text == "(":
                _position++;
                if (Current.IsWord("select"))
                    throw new ExpressionSyntaxException("subqueries are not allowed: write an expression over the source's columns", Current.Offset);
                var inner = Nested(Or);
                ExpectSymbol(")");
                return inner;
            case TokenKind.Identifier:
                return Word(token);
            default:
                throw Unexpected("a value, a column or `(`");
        }
    }

    private SqlExpr Word(Token token)
    {
        var word = token.Text.ToLowerInvariant();
        if (Statements.Contains(word))
            throw new ExpressionSyntaxException($"`{token.Text}` is not allowed: write an expression over the source's columns, not a query", token.Offset);
        var isCall = _tokens[_position + 1].IsSymbol("(");
        switch (word)
        {
            case "null":
                _position++;
                return new NullLiteral();
            case "true" or "false":
                _position++;
                return new BooleanLiteral(word == "true");
            case "case":
                _position++;
                return Nested(Case);
            case "cast" when isCall:
                _position++;
                return Nested(Cast);
            case "date" or "timestamp" when _tokens[_position + 1].Kind == TokenKind.String:
                _position++;
                return TypedLiteral(word, Next());
        }

        if (isCall)
            return Nested(() => Call(token));
        if (Reserved.Contains(word))
            throw Unexpected("a value, a column or `(`");
        _position++;
        return Column(token, quoted: false);
    }

    private SqlExpr Column(Token token, bool quoted)
    {
        _columns.Add(new ColumnReference(token.Text, quoted, token.Offset));
        return new ColumnExpr(null, token.Text);
    }

    private SqlExpr Call(Token name)
    {
        var word = name.Text.ToLowerInvariant();
        if (PortableFunctions.Aggregates.Contains(word))
            throw new ExpressionSyntaxException($"`{name.Text}` aggregates; `expr` and `filter` are per event row", name.Offset,
                word is "min" or "max" ? $"the metric's `agg` aggregates; for the {(word == "min" ? "smaller" : "larger")} of two values write `{(word == "min" ? "least" : "greatest")}(a, b)`" : "the metric's `agg` aggregates");
        if (!PortableFunctions.All.TryGetValue(word, out var function))
        {
            var hint = PortableFunctions.Aliases.TryGetValue(word, out var alias)
                ? $"write `{alias}(...)`"
                : $"functions: {string.Join(", ", PortableFunctions.All.Keys.Order(StringComparer.Ordinal))}";
            throw new ExpressionSyntaxException($"unknown function `{name.Text}`", name.Offset, hint);
        }

        _position += 2;
        var arguments = new List<SqlExpr>();
        if (!Current.IsSymbol(")"))
        {
            if (Current.IsWord("distinct"))
                throw new ExpressionSyntaxException("`distinct` belongs to aggregates: use `agg: count_distinct`", Current.Offset);
            arguments.Add(Or());
            while (AcceptSymbol(","))
                arguments.Add(Or());
        }

        ExpectSymbol(")");
        if (arguments.Count < function.MinArguments || arguments.Count > function.MaxArguments)
        {
            var expected = function.MinArguments == function.MaxArguments ? $"{function.MinArguments}"
                : function.MaxArguments == PortableFunctions.Unbounded ? $"at least {function.MinArguments}"
                : $"{function.MinArguments} to {function.MaxArguments}";
            throw new ExpressionSyntaxException($"`{function.Name}` takes {expected} argument(s), not {arguments.Count}", name.Offset);
        }

        return new FunctionCall(function.Name, arguments);
    }

    private SqlExpr Case()
    {
        SqlExpr? operand = Current.IsWord("when") ? null : Or();
        var whens = new List<WhenClause>();
        while (AcceptWord("when"))
        {
            var condition = Or();
            ExpectWord("then");
            whens.Add(new WhenClause(operand is null ? condition : new BinaryExpr(operand, BinaryOperator.Equal, condition), Or()));
        }

        if (whens.Count == 0)
            throw Unexpected("`when`");
        var otherwise = AcceptWord("else") ? Or() : null;
        ExpectWord("end");
        return new CaseExpr(whens, otherwise);
    }

    private SqlExpr Cast()
    {
        ExpectSymbol("(");
        var operand = Or();
        ExpectWord("as");
        var typeToken = Current;
        if (typeToken.Kind != TokenKind.Identifier || !TypeNames.TryGetValue(typeToken.Text, out var type))
            throw new ExpressionSyntaxException($"`{typeToken.Text}` is not a type of the expression language", typeToken.Offset,
                "types: text, integer, double, boolean, date, timestamp");
        _position++;
        if (typeToken.IsWord("double"))
            AcceptWord("precision");
        if (AcceptSymbol("("))
        {
            // varchar(20), numeric(10, 2): the size does not change the portable type.
            while (Current.Kind == TokenKind.Number || Current.IsSymbol(","))
                _position++;
            ExpectSymbol(")");
        }

        ExpectSymbol(")");
        return new CastExpr(operand, type);
    }

    private static SqlExpr TypedLiteral(string type, Token literal)
    {
        if (type == "date")
        {
            if (DateOnly.TryParseExact(literal.Text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                return new DateLiteral(date);
            throw new ExpressionSyntaxException($"`{literal.Text}` is not a date written as YYYY-MM-DD", literal.Offset);
        }

        string[] formats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFF", "yyyy-MM-dd"];
        if (DateTime.TryParseExact(literal.Text, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var timestamp))
            return new TimestampLiteral(timestamp);
        throw new ExpressionSyntaxException($"`{literal.Text}` is not a timestamp written as YYYY-MM-DD HH:MM:SS", literal.Offset);
    }

    private static string NormaliseNumber(Token token)
    {
        var text = token.Text.StartsWith('.') ? "0" + token.Text : token.Text;
        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) &&
            !(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)))
            throw new ExpressionSyntaxException($"`{token.Text}` is out of range", token.Offset);
        return text;
    }
}
