using MetricCompiler.Adapters.Remote;
using MetricCompiler.Adapters.Snowflake;
using MetricCompiler.Adapters.Trino;
using MetricCompiler.ProtocolServers.Engine;
using MetricCompiler.ProtocolServers.Snowflake;
using MetricCompiler.ProtocolServers.Trino;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Adapters.Tests.Remote;

/// <summary>A Trino or Snowflake adapter over its protocol server, whose statements run on an in-process DuckDB.</summary>
public sealed class RemoteEngine : IAsyncDisposable
{
    public const string Password = "trino-password-5b1e-never-print";
    public const string OAuthToken = "snowflake-oauth-7c2d-never-print";

    private readonly TrinoEngineServer? _trino;
    private readonly SnowflakeEngineServer? _snowflake;

    public RemoteEngine(string engine, int pageRows = 100, int transientFaultEvery = 0)
    {
        Name = engine;
        if (engine == "trino")
            _trino = TrinoEngineServer.Start(TrinoRequiredAuth.Basic("metricc", Password), pageRows, transientFaultEvery);
        else
            _snowflake = SnowflakeEngineServer.Start(new SnowflakeServerAuth { Account = "XY12345", User = "METRIC_BOT", OAuthTokens = [OAuthToken] }, pageRows, transientFaultEvery);
    }

    public string Name { get; }

    public DuckDbEngine Engine => _trino?.Engine ?? _snowflake!.Engine;

    /// <summary>Result pages (Trino nextUri GETs with data) or partitions fetched after the first (Snowflake).</summary>
    public int FollowUpRequests => _trino is not null
        ? _trino.Server.Requests.Count(r => r.Method == "GET")
        : _snowflake!.Server.Requests.Count(r => r.Method == "GET" && r.Query.Contains("partition=", StringComparison.Ordinal));

    public int RefusedRequests => _trino is not null
        ? _trino.Server.Requests.Count(r => r.Status == 503)
        : _snowflake!.Server.Requests.Count(r => r.Status == 429);

    public IWarehouseAdapter Open() => _trino is not null
        ? TrinoAdapter.Open(_trino.Endpoint, "metricc", "memory", "acme", TrinoAuthentication.Basic("metricc", Password), Password)
        : SnowflakeAdapter.Open(new SnowflakeClientOptions
        {
            Account = "xy12345",
            User = "metric_bot",
            Authentication = SnowflakeAuthentication.OAuth(OAuthToken),
            Endpoint = _snowflake!.Endpoint,
            Database = "PRODUCT",
            Schema = "ACME",
            Warehouse = "METRICS_WH",
            Retry = new SnowflakeRetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(10), UseJitter = false },
            PollInterval = TimeSpan.FromMilliseconds(5),
        }, [OAuthToken]);

    public async ValueTask DisposeAsync()
    {
        _trino?.Dispose();
        if (_snowflake is not null)
            await _snowflake.DisposeAsync();
    }
}

public sealed class RemoteAdapterTests
{
    private static readonly TableSpec Values = new("mc_values",
    [
        new("id", SqlType.Integer, Nullable: false),
        new("label", SqlType.String),
        new("amount", SqlType.Double),
    ]);

    /// <summary>Strings a literal must escape, and doubles whose shortest text needs an exponent or many digits.</summary>
    private static List<object?[]> Rows(int count) => Enumerable.Range(0, count).Select(i => new object?[]
    {
        (long)i,
        (i % 5) switch { 0 => "o'clock", 1 => "back\\slash", 2 => "tab\tand\nnewline", 3 => null, _ => "ünïcode €" },
        (i % 4) switch { 0 => 1.0 / (i + 3), 1 => 1e-300 * i, 2 => null, _ => -123456.789e10 * i },
    }).ToList();

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public async Task A_load_reads_back_value_for_value_over_several_pages(string engine)
    {
        await using var remote = new RemoteEngine(engine, pageRows: 100, transientFaultEvery: 7);
        using var adapter = remote.Open();
        var rows = Rows(1_234);

        adapter.WriteTable(Values.Name, Values.Columns, rows);

        var read = new List<object?[]>();
        adapter.Read("select id, label, amount from mc_values order by id", (_, row) => read.Add(row));
        Assert.Equal(rows.Count, read.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i][0], Convert.ToInt64(read[i][0], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(rows[i][1], read[i][1]);
            Assert.Equal(rows[i][2], read[i][2]);
        }

        Assert.True(remote.FollowUpRequests >= 12, $"{remote.FollowUpRequests} follow-up requests");
        Assert.True(remote.RefusedRequests > 0, "no statement was refused with 503/429, so retries were not exercised");
        Assert.False(adapter.TableExists(Values.Name + RemoteWarehouseAdapter.LoadSuffix));
        Assert.False(adapter.TableExists(RemoteWarehouseAdapter.JournalTable));
    }

    /// <summary>Each step of a table's swap can be the one that fails: before the table moved, after, or at the clean-up.</summary>
    [Theory]
    [InlineData("trino", "alter table t2 rename")]
    [InlineData("trino", "alter table t2__mc_build rename")]
    [InlineData("trino", "drop table if exists t2__mc_old")]
    [InlineData("snowflake", "comment on table t2__mc_build")]
    [InlineData("snowflake", "alter table t2__mc_build swap")]
    [InlineData("snowflake", "drop table if exists t2__mc_build")]
    public async Task An_interrupted_swap_is_completed_by_the_next_run(string engine, string failingStep)
    {
        await using var remote = new RemoteEngine(engine);
        using (var adapter = remote.Open())
        {
            foreach (var table in new[] { "t1", "t2", "t3" })
            {
                adapter.Execute($"create table {table} as select 'old' as generation");
                adapter.Execute($"create table {table}__mc_build as select 'new' as generation");
            }

            // A step of the second table's swap fails: t1 is swapped, t2 is half way, t3 untouched.
            remote.Engine.FailNext(sql => sql.StartsWith(failingStep, StringComparison.Ordinal), "connection reset mid-swap");
            var failure = Assert.Throws<WarehouseException>(() => adapter.SwapTables([("t1__mc_build", "t1"), ("t2__mc_build", "t2"), ("t3__mc_build", "t3")]));
            Assert.True(failure.SwapPending);
            Assert.Equal("new", Generation(adapter, "t1"));
            Assert.True(adapter.TableExists(RemoteWarehouseAdapter.JournalTable));
        }

        using (var next = remote.Open())
        {
            Assert.Equal(["t1", "t2", "t3"], next.RecoverInterruptedSwap());
            foreach (var table in new[] { "t1", "t2", "t3" })
            {
                Assert.Equal("new", Generation(next, table));
                Assert.False(next.TableExists(table + "__mc_build"));
                Assert.False(next.TableExists(table + TrinoAdapter.OldSuffix));
            }

            Assert.False(next.TableExists(RemoteWarehouseAdapter.JournalTable));
            Assert.Empty(next.RecoverInterruptedSwap());
        }
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public async Task A_swap_with_a_missing_built_table_touches_nothing(string engine)
    {
        await using var remote = new RemoteEngine(engine);
        using var adapter = remote.Open();
        adapter.Execute("create table t1 as select 'old' as generation");
        adapter.Execute("create table t1__mc_build as select 'new' as generation");

        var error = Assert.Throws<WarehouseException>(() => adapter.SwapTables([("t1__mc_build", "t1"), ("t2__mc_build", "t2")]));

        Assert.False(error.SwapPending);
        Assert.Contains("`t2__mc_build`", error.Message, StringComparison.Ordinal);
        Assert.Equal("old", Generation(adapter, "t1"));
        Assert.False(adapter.TableExists(RemoteWarehouseAdapter.JournalTable));
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("snowflake")]
    public async Task Engine_errors_carry_the_statement_and_never_the_credential(string engine)
    {
        await using var remote = new RemoteEngine(engine);
        using var adapter = remote.Open();

        var error = Assert.Throws<WarehouseException>(() => adapter.Execute("select * from no_such_table"));

        Assert.Contains("no_such_table", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteEngine.Password, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteEngine.OAuthToken, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteEngine.Password, adapter.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteEngine.OAuthToken, adapter.Description, StringComparison.Ordinal);
    }

    private static string? Generation(IWarehouseAdapter adapter, string table) =>
        (string?)adapter.Query($"select generation from {table}").Single()["generation"];
}
