namespace MetricCompiler.Sql.Model;

/// <summary>Rebuilds an expression tree bottom-up, replacing the nodes a function chooses to replace.</summary>
public static class SqlExprRewriter
{
    /// <summary>Applies <paramref name="replace"/> to every node after its children were rewritten.</summary>
    public static SqlExpr Rewrite(SqlExpr e, Func<SqlExpr, SqlExpr> replace)
    {
        SqlExpr R(SqlExpr child) => Rewrite(child, replace);
        IReadOnlyList<SqlExpr> All(IReadOnlyList<SqlExpr> children) => children.Select(R).ToList();
        var rebuilt = e switch
        {
            FunctionCall f => f with { Arguments = All(f.Arguments) },
            BinaryExpr b => b with { Left = R(b.Left), Right = R(b.Right) },
            NotExpr n => n with { Operand = R(n.Operand) },
            NegateExpr n => n with { Operand = R(n.Operand) },
            IsNullExpr n => n with { Operand = R(n.Operand) },
            InListExpr i => i with { Operand = R(i.Operand), Values = All(i.Values) },
            NullSafeEqualsExpr n => n with { Left = R(n.Left), Right = R(n.Right) },
            BetweenExpr b => b with { Operand = R(b.Operand), Low = R(b.Low), High = R(b.High) },
            LikeExpr l => l with { Operand = R(l.Operand), Pattern = R(l.Pattern) },
            CaseExpr c => c with { Whens = c.Whens.Select(w => new WhenClause(R(w.Condition), R(w.Result))).ToList(), Else = c.Else is null ? null : R(c.Else) },
            CastExpr c => c with { Operand = R(c.Operand) },
            NumberOrNullExpr n => n with { Operand = R(n.Operand) },
            AddDaysExpr a => a with { Timestamp = R(a.Timestamp) },
            DateTruncExpr d => d with { Operand = R(d.Operand) },
            LocalTimeExpr l => l with { Timestamp = R(l.Timestamp) },
            UtcTimestampExpr u => u with { Operand = R(u.Operand) },
            IsoTextNotBeforeExpr i => i with { Operand = R(i.Operand) },
            SaltedSha256Expr h => h with { Salt = R(h.Salt), Value = R(h.Value) },
            DateAddDaysExpr d => d with { Date = R(d.Date) },
            DateAddMonthsExpr d => d with { Date = R(d.Date) },
            DateDiffDaysExpr d => d with { From = R(d.From), To = R(d.To) },
            RowNumberExpr r => r with { PartitionBy = All(r.PartitionBy), OrderBy = r.OrderBy.Select(k => k with { Expression = R(k.Expression) }).ToList() },
            WindowExpr w => w with { Function = (FunctionCall)R(w.Function), PartitionBy = All(w.PartitionBy), OrderBy = w.OrderBy.Select(k => k with { Expression = R(k.Expression) }).ToList() },
            SecondsBetweenExpr s => s with { From = R(s.From), To = R(s.To) },
            PercentileExpr p => p with { Value = R(p.Value) },
            _ => e,
        };
        return replace(rebuilt);
    }

    /// <summary>Qualifies every unqualified column with <paramref name="qualifier"/> (a table alias).</summary>
    public static SqlExpr Qualify(SqlExpr e, string qualifier) =>
        Rewrite(e, node => node is ColumnExpr { Qualifier: null } c ? c with { Qualifier = qualifier } : node);

    /// <summary>Every column the expression reads.</summary>
    public static IReadOnlyList<ColumnExpr> Columns(SqlExpr e)
    {
        var columns = new List<ColumnExpr>();
        Rewrite(e, node =>
        {
            if (node is ColumnExpr c)
                columns.Add(c);
            return node;
        });
        return columns;
    }
}
