using System.Globalization;
using MetricCompiler.Adapters.Loading;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters.Remote;

/// <summary>
/// An adapter over an engine reached through an HTTP protocol, one statement per request, without transactional DDL
/// across statements. Loads go into <c>&lt;table&gt;__mc_load</c> by batched multi-row INSERTs and are swapped in like
/// built tables. A swap is journaled in <see cref="JournalTable"/> before its first rename and completed, table by
/// table, by steps whose progress can be read off which tables exist, so <see cref="RecoverInterruptedSwap"/> finishes
/// a swap that an interrupted run left half done (see docs/adapters.md).
/// </summary>
public abstract class RemoteWarehouseAdapter : IWarehouseAdapter
{
    public const string JournalTable = "metricc_swap_journal";
    public const string LoadSuffix = "__mc_load";

    /// <summary>Rows per INSERT statement; a statement is also cut once its text passes <see cref="MaxStatementChars"/>.</summary>
    public const int RowsPerInsert = 1_000;

    public const int MaxStatementChars = 1 << 20;

    private readonly IReadOnlyList<string> _secrets;

    /// <summary>Returns <paramref name="adapter"/> once it has answered a trivial query; disposes it and rethrows otherwise.</summary>
    protected static T Probed<T>(T adapter) where T : RemoteWarehouseAdapter
    {
        try
        {
            adapter.Execute("select 1");
        }
        catch
        {
            adapter.Dispose();
            throw;
        }

        return adapter;
    }

    protected RemoteWarehouseAdapter(SqlDialect dialect, IEnumerable<string?> secrets)
    {
        Dialect = dialect;
        _secrets = secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4).Select(s => s!).ToList();
    }

    public SqlDialect Dialect { get; }

    public abstract string Description { get; }

    /// <summary>Sends one statement and streams its rows to <paramref name="onRow"/> (null: discard them).</summary>
    protected abstract void Send(string sql, WarehouseRowHandler? onRow);

    /// <summary>Whether <paramref name="e"/> is the engine's or the transport's failure (becomes a <see cref="WarehouseException"/>).</summary>
    protected abstract bool IsEngineFailure(Exception e);

    /// <summary>A query whose single value counts the tables named <paramref name="table"/> in the target's schema.</summary>
    protected abstract string TableCountSql(string table);

    /// <summary>Replaces <paramref name="final"/> by <paramref name="built"/>, resuming from whatever state an earlier attempt left.</summary>
    protected abstract void CompleteSwap(string built, string final, string marker);

    public void Execute(string sql) => Run(sql, null);

    public void Read(string sql, WarehouseRowHandler onRow) => Run(sql, onRow);

    public bool TableExists(string table)
    {
        long count = 0;
        Read(TableCountSql(UnqualifiedName(table)), (_, row) => count = Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        return count > 0;
    }

    public long CountRows(string table)
    {
        long count = 0;
        Read($"select count(*) as row_count from {Dialect.QuoteRelation(table)}", (_, row) => count = Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        return count;
    }

    public void LoadTables(IReadOnlyList<TableSpec> tables, Action<IReadOnlyList<IRowSink>> fill)
    {
        var staged = tables.Select(t => t with { Name = t.Name + LoadSuffix }).ToList();
        try
        {
            foreach (var table in staged)
            {
                var relation = Dialect.QuoteRelation(table.Name);
                Execute(Dialect.DropTableIfExists(relation));
                Execute(Dialect.CreateTableSql(relation, table.Columns));
            }

            var sinks = staged.Select(t => new LiteralInsertSink(t, Dialect, Execute, RowsPerInsert, MaxStatementChars)).ToList();
            fill(sinks);
            foreach (var sink in sinks)
                sink.Complete();
        }
        catch
        {
            foreach (var table in staged)
                TryExecute(Dialect.DropTableIfExists(Dialect.QuoteRelation(table.Name)));
            throw;
        }

        SwapTables(tables.Select((t, i) => (staged[i].Name, t.Name)).ToList());
    }

    /// <summary>
    /// Without transactional DDL the view statements run around the journaled table swap: <paramref name="before"/>
    /// (dropping views of SQL models) first, <paramref name="after"/> (creating them) last; a failure in between leaves
    /// those views to be created by the next run, which rebuilds them.
    /// </summary>
    public void SwapTables(IReadOnlyList<(string Built, string Final)> swaps, IReadOnlyList<string>? before = null, IReadOnlyList<string>? after = null)
    {
        foreach (var statement in before ?? [])
            Execute(statement);
        SwapJournaled(swaps);
        foreach (var statement in after ?? [])
            Execute(statement);
    }

    private void SwapJournaled(IReadOnlyList<(string Built, string Final)> swaps)
    {
        if (swaps.Count == 0)
            return;
        RecoverInterruptedSwap();
        // Recovery treats a missing build table as already swapped, so a fresh swap checks they all exist first.
        var missing = swaps.Where(s => !TableExists(s.Built)).Select(s => s.Built).ToList();
        if (missing.Count > 0)
            throw new WarehouseException($"cannot swap: built table(s) {string.Join(", ", missing.Select(m => $"`{m}`"))} do not exist; nothing was swapped");
        var marker = "metricc swap " + Guid.NewGuid().ToString("N");
        var journal = Dialect.QuoteRelation(JournalTable);
        var text = Dialect.TypeName(Sql.Model.SqlType.String);
        Execute(Dialect.DropTableIfExists(journal));
        Execute($"create table {journal} (built {text}, final {text}, marker {text})");
        // One statement: the journal holds every pair or none, before the first table is touched.
        Execute($"insert into {journal} (built, final, marker) values " +
            string.Join(", ", swaps.Select(s => $"({Dialect.StringLiteral(s.Built)}, {Dialect.StringLiteral(s.Final)}, {Dialect.StringLiteral(marker)})")));
        try
        {
            foreach (var (built, final) in swaps)
                CompleteSwap(built, final, marker);
            Execute(Dialect.DropTableIfExists(journal));
        }
        catch (WarehouseException e)
        {
            throw new WarehouseException(
                $"the swap of {swaps.Count} table(s) was interrupted; it is journaled in `{JournalTable}` and the next run completes it before building anything: {e.Message}",
                swapPending: true);
        }
    }

    public IReadOnlyList<string> RecoverInterruptedSwap()
    {
        if (!TableExists(JournalTable))
            return [];
        var journal = Dialect.QuoteRelation(JournalTable);
        var pending = new List<(string Built, string Final, string Marker)>();
        Read($"select built, final, marker from {journal}", (_, row) => pending.Add(((string)row[0]!, (string)row[1]!, (string)row[2]!)));
        foreach (var (built, final, marker) in pending)
            CompleteSwap(built, final, marker);
        Execute(Dialect.DropTableIfExists(journal));
        return pending.Select(p => p.Final).ToList();
    }

    protected static string UnqualifiedName(string relation) => relation[(relation.LastIndexOf('.') + 1)..];

    private void TryExecute(string sql)
    {
        try
        {
            Execute(sql);
        }
        catch (WarehouseException)
        {
            // Best effort: a leftover load table is dropped by the next load.
        }
    }

    private void Run(string sql, WarehouseRowHandler? onRow)
    {
        try
        {
            Send(sql, onRow);
        }
        catch (Exception e) when (IsEngineFailure(e))
        {
            // The engine's own message, never the request: the client's exceptions carry no credentials, and the
            // configured secrets are masked all the same.
            throw new WarehouseException($"{Redact(e.Message.Trim())}{Environment.NewLine}in statement:{Environment.NewLine}{StatementExcerpt.Of(Redact(sql))}");
        }
    }

    private string Redact(string text)
    {
        foreach (var secret in _secrets)
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        return text;
    }

    public abstract void Dispose();
}
