using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// How a source is staged, in parts, so that one definition gives both of its queries: <see cref="Full"/>, which stages
/// every raw row, and <see cref="From"/>, which an incremental source's run builds its table with: the staged rows before
/// the window as the table in place has them, and the raw rows of the window staged again. The window's filter is
/// applied to the raw rows before the de-duplication, so the sort is of the window's rows, not of the history.
/// </summary>
/// <param name="Typed">Every column cast to its type; the rules' filter (<c>where</c>).</param>
/// <param name="EventTime">The staged event-time column, which places a row in a day.</param>
/// <param name="TypedEventTime">The event time as <see cref="Typed"/> computes it from the raw column.</param>
/// <param name="UniqueKey">The key whose duplicates are removed (the first by event time kept), or null.</param>
/// <param name="TieBreak">The order that picks the first of the rows sharing a key.</param>
/// <param name="Columns">The staged columns, in order, over the typed (and de-duplicated) rows: <c>pii</c> ones hashed.</param>
/// <param name="HashesColumns">Whether <see cref="Columns"/> computes anything (a hash), so the typed rows need a step of their own.</param>
/// <param name="KeptRule">What the rules keep that can change between runs (<c>retention_days</c>), over staged rows; or null.</param>
public sealed record StagingQuery(
    SelectQuery Typed,
    string TypedComment,
    string EventTime,
    SqlExpr TypedEventTime,
    string? UniqueKey,
    IReadOnlyList<SortKey> TieBreak,
    IReadOnlyList<SelectItem> Columns,
    bool HashesColumns,
    SqlExpr? KeptRule)
{
    private const string TypedCte = "typed";
    private const string RankedCte = "ranked";
    private const string WindowCte = "window_rows";
    private const string StagedKeysCte = "staged_keys";
    private const string Rank = "duplicate_rank";

    /// <summary>Every raw row staged: the node's query, as <c>target/compiled</c> shows it.</summary>
    public QueryExpr Full() => Stage(Typed);

    /// <summary>
    /// The rows of <paramref name="table"/> (the staged table in place) before <paramref name="start"/>, and the raw rows
    /// from <paramref name="start"/> on, staged; a raw row whose key the kept rows already hold is a later duplicate of it.
    /// </summary>
    public QueryExpr From(string table, DateOnly start)
    {
        var from = new DateLiteral(start);
        var windowed = Typed with { Where = And(Typed.Where, Ge(TypedEventTime, from)) };
        var stagedWindow = Stage(windowed);
        var kept = new SelectQuery([new StarExpr().Item()], Sql.Model.Sql.From(new SourceTableRef(table)),
            Where: And(Lt(Col(EventTime), from), KeptRule));
        var ctes = new List<CommonTableExpression>(stagedWindow.With);
        SelectQuery recomputed;
        if (UniqueKey is { } key)
        {
            ctes.Add(new CommonTableExpression(WindowCte, stagedWindow with { With = [] }, $"the raw rows from {start:yyyy-MM-dd} on, staged"));
            ctes.Add(new CommonTableExpression(StagedKeysCte,
                new SelectQuery([Col(key).Item()], Sql.Model.Sql.From(new SourceTableRef(table)), Where: Lt(Col(EventTime), from)),
                $"the keys staged before {start:yyyy-MM-dd}: a raw row of the window with one of them is a later duplicate"));
            recomputed = new SelectQuery([new StarExpr("w").Item()],
                new JoinFrom(Sql.Model.Sql.From(new CteRef(WindowCte), "w"), JoinKind.Left, Sql.Model.Sql.From(new CteRef(StagedKeysCte), "k"), Eq(Col("k", key), Col("w", key))),
                Where: new IsNullExpr(Col("k", key)));
        }
        else
        {
            ctes.Add(new CommonTableExpression(WindowCte, stagedWindow with { With = [] }, $"the raw rows from {start:yyyy-MM-dd} on, staged"));
            recomputed = new SelectQuery([new StarExpr().Item()], Sql.Model.Sql.From(new CteRef(WindowCte)));
        }

        return new UnionAllQuery([kept, recomputed],
            [$"the rows staged before {start:yyyy-MM-dd}, as the table in place has them", $"the raw rows from {start:yyyy-MM-dd} on, staged again"])
        {
            With = ctes,
        };
    }

    /// <summary>The staging of <paramref name="typed"/>'s rows: de-duplicated by the key, and hashed, when the source says so.</summary>
    private SelectQuery Stage(SelectQuery typed)
    {
        if (UniqueKey is { } key)
        {
            var ranked = new SelectQuery(
                [new StarExpr(TypedCte).Item(), new RowNumberExpr([Col(key)], TieBreak).As(Rank)],
                Sql.Model.Sql.From(new CteRef(TypedCte)));
            return new SelectQuery(Columns, Sql.Model.Sql.From(new CteRef(RankedCte)), Where: Eq(Col(Rank), Num(1)))
            {
                With =
                [
                    new CommonTableExpression(TypedCte, typed, TypedComment),
                    new CommonTableExpression(RankedCte, ranked, $"events sharing a `{key}` are duplicates: keep the first"),
                ],
            };
        }

        return HashesColumns
            ? new SelectQuery(Columns, Sql.Model.Sql.From(new CteRef(TypedCte))) { With = [new CommonTableExpression(TypedCte, typed, TypedComment)] }
            : typed;
    }
}
