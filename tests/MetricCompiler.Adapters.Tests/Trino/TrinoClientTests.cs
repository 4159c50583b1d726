using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MetricCompiler.Adapters.Trino;
using static MetricCompiler.Adapters.Tests.Trino.TrinoTestSupport;

using MetricCompiler.ProtocolServers.Trino;

namespace MetricCompiler.Adapters.Tests.Trino;

public sealed class TrinoPagingAndTypesTests
{
    private static readonly TrinoScriptColumn[] AllTypes =
    [
        new("flag", "boolean"), new("tiny", "tinyint"), new("small", "smallint"), new("int", "integer"), new("big", "bigint"),
        new("r", "real"), new("d", "double"), new("amount", "decimal(18,4)"), new("name", "varchar(20)"), new("code", "char(3)"),
        new("day", "date"), new("at", "timestamp(3)"), new("at_tz", "timestamp(3) with time zone"), new("tags", "array(varchar)"),
        new("id", "uuid"),
    ];

    private static TrinoScript AllTypesScript()
    {
        var tags = JsonDocument.Parse("""["a","b"]""").RootElement.Clone();
        var rows = new List<object?[]>
        {
            new object?[] { true, 1, 300, 70000, 9007199254740993L, 1.5, 2.25, "12345.6789", "alpha", "abc", "2026-01-05", "2026-01-05 12:00:00.123", "2026-01-05 12:00:00.123 UTC", tags, "0b5e9c7e-8d6a-4f4e-9a53-0d2b6e1c9f10" },
            new object?[] { false, -128, -32768, -2147483648, long.MinValue, "NaN", "Infinity", "-0.0001", "béta ünïcode", "x  ", "1970-01-01", "2026-01-05 00:00:00.000", "2026-01-05 12:00:00.500 +01:00", tags, "id-2" },
            Enumerable.Repeat<object?>(null, AllTypes.Length).ToArray(),
            new object?[] { true, 127, 32767, 2147483647, long.MaxValue, "-Infinity", "-Infinity", "0", "", "   ", "2000-02-29", "1999-12-31 23:59:59.999", "2026-07-01 08:30:00.000 -05:30", tags, "id-4" },
        };
        for (var i = 5; i <= 7; i++)
            rows.Add([i % 2 == 0, i, i * 10, i * 100, i * 1000L, i + 0.5, i + 0.25, $"{i}.5000", $"row {i}", "abc", $"2026-01-0{i}", $"2026-01-0{i} 0{i}:00:00.000", $"2026-01-0{i} 0{i}:00:00.000 UTC", tags, $"id-{i}"]);
        return new TrinoScript { Columns = AllTypes, Rows = rows, PageSize = 2 };
    }

    [Fact]
    public async Task Follows_nextUri_over_four_pages_and_converts_every_type()
    {
        await using var server = TrinoProtocolServer.Start(_ => AllTypesScript());
        using var client = new TrinoClient(Options(server));

        var result = await client.ExecuteAsync("select * from every_type", CancellationToken.None);

        // 7 rows at 2 a page: the POST, then four nextUri pages; the last has no nextUri.
        Assert.Equal(4, server.Requests.Count(r => r.Method == "GET"));
        Assert.Equal(7, result.Rows.Count);
        Assert.Equal(server.Statements.Single().QueryId, result.QueryId);
        Assert.Equal(AllTypes.Select(c => c.Name), result.Columns.Select(c => c.Name));
        Assert.Equal(AllTypes.Select(c => c.Type), result.Columns.Select(c => c.Type));
        Assert.Equal("decimal", result.Columns[7].TypeSignature!.RawType);
        Assert.Equal([18L, 4L], result.Columns[7].TypeSignature!.Arguments.Select(a => a.GetProperty("value").GetInt64()));
        Assert.Equal("timestamp with time zone", result.Columns[12].RawType);

        var first = result.Rows[0];
        Assert.True(Assert.IsType<bool>(first[0]));
        Assert.Equal(1L, Assert.IsType<long>(first[1]));
        Assert.Equal(300L, Assert.IsType<long>(first[2]));
        Assert.Equal(70000L, Assert.IsType<long>(first[3]));
        Assert.Equal(9007199254740993L, Assert.IsType<long>(first[4]));
        Assert.Equal(1.5, Assert.IsType<double>(first[5]));
        Assert.Equal(2.25, Assert.IsType<double>(first[6]));
        Assert.Equal(12345.6789m, Assert.IsType<decimal>(first[7]));
        Assert.Equal("alpha", Assert.IsType<string>(first[8]));
        Assert.Equal("abc", Assert.IsType<string>(first[9]));
        Assert.Equal(new DateOnly(2026, 1, 5), Assert.IsType<DateOnly>(first[10]));
        var at = Assert.IsType<DateTime>(first[11]);
        Assert.Equal(new DateTime(2026, 1, 5, 12, 0, 0, 123), at);
        Assert.Equal(DateTimeKind.Unspecified, at.Kind);
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 12, 0, 0, 123, TimeSpan.Zero), Assert.IsType<DateTimeOffset>(first[12]));
        Assert.Equal("""["a","b"]""", Assert.IsType<string>(first[13])); // unknown type: its JSON text
        Assert.Equal("0b5e9c7e-8d6a-4f4e-9a53-0d2b6e1c9f10", Assert.IsType<string>(first[14]));

        var second = result.Rows[1];
        Assert.False(Assert.IsType<bool>(second[0]));
        Assert.Equal([-128L, -32768L, -2147483648L, long.MinValue], second[1..5].Cast<long>());
        Assert.True(double.IsNaN(Assert.IsType<double>(second[5])));
        Assert.Equal(double.PositiveInfinity, Assert.IsType<double>(second[6]));
        Assert.Equal(-0.0001m, Assert.IsType<decimal>(second[7]));
        Assert.Equal("béta ünïcode", second[8]);
        Assert.Equal("x  ", second[9]);
        Assert.Equal(new DateOnly(1970, 1, 1), second[10]);
        Assert.Equal(new DateTime(2026, 1, 5), second[11]);
        var withOffset = Assert.IsType<DateTimeOffset>(second[12]);
        Assert.Equal(TimeSpan.FromHours(1), withOffset.Offset);
        Assert.Equal(new DateTime(2026, 1, 5, 11, 0, 0, 500, DateTimeKind.Utc), withOffset.UtcDateTime);

        Assert.All(result.Rows[2], Assert.Null);

        var fourth = result.Rows[3];
        Assert.Equal(long.MaxValue, fourth[4]);
        Assert.Equal(double.NegativeInfinity, fourth[5]);
        Assert.Equal(double.NegativeInfinity, fourth[6]);
        Assert.Equal(0m, fourth[7]);
        Assert.Equal("", fourth[8]);
        Assert.Equal(new DateOnly(2000, 2, 29), fourth[10]);
        Assert.Equal(new DateTime(1999, 12, 31, 23, 59, 59, 999), fourth[11]);
        Assert.Equal(new TimeSpan(-5, -30, 0), Assert.IsType<DateTimeOffset>(fourth[12]).Offset);

        Assert.Equal([5L, 6L, 7L], result.Rows.Skip(4).Select(r => (long)r[1]!));
        Assert.Equal([7.5m, 6.5m, 5.5m], result.Rows.Skip(4).Select(r => (decimal)r[7]!).Reverse());
        Assert.Equal(new DateTime(2026, 1, 7, 7, 0, 0), result.Rows[6][11]);
    }

    [Fact]
    public async Task Streaming_hands_over_rows_before_the_later_pages_are_fetched()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(9, pageSize: 3));
        using var client = new TrinoClient(Options(server));
        var seen = new List<(long Value, int GetsSoFar)>();

        var summary = await client.StreamAsync(
            "select n from numbers",
            (columns, row) => seen.Add(((long)row[0]!, server.Requests.Count(r => r.Method == "GET"))),
            CancellationToken.None);

        Assert.Equal(9, summary.RowCount);
        Assert.Equal("n", Assert.Single(summary.Columns).Name);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), seen.Select(s => s.Value));
        // row 1 arrives while only the first page has been requested; row 9 after the third
        Assert.Equal(1, seen[0].GetsSoFar);
        Assert.Equal(3, seen[8].GetsSoFar);
    }

    [Fact]
    public async Task Update_type_and_count_are_returned()
    {
        await using var server = TrinoProtocolServer.Start(s => s.Sql.StartsWith("create table", StringComparison.Ordinal)
            ? new TrinoScript { Columns = [new("rows", "bigint")], Rows = [[42]], UpdateType = "CREATE TABLE", UpdateCount = 42 }
            : new TrinoScript { UpdateType = "CREATE SCHEMA" });
        using var client = new TrinoClient(Options(server));

        var ctas = await client.ExecuteAsync("create table t as select * from events", CancellationToken.None);
        var schema = await client.ExecuteAsync("create schema s", CancellationToken.None);

        Assert.Equal("CREATE TABLE", ctas.UpdateType);
        Assert.Equal(42L, ctas.UpdateCount);
        Assert.Equal([42L], Longs(ctas));
        Assert.Equal("CREATE SCHEMA", schema.UpdateType);
        Assert.Null(schema.UpdateCount);
        Assert.Empty(schema.Columns);
        Assert.Empty(schema.Rows);
    }
}

public sealed class TrinoSessionTests
{
    [Fact]
    public async Task User_catalog_schema_session_and_source_headers_arrive_on_the_post()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(3, pageSize: 1));
        var options = Options(server) with
        {
            SessionProperties = new Dictionary<string, string> { ["weird"] = "a,b=c d+e", ["query_max_run_time"] = "2h" },
        };
        using var client = new TrinoClient(options);

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], Longs(result));
        var statement = Assert.Single(server.Statements);
        Assert.Equal("select n from numbers", statement.Sql);
        Assert.Equal("alice", statement.User);
        Assert.Equal("hive", statement.Catalog);
        Assert.Equal("analytics", statement.Schema);
        Assert.Equal("metricc", statement.Source);
        Assert.Equal("query_max_run_time=2h,weird=a%2Cb%3Dc%20d%2Be", statement.Header("X-Trino-Session"));
        Assert.Equal(options.SessionProperties, statement.Session);
        // nextUri GETs carry the credentials too, but not the statement headers (the protocol needs them only on the POST)
        var gets = server.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal(3, gets.Count);
        Assert.All(gets, g => Assert.StartsWith("Basic ", g.Authorization, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Omitted_catalog_schema_and_session_send_no_headers_and_source_is_configurable()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(1));
        using var client = new TrinoClient(Options(server, TrinoAuthentication.None) with { Catalog = null, Schema = null, Source = "metricc-test" });

        await client.ExecuteAsync("select 1", CancellationToken.None);

        var statement = Assert.Single(server.Statements);
        Assert.Null(statement.Catalog);
        Assert.Null(statement.Schema);
        Assert.Null(statement.Header("X-Trino-Session"));
        Assert.Null(statement.Authorization);
        Assert.Equal("metricc-test", statement.Source);
    }

    [Fact]
    public async Task Set_and_clear_session_headers_change_the_following_statements_of_the_same_client()
    {
        await using var server = TrinoProtocolServer.Start(s => s.Sql == "use iceberg.staging"
            ? new TrinoScript
            {
                SetSession = new Dictionary<string, string> { ["query_max_run_time"] = "1 h", ["spill_enabled"] = "true" },
                ClearSession = ["join_distribution_type"],
                SetCatalog = "iceberg",
                SetSchema = "staging",
                UpdateType = "USE",
            }
            : Numbers(1));
        var options = Options(server) with { SessionProperties = new Dictionary<string, string> { ["join_distribution_type"] = "BROADCAST" } };
        using var client = new TrinoClient(options);

        await client.ExecuteAsync("use iceberg.staging", CancellationToken.None);
        await client.ExecuteAsync("select 1", CancellationToken.None);
        using var other = new TrinoClient(options);
        await other.ExecuteAsync("select 2", CancellationToken.None);

        var statements = server.Statements;
        Assert.Equal(new Dictionary<string, string> { ["join_distribution_type"] = "BROADCAST" }, statements[0].Session);
        Assert.Equal(new Dictionary<string, string> { ["query_max_run_time"] = "1 h", ["spill_enabled"] = "true" }, statements[1].Session);
        Assert.Equal("iceberg", statements[1].Catalog);
        Assert.Equal("staging", statements[1].Schema);
        Assert.Equal(statements[1].Session, client.SessionProperties);
        // the session belongs to the client that ran the statement
        Assert.Equal(new Dictionary<string, string> { ["join_distribution_type"] = "BROADCAST" }, statements[2].Session);
        Assert.Equal("hive", statements[2].Catalog);
    }
}

public sealed class TrinoErrorTests
{
    [Fact]
    public async Task A_query_error_carries_its_name_code_type_and_line_and_column()
    {
        await using var server = TrinoProtocolServer.Start(_ => new TrinoScript
        {
            Error = new TrinoScriptError("SYNTAX_ERROR", 1, "USER_ERROR", "line 2:8: mismatched input 'form'. Expecting: 'FROM'", 2, 8),
        });
        using var client = new TrinoClient(Options(server));

        var error = await ThrowsAsync<TrinoQueryException>(() => client.ExecuteAsync("select *\n  from form t", CancellationToken.None));

        Assert.Equal("SYNTAX_ERROR", error.ErrorName);
        Assert.Equal(1, error.ErrorCode);
        Assert.Equal("USER_ERROR", error.ErrorType);
        Assert.Equal(new TrinoErrorLocation(2, 8), error.ErrorLocation);
        Assert.Equal(server.Statements.Single().QueryId, error.QueryId);
        Assert.Contains("SYNTAX_ERROR", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2:8", error.Message, StringComparison.Ordinal);
        Assert.Contains("mismatched input 'form'", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Deletes); // a failed query is over; nothing to cancel
    }

    [Fact]
    public async Task An_error_after_some_pages_comes_after_their_rows_and_without_location_says_no_line()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(10, pageSize: 2) with
        {
            Error = new TrinoScriptError("EXCEEDED_TIME_LIMIT", 131075, "INSUFFICIENT_RESOURCES", "Query exceeded the maximum execution time limit of 1.00m"),
            ErrorAfterPages = 2,
        });
        using var client = new TrinoClient(Options(server));
        var rows = new List<long>();

        var error = await ThrowsAsync<TrinoQueryException>(() =>
            client.StreamAsync("select n from numbers", (_, row) => rows.Add((long)row[0]!), CancellationToken.None));

        Assert.Equal([1L, 2L, 3L, 4L], rows);
        Assert.Equal("EXCEEDED_TIME_LIMIT", error.ErrorName);
        Assert.Equal("INSUFFICIENT_RESOURCES", error.ErrorType);
        Assert.Null(error.ErrorLocation);
        Assert.DoesNotContain("line ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_400_is_not_retried()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(1) with { PostFaults = [new TrinoHttpFault(400, Body: "Bad request: no SQL")] });
        using var client = new TrinoClient(Options(server));

        var error = await ThrowsAsync<TrinoProtocolException>(() => client.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal(1, error.Attempts);
        Assert.Contains("HTTP 400", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bad request: no SQL", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Statements);
    }

    [Fact]
    public async Task A_row_handler_that_throws_cancels_the_query_on_the_server()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(10, pageSize: 2));
        using var client = new TrinoClient(Options(server));

        var error = await ThrowsAsync<InvalidOperationException>(() => client.StreamAsync(
            "select n from numbers",
            (_, row) => throw new InvalidOperationException("disk full"),
            CancellationToken.None));

        Assert.Equal("disk full", error.Message);
        var delete = Assert.Single(server.Deletes);
        Assert.Equal(server.Statements.Single().QueryId, delete.QueryId);
        Assert.Equal(1, server.Requests.Count(r => r.Method == "GET"));
    }
}

public sealed class TrinoRetryTests
{
    [Fact]
    public async Task Http_429_with_Retry_After_zero_is_retried_promptly_then_succeeds()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(2) with
        {
            PostFaults = [new TrinoHttpFault(429, RetryAfter: "0"), new TrinoHttpFault(429, RetryAfter: "0")],
        });
        // a long backoff that would outlast the query timeout if Retry-After were ignored
        var options = Options(server) with
        {
            QueryTimeout = TimeSpan.FromSeconds(10),
            Retry = new TrinoRetryOptions { MaxAttempts = 4, BaseDelay = TimeSpan.FromSeconds(20), MaxDelay = TimeSpan.FromSeconds(20) },
        };
        using var client = new TrinoClient(options);

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L], Longs(result));
        Assert.Equal([1, 2, 3], server.Statements.Select(s => s.Attempt));
        Assert.Equal([429, 429, 200], server.Requests.Where(r => r.Method == "POST").Select(r => r.Status));
    }

    [Fact]
    public async Task Http_503_on_the_post_and_502_503_504_on_a_nextUri_are_retried_then_succeed()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(3, pageSize: 1) with
        {
            PostFaults = [new TrinoHttpFault(503), new TrinoHttpFault(503)],
            NextUriFaults = [new TrinoHttpFault(503), new TrinoHttpFault(502), new TrinoHttpFault(504)],
        });
        using var client = new TrinoClient(Options(server));

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], Longs(result));
        Assert.Equal([503, 503, 200], server.Requests.Where(r => r.Method == "POST").Select(r => r.Status));
        var gets = server.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal([503, 502, 504, 200, 200, 200], gets.Select(g => g.Status));
        Assert.Single(gets.Take(4).Select(g => g.Path).Distinct()); // the same nextUri is asked again
    }

    [Fact]
    public async Task Persistent_503_gives_up_after_the_configured_attempts()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(1) with
        {
            PostFaults = Enumerable.Repeat(new TrinoHttpFault(503), 10).ToList(),
        });
        using var client = new TrinoClient(Options(server) with { Retry = new TrinoRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } });

        var error = await ThrowsAsync<TrinoProtocolException>(() => client.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(3, error.Attempts);
        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);
        Assert.Contains("after 3 attempt(s); giving up", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Statements.Count);
    }

    [Fact]
    public async Task Persistent_503_on_a_nextUri_gives_up_and_cancels_the_query()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(4, pageSize: 1) with
        {
            NextUriFaults = Enumerable.Repeat(new TrinoHttpFault(503), 10).ToList(),
        });
        using var client = new TrinoClient(Options(server));

        var error = await ThrowsAsync<TrinoProtocolException>(() => client.ExecuteAsync("select n from numbers", CancellationToken.None));

        Assert.Equal(4, error.Attempts);
        Assert.Equal(server.Statements.Single().QueryId, error.QueryId);
        Assert.Equal(4, server.Requests.Count(r => r.Method == "GET"));
        Assert.Equal(error.QueryId, Assert.Single(server.Deletes).QueryId);
    }

    [Fact]
    public async Task Connection_failures_are_retried_then_succeed()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(3, pageSize: 1));
        using var handler = new FailingFirstHandler(failures: 2) { InnerHandler = new SocketsHttpHandler() };
        using var client = new TrinoClient(Options(server), handler);

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], Longs(result));
        Assert.Equal(2 + 1 + 3, handler.Calls);
        Assert.Single(server.Statements);
    }

    [Fact]
    public async Task An_unreachable_coordinator_gives_up_after_the_configured_attempts()
    {
        var closedPort = ClosedPort();
        using var client = new TrinoClient(Options(new Uri($"http://127.0.0.1:{closedPort}/")) with
        {
            Retry = new TrinoRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
        });

        var error = await ThrowsAsync<TrinoProtocolException>(() => client.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Null(error.StatusCode);
        Assert.Equal(3, error.Attempts);
        Assert.Contains("cannot reach trino", error.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    private static int ClosedPort()
    {
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Fails the first requests as a refused connection would, then passes them on.</summary>
    private sealed class FailingFirstHandler(int failures) : DelegatingHandler
    {
        private int _calls;

        public int Calls => _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _calls) <= failures
                ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1)")
                : base.SendAsync(request, cancellationToken);
    }
}

public sealed class TrinoCancellationTests
{
    [Fact]
    public async Task Cancelling_the_token_deletes_the_running_query()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(4, pageSize: 1) with { NextUriDelay = TimeSpan.FromSeconds(30) });
        using var client = new TrinoClient(Options(server));
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var running = client.ExecuteAsync("select n from slow", cts.Token);
        while (!server.Requests.Any(r => r.Method == "GET") && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(10);
        await cts.CancelAsync();

        var error = await ThrowsAsync<OperationCanceledException>(() => running);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(cts.Token, error.CancellationToken);
        var statement = Assert.Single(server.Statements);
        var delete = Assert.Single(server.Deletes);
        Assert.Equal(statement.QueryId, delete.QueryId);
        // the DELETE goes to the nextUri being polled: the first one, handed out by the POST
        var get = Assert.Single(server.Requests, r => r.Method == "GET");
        Assert.Equal(get.Path, delete.Path);
        Assert.Contains("/v1/statement/queued/", delete.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_between_pages_deletes_the_next_page()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(10, pageSize: 2));
        using var client = new TrinoClient(Options(server));
        using var cts = new CancellationTokenSource();
        var rows = 0;

        await ThrowsAsync<OperationCanceledException>(() => client.StreamAsync("select n from numbers", (_, _) =>
        {
            if (++rows == 1)
                cts.Cancel();
        }, cts.Token));

        Assert.Equal(2, rows); // the page in hand is finished; the next is never asked for
        Assert.Equal(1, server.Requests.Count(r => r.Method == "GET"));
        Assert.EndsWith("/2", Assert.Single(server.Deletes).Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_query_timeout_deletes_the_query_and_throws_a_timeout_exception()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(4, pageSize: 1) with { NextUriDelay = TimeSpan.FromSeconds(30), PromptPages = 1 });
        using var client = new TrinoClient(Options(server) with { QueryTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();

        var error = await ThrowsAsync<TrinoTimeoutException>(() => client.ExecuteAsync("select n from slow", CancellationToken.None));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        var statement = Assert.Single(server.Statements);
        Assert.Equal(statement.QueryId, error.QueryId);
        Assert.Equal(TimeSpan.FromSeconds(1), error.Timeout);
        Assert.Contains("query timeout", error.Message, StringComparison.Ordinal);
        Assert.Contains(statement.QueryId, error.Message, StringComparison.Ordinal);
        var delete = Assert.Single(server.Deletes);
        Assert.EndsWith("/2", delete.Path, StringComparison.Ordinal); // page 1 came promptly; page 2 was pending
    }
}

public sealed class TrinoCallerHttpClientTests
{
    [Fact]
    public async Task A_caller_http_client_is_used_and_its_own_timeout_is_a_protocol_error_that_cancels_the_query()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(4, pageSize: 1) with { NextUriDelay = TimeSpan.FromSeconds(30), PromptPages = 1 });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        using (var client = new TrinoClient(Options(server), http))
        {
            var error = await ThrowsAsync<TrinoProtocolException>(() => client.ExecuteAsync("select n from slow", CancellationToken.None));

            Assert.Null(error.StatusCode);
            Assert.Contains("within the HTTP client's timeout", error.Message, StringComparison.Ordinal);
            Assert.EndsWith("/2", Assert.Single(server.Deletes).Path, StringComparison.Ordinal);
        }

        // disposing the client leaves the caller's HttpClient usable
        using var response = await http.GetAsync(new Uri(server.Endpoint, "v1/info"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

public sealed class TrinoAuthenticationTests
{
    [Fact]
    public async Task Basic_authentication_succeeds_on_the_post_and_every_page()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(3, pageSize: 1) with { RequiredAuth = TrinoRequiredAuth.Basic(User, Password) });
        using var client = new TrinoClient(Options(server, TrinoAuthentication.Basic(User, Password)));

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], Longs(result));
        Assert.All(server.Requests, r => Assert.Equal(200, r.Status));
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task Jwt_bearer_authentication_succeeds()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(2, pageSize: 1) with { RequiredAuth = TrinoRequiredAuth.Bearer(Token) });
        using var client = new TrinoClient(Options(server, TrinoAuthentication.Bearer(Token)));

        var result = await client.ExecuteAsync("select n from numbers", CancellationToken.None);

        Assert.Equal([1L, 2L], Longs(result));
        Assert.All(server.Requests, r => Assert.Equal("Bearer " + Token, r.Authorization));
    }

    public static TheoryData<string> WrongCredentials => ["wrong password", "wrong token", "basic instead of bearer", "none"];

    [Theory]
    [MemberData(nameof(WrongCredentials))]
    public async Task Wrong_credentials_give_an_authentication_error_without_retry(string which)
    {
        var (required, given) = which switch
        {
            "wrong password" => (TrinoRequiredAuth.Basic(User, Password), TrinoAuthentication.Basic(User, WrongPassword)),
            "wrong token" => (TrinoRequiredAuth.Bearer(Token), TrinoAuthentication.Bearer(WrongToken)),
            "basic instead of bearer" => (TrinoRequiredAuth.Bearer(Token), TrinoAuthentication.Basic(User, Password)),
            _ => (TrinoRequiredAuth.Basic(User, Password), TrinoAuthentication.None),
        };
        await using var server = TrinoProtocolServer.Start(_ => Numbers(1) with { RequiredAuth = required });
        using var client = new TrinoClient(Options(server, given));

        var error = await ThrowsAsync<TrinoAuthenticationException>(() => client.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("rejected the credentials of user alice", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Statements);
    }

    [Fact]
    public async Task Http_403_is_an_access_error_without_retry()
    {
        await using var server = TrinoProtocolServer.Start(_ => Numbers(1) with { PostFaults = [new TrinoHttpFault(403, Body: "Access Denied: alice cannot query")] });
        using var client = new TrinoClient(Options(server, TrinoAuthentication.Bearer(Token)));

        var error = await ThrowsAsync<TrinoAuthenticationException>(() => client.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Contains("denied user alice access", error.Message, StringComparison.Ordinal);
        Assert.Contains("Access Denied", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Statements);
    }

    [Fact]
    public async Task Secrets_echoed_by_the_server_are_scrubbed_from_exception_text()
    {
        var basicHeader = TrinoRequiredAuth.Basic(User, Password).ExpectedAuthorization;
        await using var server = TrinoProtocolServer.Start(s => s.Sql == "bad request"
            ? new TrinoScript { PostFaults = [new TrinoHttpFault(400, Body: $"cannot parse header Authorization: {basicHeader} (password {Password})")] }
            : new TrinoScript { Error = new TrinoScriptError("GENERIC_USER_ERROR", 0, "USER_ERROR", $"credential {Token} not allowed here") });
        using var basic = new TrinoClient(Options(server, TrinoAuthentication.Basic(User, Password)));
        using var bearer = new TrinoClient(Options(server, TrinoAuthentication.Bearer(Token)));

        var badRequest = await ThrowsAsync<TrinoProtocolException>(() => basic.ExecuteAsync("bad request", CancellationToken.None));
        var queryError = await ThrowsAsync<TrinoQueryException>(() => bearer.ExecuteAsync("select 1", CancellationToken.None));

        Assert.Contains("cannot parse header Authorization: Basic ***", badRequest.Message, StringComparison.Ordinal);
        Assert.Contains("credential ***", queryError.ErrorMessage, StringComparison.Ordinal);
        AssertNoSecrets(queryError.ErrorMessage);
    }

    [Fact]
    public void Options_and_authentication_never_print_their_secret()
    {
        var basic = Options(new Uri("http://127.0.0.1:1/"), TrinoAuthentication.Basic(User, Password));
        var bearer = Options(new Uri("http://127.0.0.1:1/"), TrinoAuthentication.Bearer(Token));

        AssertNoSecrets(basic.ToString());
        AssertNoSecrets(bearer.ToString());
        Assert.Contains("basic (user alice, password redacted)", basic.ToString(), StringComparison.Ordinal);
        Assert.Equal("bearer (token redacted)", bearer.Authentication.ToString());
    }
}

public sealed class TrinoClientOptionsTests
{
    public static TheoryData<string> BadOptions => ["relative endpoint", "credentials in endpoint", "no user", "bad session name", "zero attempts", "negative timeout"];

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Invalid_options_are_refused(string which)
    {
        var good = Options(new Uri("http://127.0.0.1:1/"));
        var options = which switch
        {
            "relative endpoint" => good with { Endpoint = new Uri("/trino", UriKind.Relative) },
            "credentials in endpoint" => good with { Endpoint = new Uri($"http://alice:{Password}@127.0.0.1:1/") },
            "no user" => good with { User = " " },
            "bad session name" => good with { SessionProperties = new Dictionary<string, string> { ["a=b"] = "1" } },
            "zero attempts" => good with { Retry = new TrinoRetryOptions { MaxAttempts = 0 } },
            _ => good with { QueryTimeout = TimeSpan.FromSeconds(-1) },
        };

        var error = Assert.ThrowsAny<ArgumentException>(() => new TrinoClient(options));
        AssertNoSecrets(error);
    }
}
