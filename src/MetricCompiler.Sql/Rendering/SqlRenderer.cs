using System.Text;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Sql.Rendering;

/// <summary>
/// Renders the SQL model as formatted text for one dialect: lower-case keywords, one select item per line, four-space
/// indents, a `with` block per named step. The output depends only on the model, so it is byte-identical run to run.
/// </summary>
public sealed class SqlRenderer(SqlDialect dialect, Func<string, string> resolveNode)
{
    private const string Indent = "    ";

    public SqlDialect Dialect => dialect;

    /// <summary>A renderer that names node relations by their node name (as reviewers read them).</summary>
    public static SqlRenderer ForReview(SqlDialect dialect) => new(dialect, dialect.QuoteIdentifier);

    public string Render(QueryExpr query)
    {
        var builder = new StringBuilder();
        WriteQuery(builder, query, 0);
        return builder.ToString();
    }

    private void WriteQuery(StringBuilder sb, QueryExpr query, int depth)
    {
        if (query is TemplateQuery template)
        {
            // The user's SQL is theirs: written as is, only its relations resolved.
            foreach (var part in template.Parts)
                sb.Append(part switch
                {
                    TemplateText text => text.Text,
                    TemplateRelation relation => Relation(new TableFrom(relation.Relation)),
                    _ => throw new ArgumentException($"cannot render {part.GetType().Name}", nameof(query)),
                });
            sb.Append('\n');
            return;
        }

        if (query.With.Count > 0)
        {
            var recursive = dialect.DateSpineIsRecursive && query.With.Any(c => c.Query is DateSpineQuery);
            for (var i = 0; i < query.With.Count; i++)
            {
                var cte = query.With[i];
                if (cte.Comment is not null)
                    foreach (var line in cte.Comment.Split('\n'))
                        Line(sb, depth, $"-- {line}");
                Line(sb, depth, $"{(i == 0 ? recursive ? "with recursive " : "with " : "")}{dialect.QuoteIdentifier(cte.Name)} as (");
                if (cte.Query is DateSpineQuery spine)
                    foreach (var line in dialect.DateSpine(dialect.QuoteIdentifier(cte.Name), Expr(spine.Start), Expr(spine.EndInclusive), dialect.QuoteIdentifier(spine.Column), dialect.QuoteIdentifier(spine.EndColumn)))
                        Line(sb, depth + 1, line);
                else
                    WriteQuery(sb, cte.Query, depth + 1);
                Line(sb, depth, i == query.With.Count - 1 ? ")" : "),");
                sb.Append('\n');
            }
        }

        switch (query)
        {
            case SelectQuery select:
                WriteSelect(sb, select, depth);
                break;
            case UnionAllQuery union:
                for (var i = 0; i < union.Parts.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append('\n');
                        Line(sb, depth, "union all");
                        sb.Append('\n');
                    }

                    var comment = union.PartComments is { } comments && i < comments.Count ? comments[i] : null;
                    if (comment is not null)
                        Line(sb, depth, $"-- {comment}");
                    WriteSelect(sb, union.Parts[i], depth);
                }

                break;
            default:
                throw new ArgumentException($"cannot render {query.GetType().Name}", nameof(query));
        }
    }

    private void WriteSelect(StringBuilder sb, SelectQuery select, int depth)
    {
        Line(sb, depth, select.Distinct ? "select distinct" : "select");
        for (var i = 0; i < select.Items.Count; i++)
        {
            var item = select.Items[i];
            if (item.Comment is not null)
                Line(sb, depth + 1, $"-- {item.Comment}");
            var text = Expr(item.Expression);
            if (item.Alias is not null && !(item.Expression is ColumnExpr c && c.Name == item.Alias))
                text += $" as {dialect.QuoteIdentifier(item.Alias)}";
            Line(sb, depth + 1, text + (i < select.Items.Count - 1 ? "," : ""));
        }

        WriteFrom(sb, select.From, depth);
        if (select.Where is not null)
            WriteConditions(sb, "where", select.Where, depth);
        if (select.GroupBy is { Count: > 0 } groupBy)
            WriteList(sb, "group by", groupBy, depth);
        if (select.OrderBy is { Count: > 0 } orderBy)
        {
            Line(sb, depth, "order by");
            for (var i = 0; i < orderBy.Count; i++)
                Line(sb, depth + 1, SortKey(orderBy[i]) + (i < orderBy.Count - 1 ? "," : ""));
        }

        if (select.Limit is { } limit)
            Line(sb, depth, $"limit {limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private void WriteFrom(StringBuilder sb, FromItem from, int depth)
    {
        switch (from)
        {
            case TableFrom table:
                Line(sb, depth, $"from {Relation(table)}");
                break;
            case JoinFrom join:
                WriteFrom(sb, join.Left, depth);
                var right = join.Right as TableFrom ?? throw new ArgumentException("the right side of a join must be a table");
                if (join.Kind == JoinKind.Cross)
                {
                    Line(sb, depth, $"cross join {Relation(right)}");
                    break;
                }

                Line(sb, depth, $"{(join.Kind == JoinKind.Inner ? "inner join" : "left join")} {Relation(right)}");
                Line(sb, depth + 1, $"on {Expr(join.On ?? throw new ArgumentException("a join needs a condition"))}");
                break;
            default:
                throw new ArgumentException($"cannot render {from.GetType().Name}", nameof(from));
        }
    }

    private void WriteConditions(StringBuilder sb, string keyword, SqlExpr condition, int depth)
    {
        var terms = new List<SqlExpr>();
        Flatten(condition, terms);
        // A test the dialect has no cheaper spelling for is left out, not written as `true`.
        terms.RemoveAll(t => t is IsoTextNotBeforeExpr i && dialect.IsoTextNotBefore("x", i.Day) is null);
        Line(sb, depth, keyword);
        for (var i = 0; i < terms.Count; i++)
            Line(sb, depth + 1, (i == 0 ? "" : "and ") + Expr(terms[i], Precedence.And));
    }

    private void WriteList(StringBuilder sb, string keyword, IReadOnlyList<SqlExpr> items, int depth)
    {
        Line(sb, depth, keyword);
        for (var i = 0; i < items.Count; i++)
            Line(sb, depth + 1, Expr(items[i]) + (i < items.Count - 1 ? "," : ""));
    }

    private static void Flatten(SqlExpr e, List<SqlExpr> terms)
    {
        if (e is BinaryExpr { Operator: BinaryOperator.And } and)
        {
            Flatten(and.Left, terms);
            Flatten(and.Right, terms);
        }
        else
        {
            terms.Add(e);
        }
    }

    private string Relation(TableFrom table)
    {
        var name = table.Relation switch
        {
            SourceTableRef s => dialect.QuoteRelation(s.Table),
            NodeRef n => resolveNode(n.Node),
            CteRef c => dialect.QuoteIdentifier(c.Name),
            _ => throw new ArgumentException($"cannot render {table.Relation.GetType().Name}"),
        };
        return table.Alias is null ? name : $"{name} as {dialect.QuoteIdentifier(table.Alias)}";
    }

    private enum Precedence
    {
        Lowest = 0,
        Or = 1,
        And = 2,
        Not = 3,
        Comparison = 4,
        Additive = 5,
        Multiplicative = 6,
        Unary = 7,
        Primary = 8,
    }

    private static Precedence Of(BinaryOperator op) => op switch
    {
        BinaryOperator.Or => Precedence.Or,
        BinaryOperator.And => Precedence.And,
        BinaryOperator.Add or BinaryOperator.Subtract => Precedence.Additive,
        BinaryOperator.Multiply or BinaryOperator.Divide or BinaryOperator.Modulo => Precedence.Multiplicative,
        BinaryOperator.Concat => Precedence.Comparison,
        _ => Precedence.Comparison,
    };

    private static string Symbol(BinaryOperator op) => op switch
    {
        BinaryOperator.Equal => "=",
        BinaryOperator.NotEqual => "<>",
        BinaryOperator.Less => "<",
        BinaryOperator.LessOrEqual => "<=",
        BinaryOperator.Greater => ">",
        BinaryOperator.GreaterOrEqual => ">=",
        BinaryOperator.And => "and",
        BinaryOperator.Or => "or",
        BinaryOperator.Add => "+",
        BinaryOperator.Subtract => "-",
        BinaryOperator.Multiply => "*",
        BinaryOperator.Divide => "/",
        BinaryOperator.Modulo => "%",
        BinaryOperator.Concat => "||",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public string Expr(SqlExpr e) => Expr(e, Precedence.Lowest);

    private string Expr(SqlExpr e, Precedence context)
    {
        var (text, own) = e switch
        {
            ColumnExpr c => (c.Qualifier is null ? dialect.QuoteIdentifier(c.Name) : $"{dialect.QuoteIdentifier(c.Qualifier)}.{dialect.QuoteIdentifier(c.Name)}", Precedence.Primary),
            StarExpr s => (s.Qualifier is null ? "*" : $"{dialect.QuoteIdentifier(s.Qualifier)}.*", Precedence.Primary),
            StringLiteral s => (dialect.StringLiteral(s.Value), Precedence.Primary),
            NumberLiteral n => (n.Text, Precedence.Primary),
            NullLiteral { Type: null } => ("null", Precedence.Primary),
            NullLiteral { Type: { } type } => (dialect.Cast("null", type), Precedence.Primary),
            TimestampLiteral t => (dialect.TimestampLiteral(t.Value), Precedence.Primary),
            DateLiteral d => (dialect.DateLiteral(d.Value), Precedence.Primary),
            BooleanLiteral b => (dialect.BooleanLiteral(b.Value), Precedence.Primary),
            FunctionCall f => (Function(f), Precedence.Primary),
            BinaryExpr { Operator: BinaryOperator.Divide } b => (dialect.Divide(Expr(b.Left, Precedence.Multiplicative), Expr(b.Right)), Precedence.Multiplicative),
            BinaryExpr b => (Binary(b), Of(b.Operator)),
            NotExpr n => ($"not {Expr(n.Operand, Precedence.Not)}", Precedence.Not),
            NegateExpr n => (Negate(n), Precedence.Unary),
            IsNullExpr n => ($"{Expr(n.Operand, Precedence.Additive)} is {(n.Negated ? "not " : "")}null", Precedence.Comparison),
            InListExpr i => ($"{Expr(i.Operand, Precedence.Additive)} {(i.Negated ? "not in" : "in")} ({string.Join(", ", i.Values.Select(v => Expr(v)))})", Precedence.Comparison),
            NullSafeEqualsExpr n => (dialect.NullSafeEquals(Expr(n.Left, Precedence.Additive), Expr(n.Right, Precedence.Additive)), Precedence.Comparison),
            BetweenExpr b => ($"{Expr(b.Operand, Precedence.Additive)} {(b.Negated ? "not between" : "between")} {Expr(b.Low, Precedence.Additive)} and {Expr(b.High, Precedence.Additive)}", Precedence.Comparison),
            LikeExpr l => (dialect.Like(Expr(l.Operand, Precedence.Additive), Expr(l.Pattern, Precedence.Additive), l.CaseInsensitive, l.Negated), Precedence.Comparison),
            CaseExpr c => (Case(c), Precedence.Primary),
            CastExpr c => (dialect.Cast(Expr(c.Operand), c.Type), Precedence.Primary),
            NumberOrNullExpr n => (dialect.NumberOrNull(Expr(n.Operand, Precedence.Primary), n.Type), Precedence.Primary),
            AddDaysExpr a => (dialect.AddDays(Expr(a.Timestamp, Precedence.Multiplicative), a.Days), Precedence.Additive),
            DateTruncExpr d => (dialect.DateTrunc(Expr(d.Operand), d.Grain), Precedence.Primary),
            LocalTimeExpr l => (dialect.LocalTime(Expr(l.Timestamp, Precedence.Primary), l.ZoneId), Precedence.Primary),
            UtcTimestampExpr u => (dialect.UtcTimestamp(Expr(u.Operand, Precedence.Primary)), Precedence.Primary),
            IsoTextNotBeforeExpr i => (dialect.IsoTextNotBefore(Expr(i.Operand, Precedence.Primary), i.Day) ?? "true", Precedence.Primary),
            SaltedSha256Expr h => (dialect.Sha256Hex($"{Expr(h.Salt, Precedence.Additive)} || {Expr(h.Value, Precedence.Additive)}"), Precedence.Primary),
            CurrentUtcTimestampExpr => (dialect.CurrentUtcTimestamp, Precedence.Primary),
            DateAddDaysExpr d => (dialect.DateAddDays(Expr(d.Date, Precedence.Multiplicative), d.Days), Precedence.Additive),
            DateAddMonthsExpr d => (dialect.DateAddMonths(Expr(d.Date, Precedence.Multiplicative), d.Months), Precedence.Primary),
            DateDiffDaysExpr d => (dialect.DateDiffDays(Expr(d.From, Precedence.Multiplicative), Expr(d.To, Precedence.Multiplicative)), Precedence.Additive),
            ScalarSubqueryExpr q => (Subquery(q.Query), Precedence.Primary),
            RowNumberExpr r => (RowNumber(r), Precedence.Primary),
            WindowExpr w => (Window(w), Precedence.Primary),
            SecondsBetweenExpr s => (dialect.SecondsBetween(Expr(s.From, Precedence.Primary), Expr(s.To, Precedence.Primary)), Precedence.Primary),
            PercentileExpr p => (dialect.Percentile(Expr(p.Value), NumberLiteral.Of(p.Fraction).Text), Precedence.Primary),
            _ => throw new ArgumentException($"cannot render {e.GetType().Name}", nameof(e)),
        };
        return own < context ? $"({text})" : text;
    }

    private string Binary(BinaryExpr b)
    {
        var own = Of(b.Operator);
        if (b.Operator == BinaryOperator.Concat)
        {
            // Engines disagree on where `||` binds among the arithmetic operators: parenthesise every operand but a chain.
            var leftText = b.Left is BinaryExpr { Operator: BinaryOperator.Concat } ? Expr(b.Left) : Expr(b.Left, Precedence.Primary);
            return $"{leftText} || {Expr(b.Right, Precedence.Primary)}";
        }

        if (own == Precedence.Comparison)
        {
            // Engines also disagree on how comparisons chain with `is` and `like`; an operand is never a bare comparison.
            return $"{Expr(b.Left, Precedence.Additive)} {Symbol(b.Operator)} {Expr(b.Right, Precedence.Additive)}";
        }

        var associative = b.Operator is BinaryOperator.And or BinaryOperator.Or or BinaryOperator.Add or BinaryOperator.Multiply;
        var left = Expr(b.Left, own);
        var right = Expr(b.Right, associative ? own : own + 1);
        return $"{left} {Symbol(b.Operator)} {right}";
    }

    /// <summary>A subquery on one line, for bounds such as <c>(select min(...) from ...)</c>.</summary>
    private string Subquery(QueryExpr query)
    {
        var text = new StringBuilder();
        WriteQuery(text, query, 0);
        return "(" + string.Join(" ", text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())) + ")";
    }

    private string Negate(NegateExpr n)
    {
        var operand = Expr(n.Operand, Precedence.Primary);
        return operand.StartsWith('-') ? $"-({operand})" : $"-{operand}";
    }

    private string Function(FunctionCall f) =>
        f.Distinct
            ? $"{f.Name}(distinct {string.Join(", ", f.Arguments.Select(a => Expr(a)))})"
            : dialect.Function(f.Name, f.Arguments.Select(a => Expr(a)).ToList());

    private string Case(CaseExpr c)
    {
        var sb = new StringBuilder("case");
        foreach (var when in c.Whens)
            sb.Append($" when {Expr(when.Condition)} then {Expr(when.Result)}");
        if (c.Else is not null)
            sb.Append($" else {Expr(c.Else)}");
        return sb.Append(" end").ToString();
    }

    private string RowNumber(RowNumberExpr r)
    {
        var parts = new List<string>();
        if (r.PartitionBy.Count > 0)
            parts.Add($"partition by {string.Join(", ", r.PartitionBy.Select(p => Expr(p)))}");
        if (r.OrderBy.Count > 0)
            parts.Add($"order by {string.Join(", ", r.OrderBy.Select(SortKey))}");
        return $"row_number() over ({string.Join(" ", parts)})";
    }

    private string Window(WindowExpr w)
    {
        var parts = new List<string>();
        if (w.PartitionBy.Count > 0)
            parts.Add($"partition by {string.Join(", ", w.PartitionBy.Select(p => Expr(p)))}");
        if (w.OrderBy.Count > 0)
            parts.Add($"order by {string.Join(", ", w.OrderBy.Select(SortKey))}");
        return $"{Function(w.Function)} over ({string.Join(" ", parts)})";
    }

    private string SortKey(SortKey key) =>
        $"{Expr(key.Expression)}{(key.Descending ? " desc" : "")} nulls {(key.NullsFirst ? "first" : "last")}";

    private static void Line(StringBuilder sb, int depth, string text)
    {
        for (var i = 0; i < depth; i++)
            sb.Append(Indent);
        sb.Append(text).Append('\n');
    }
}
