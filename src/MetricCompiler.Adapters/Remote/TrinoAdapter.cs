using MetricCompiler.Adapters.Trino;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters.Remote;

/// <summary>
/// Trino through its client REST protocol (<see cref="TrinoClient"/>). Trino has no transactional DDL across
/// statements, so a table is swapped in by renames, journaled: <c>final</c> → <c>final__mc_old</c>,
/// <c>built</c> → <c>final</c>, drop <c>final__mc_old</c>; which of these happened is read off which tables exist.
/// The session time zone is UTC, so timestamps mean the same as on every other target.
/// </summary>
public sealed class TrinoAdapter : RemoteWarehouseAdapter
{
    public const string OldSuffix = "__mc_old";

    private readonly TrinoClient _client;
    private readonly string _schema;

    private TrinoAdapter(TrinoClient client, string description, string schema, string? secret)
        : base(TrinoDialect.Instance, [secret])
    {
        _client = client;
        Description = description;
        _schema = schema;
    }

    public override string Description { get; }

    /// <summary>Connects and checks the coordinator answers (<c>select 1</c>); the credential is used, never printed.</summary>
    public static TrinoAdapter Open(Uri endpoint, string user, string catalog, string schema, TrinoAuthentication authentication, string? secret)
    {
        var client = new TrinoClient(new TrinoClientOptions
        {
            Endpoint = endpoint,
            User = user,
            Catalog = catalog,
            Schema = schema,
            Authentication = authentication,
            TimeZone = "UTC",
        });
        var adapter = new TrinoAdapter(client, $"trino {user}@{endpoint.Scheme}://{endpoint.Authority} ({catalog}.{schema})", schema, secret);
        return Probed(adapter);
    }

    protected override void Send(string sql, WarehouseRowHandler? onRow)
    {
        string[]? names = null;
        _client.StreamAsync(sql, (columns, row) =>
        {
            if (onRow is null)
                return;
            names ??= columns.Select(c => c.Name).ToArray();
            onRow(names, row);
        }).GetAwaiter().GetResult();
    }

    protected override bool IsEngineFailure(Exception e) =>
        e is TrinoException or TimeoutException or HttpRequestException or IOException or FormatException;

    protected override string TableCountSql(string table) =>
        $"select count(*) as table_count from information_schema.tables where table_schema = {Dialect.StringLiteral(_schema.ToLowerInvariant())} " +
        $"and table_name = {Dialect.StringLiteral(table.ToLowerInvariant())}";

    protected override void CompleteSwap(string built, string final, string marker)
    {
        var old = final + OldSuffix;
        var d = Dialect;
        if (TableExists(built))
        {
            if (TableExists(final))
            {
                Execute(d.DropTableIfExists(d.QuoteRelation(old)));
                Execute(d.RenameTable(d.QuoteRelation(final), UnqualifiedName(old)));
            }

            Execute(d.RenameTable(d.QuoteRelation(built), UnqualifiedName(final)));
            Execute(d.DropTableIfExists(d.QuoteRelation(old)));
        }
        else if (!TableExists(final) && TableExists(old))
        {
            // The built table is gone and the final name is free: put the previous table back rather than lose it.
            Execute(d.RenameTable(d.QuoteRelation(old), UnqualifiedName(final)));
        }
        else
        {
            Execute(d.DropTableIfExists(d.QuoteRelation(old)));
        }
    }

    public override void Dispose() => _client.Dispose();
}
