using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// How a source is staged, in parts, so that one definition gives all of its queries: <see cref="Full"/>, which stages
/// every raw row, and for an incremental source's run <see cref="Window"/> (the raw rows of the window staged again),
/// <see cref="Kept"/> (the staged rows it keeps in place), and their union: <see cref="From"/> over the window's query,
/// for engines that rebuild the table in one statement, <see cref="Merged"/> over a table the window was written to.
/// The window's filter is applied to the raw rows before the de-duplication, so the sort is of the window's rows, not
/// of the history.
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
    /// <summary>
    /// What the runs look up in the staged table, where an index helps the engine: the unique key (is a raw row of the
    /// window a later duplicate?) and the entity with the event time (the per-unit join of experiments).
    /// </summary>
    public required IReadOnlyList<IReadOnlyList<string>> Lookups { get; init; }

    /// <summary>
    /// The rules of <see cref="Typed"/> but the one that drops rows without an event time, which the window's own filter
    /// on the event time implies: each is a timestamp to parse per raw row.
    /// </summary>
    public required IReadOnlyList<SqlExpr> WindowRules { get; init; }

    private const string TypedCte = "typed";
    private const string RankedCte = "ranked";
    private const string WindowCte = "window_rows";
    private const string StagedKeysCte = "staged_keys";
    private const string Rank = "duplicate_rank";

    /// <summary>Every raw row staged: the node's query, as <c>target/compiled</c> shows it.</summary>
    public QueryExpr Full() => Stage(Typed);

    /// <summary>
    /// The rows of <paramref name="table"/> (the staged table in place) before <paramref name="start"/>, and the raw rows
    /// from <paramref name="start"/> on, staged (<see cref="Window"/>): the table an incremental staging builds in one
    /// statement, on engines whose swap renames tables.
    /// </summary>
    public QueryExpr From(string table, DateOnly start)
    {
        var (ctes, window) = WindowParts(table, start);
        return KeptAnd(table, window, start) with { With = ctes };
    }

    /// <summary>
    /// The raw rows from <paramref name="start"/> on, staged; a raw row whose key the rows of <paramref name="table"/>
    /// before <paramref name="start"/> already hold is a later duplicate of one of them, and is left out.
    /// </summary>
    public QueryExpr Window(string table, DateOnly start)
    {
        var (ctes, window) = WindowParts(table, start);
        return window with { With = ctes };
    }

    /// <summary>
    /// The staged rows of a run that wrote only the window, to <paramref name="windowTable"/>: the rows of
    /// <paramref name="table"/> it keeps, and the window's.
    /// </summary>
    public QueryExpr Merged(string table, string windowTable, DateOnly start) =>
        KeptAnd(table, new SelectQuery([new StarExpr().Item()], Sql.Model.Sql.From(new SourceTableRef(windowTable))), start);

    /// <summary>The rows of <paramref name="table"/> an incremental run keeps, then <paramref name="window"/>'s.</summary>
    private UnionAllQuery KeptAnd(string table, SelectQuery window, DateOnly start) => new(
        [new SelectQuery([new StarExpr().Item()], Sql.Model.Sql.From(new SourceTableRef(table)), Where: Kept(start)), window],
        [$"the rows staged before {start:yyyy-MM-dd}, as the table in place has them", $"the raw rows from {start:yyyy-MM-dd} on, staged again"]);

    /// <summary>
    /// Which rows of the staged table in place an incremental run keeps: those before <paramref name="start"/> that the
    /// rules still keep (<c>retention_days</c> counts from the time of the run).
    /// </summary>
    public SqlExpr Kept(DateOnly start) => And(Lt(Col(EventTime), new DateLiteral(start)), KeptRule);

    private (List<CommonTableExpression> Ctes, SelectQuery Window) WindowParts(string table, DateOnly start)
    {
        var from = new DateLiteral(start);
        var raw = TypedEventTime is UtcTimestampExpr parsed ? parsed.Operand : null;
        var windowed = Typed with { Where = And([raw is null ? null : new IsoTextNotBeforeExpr(raw, start), .. WindowRules, Ge(TypedEventTime, from)]) };
        var stagedWindow = Stage(windowed);
        var ctes = new List<CommonTableExpression>(stagedWindow.With)
        {
            new(WindowCte, stagedWindow with { With = [] }, $"the raw rows from {start:yyyy-MM-dd} on, staged"),
        };
        if (UniqueKey is not { } key)
            return (ctes, new SelectQuery([new StarExpr().Item()], Sql.Model.Sql.From(new CteRef(WindowCte))));
        ctes.Add(new CommonTableExpression(StagedKeysCte,
            new SelectQuery([Col(key).Item()], Sql.Model.Sql.From(new SourceTableRef(table)), Where: Lt(Col(EventTime), from)),
            $"the keys staged before {start:yyyy-MM-dd}: a raw row of the window with one of them is a later duplicate"));
        return (ctes, new SelectQuery([new StarExpr("w").Item()],
            new JoinFrom(Sql.Model.Sql.From(new CteRef(WindowCte), "w"), JoinKind.Left, Sql.Model.Sql.From(new CteRef(StagedKeysCte), "k"), Eq(Col("k", key), Col("w", key))),
            Where: new IsNullExpr(Col("k", key))));
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
