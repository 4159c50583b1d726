using System.Globalization;
using MetricCompiler.Adapters.Snowflake;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters.Remote;

/// <summary>
/// Snowflake through its SQL API v2 (<see cref="SnowflakeClient"/>). A table is swapped in with
/// <c>ALTER TABLE built SWAP WITH final</c>, which exchanges the two names in one atomic step, so the final name is
/// never missing. Snowflake commits every DDL statement on its own, so several tables cannot swap in one transaction;
/// the swap is journaled, and the built table is marked with a comment first, so a recovering run can tell whether
/// a table was already swapped (the final table carries the marker) and then only drops the retired one.
/// The session time zone is UTC.
/// </summary>
public sealed class SnowflakeAdapter : RemoteWarehouseAdapter
{
    private readonly SnowflakeClient _client;

    private SnowflakeAdapter(SnowflakeClient client, string description, IEnumerable<string?> secrets)
        : base(SnowflakeDialect.Instance, secrets)
    {
        _client = client;
        Description = description;
    }

    public override string Description { get; }

    /// <summary>Connects and checks Snowflake answers (<c>select 1</c>); credentials are used, never printed.</summary>
    public static SnowflakeAdapter Open(SnowflakeClientOptions options, IEnumerable<string?> secrets)
    {
        var client = new SnowflakeClient(options with
        {
            SessionParameters = new Dictionary<string, string>(options.SessionParameters ?? new Dictionary<string, string>()) { ["TIMEZONE"] = "UTC" },
        });
        var where = options.Endpoint is { } endpoint ? $"{endpoint.Scheme}://{endpoint.Authority}" : options.Account;
        var adapter = new SnowflakeAdapter(client,
            $"snowflake {options.User}@{where} ({options.Database}.{options.Schema}, warehouse {options.Warehouse ?? "default"})", secrets);
        return Probed(adapter);
    }

    protected override void Send(string sql, WarehouseRowHandler? onRow) => SendAsync(sql, onRow).GetAwaiter().GetResult();

    private async Task SendAsync(string sql, WarehouseRowHandler? onRow)
    {
        var reader = await _client.ExecuteReaderAsync(sql).ConfigureAwait(false);
        if (onRow is null)
            return;
        var names = reader.Columns.Select(c => c.Name).ToArray();
        await foreach (var row in reader.ReadRowsAsync().ConfigureAwait(false))
            onRow(names, row);
    }

    protected override bool IsEngineFailure(Exception e) =>
        e is SnowflakeException or TimeoutException or HttpRequestException or IOException or FormatException;

    /// <summary>Unquoted names are stored upper-case in Snowflake; the comparison ignores case either way.</summary>
    protected override string TableCountSql(string table) =>
        $"select count(*) as table_count from information_schema.tables where upper(table_schema) = upper(current_schema()) " +
        $"and upper(table_name) = upper({Dialect.StringLiteral(table)})";

    protected override void CompleteSwap(string built, string final, string marker)
    {
        var d = Dialect;
        if (!TableExists(built))
            return;
        if (!TableExists(final))
        {
            Execute(d.RenameTable(d.QuoteRelation(built), UnqualifiedName(final)));
            return;
        }

        if (Comment(final) != marker)
        {
            Execute($"comment on table {d.QuoteRelation(built)} is {d.StringLiteral(marker)}");
            Execute($"alter table {d.QuoteRelation(built)} swap with {d.QuoteRelation(final)}");
        }

        // The built name now holds the previous table.
        Execute(d.DropTableIfExists(d.QuoteRelation(built)));
    }

    private string? Comment(string table)
    {
        string? comment = null;
        Read($"select comment from information_schema.tables where upper(table_schema) = upper(current_schema()) " +
             $"and upper(table_name) = upper({Dialect.StringLiteral(UnqualifiedName(table))})",
            (_, row) => comment = Convert.ToString(row[0], CultureInfo.InvariantCulture));
        return comment;
    }

    public override void Dispose() => _client.Dispose();
}
