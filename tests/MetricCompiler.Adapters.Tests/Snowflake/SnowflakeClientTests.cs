using System.Diagnostics;
using System.Numerics;
using System.Security.Cryptography;
using MetricCompiler.Adapters.Snowflake;
using static MetricCompiler.Adapters.Tests.Snowflake.SnowflakeTestSupport;

using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

public sealed class SnowflakeClientTests
{
    private static readonly SnowflakeScriptColumn[] TwoColumns =
    [
        new("ID", "fixed", 0, 38, false),
        new("NAME", "text"),
    ];

    private static SnowflakeProtocolServer Server(Func<SnowflakeRecordedStatement, SnowflakeScript> handler) =>
        new(ServerAuth, handler);

    private static IEnumerable<SnowflakeRecordedRequest> Gets(SnowflakeProtocolServer server) =>
        server.Requests.Where(r => r.Method == "GET");

    [Fact]
    public async Task A_query_sends_the_documented_request_and_returns_typed_rows()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "a"], ["2", null]]));
        using var client = new SnowflakeClient(Options(server.Endpoint) with
        {
            SessionParameters = new Dictionary<string, string> { ["QUERY_TAG"] = "metricc" },
        });

        var result = await client.ExecuteAsync("select id, name from t");

        Assert.Equal(["ID", "NAME"], result.Columns.Select(c => c.Name));
        Assert.Equal(typeof(long), result.Columns[0].ClrType);
        Assert.Equal(2, result.NumRows);
        Assert.Equal(new object?[] { 1L, "a" }, result.Rows[0]);
        Assert.Equal(new object?[] { 2L, null }, result.Rows[1]);
        Assert.Equal("Statement executed successfully.", result.Message);

        var statement = Assert.Single(server.Statements);
        Assert.Equal("select id, name from t", statement.Statement);
        Assert.True(Guid.TryParse(statement.RequestId, out _));
        Assert.False(statement.IsRetry);
        Assert.False(statement.IsAsync);
        Assert.Equal(30, statement.Timeout);
        Assert.Equal(("PRODUCT", "EXPERIMENTS", "METRICS_WH", "ANALYST"),
            (statement.Database, statement.Schema, statement.Warehouse, statement.Role));
        Assert.Equal("metricc", statement.Parameters["QUERY_TAG"]);
        Assert.Equal("KEYPAIR_JWT", statement.Headers["X-Snowflake-Authorization-Token-Type"]);
        Assert.StartsWith("Bearer ey", statement.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains("application/json", statement.Headers["Accept"], StringComparison.Ordinal);
        Assert.Contains("application/json", statement.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("MetricCompiler/0.1", statement.Headers["User-Agent"]);
        Assert.Empty(Gets(server));
    }

    [Fact]
    public async Task A_running_statement_answered_202_is_polled_until_200()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["7", "late"]]) with { PendingPolls = 3 });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var result = await client.ExecuteAsync("select slowly");

        Assert.Equal(new object?[] { 7L, "late" }, Assert.Single(result.Rows));
        Assert.Equal(202, server.Requests.Single(r => r.Method == "POST").Status);
        var polls = Gets(server).ToList();
        Assert.Equal([202, 202, 202, 200], polls.Select(p => p.Status));
        Assert.All(polls, p => Assert.Equal($"/api/v2/statements/{result.StatementHandle}", p.Path));
        Assert.All(polls, p => Assert.Equal("", p.Query));
    }

    [Fact]
    public async Task Submitting_asynchronously_asks_for_async_and_polls()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "x"]]));
        using var client = new SnowflakeClient(Options(server.Endpoint) with { SubmitAsynchronously = true });

        var result = await client.ExecuteAsync("select 1");

        Assert.Single(result.Rows);
        Assert.True(Assert.Single(server.Statements).IsAsync);
        Assert.Equal([200], Gets(server).Select(g => g.Status));
    }

    /// <summary>Every documented type, written as the API sends it, spread over four partitions.</summary>
    private static readonly SnowflakeScriptColumn[] EveryType =
    [
        new("N", "fixed", 0, 38, false),
        new("BIG", "fixed", 0, 38),
        new("AMOUNT", "fixed", 2, 12),
        new("RATIO", "real"),
        new("LABEL", "text"),
        new("FLAG", "boolean"),
        new("DAY", "date"),
        new("AT_TIME", "time", 9),
        new("NTZ", "timestamp_ntz", 9),
        new("LTZ", "timestamp_ltz", 9),
        new("TZ", "timestamp_tz", 9),
    ];

    private static string?[] WireRow(int i) =>
    [
        i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "123456789012345678901234567890",
        $"{i}.25",
        "0.5",
        $"row {i}",
        i % 2 == 0 ? "true" : "false",
        (18262 + i).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "82919.500000000",
        $"{1616173619 + i}.123456789",
        "1700000000.000000000",
        "1616173619.000000000 960",
    ];

    [Fact]
    public async Task Four_partitions_are_fetched_and_every_type_is_converted()
    {
        const int rowCount = 10;
        await using var server = Server(_ => SnowflakeScript.Query(EveryType,
            Enumerable.Range(0, rowCount).Select(WireRow).Append(new string?[] { "99", null, null, null, null, null, null, null, null, null, null }).ToArray(),
            partitions: 4));
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var result = await client.ExecuteAsync("select everything");

        Assert.Equal(rowCount + 1, result.NumRows);
        Assert.Equal(rowCount + 1, result.Rows.Count);
        Assert.Equal(["/api/v2/statements/" + result.StatementHandle], Gets(server).Select(g => g.Path).Distinct());
        Assert.Equal(["?partition=1", "?partition=2", "?partition=3"], Gets(server).Select(g => g.Query));

        for (var i = 0; i < rowCount; i++)
        {
            var row = result.Rows[i];
            Assert.Equal((long)i, row[0]);
            Assert.Equal(BigInteger.Parse("123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture), row[1]);
            Assert.Equal(i + 0.25m, row[2]);
            Assert.Equal(0.5, row[3]);
            Assert.Equal($"row {i}", row[4]);
            Assert.Equal(i % 2 == 0, row[5]);
            Assert.Equal(new DateOnly(2020, 1, 1).AddDays(i), row[6]);
            Assert.Equal(new TimeOnly(23, 1, 59, 500), row[7]);
            Assert.Equal(new DateTime(2021, 3, 19, 17, 6, 59, DateTimeKind.Utc).AddSeconds(i).AddTicks(1_234_567), row[8]);
            Assert.Equal(DateTimeKind.Utc, ((DateTime)row[9]!).Kind);
            Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc), row[9]);
            var tz = Assert.IsType<DateTimeOffset>(row[10]);
            Assert.Equal(new DateTimeOffset(2021, 3, 19, 9, 6, 59, TimeSpan.FromHours(-8)), tz);
            Assert.Equal(TimeSpan.FromHours(-8), tz.Offset);
        }

        Assert.Equal(99L, result.Rows[rowCount][0]);
        Assert.All(result.Rows[rowCount].Skip(1), Assert.Null);
    }

    [Fact]
    public async Task The_reader_fetches_a_partition_only_when_it_reaches_it()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns,
            Enumerable.Range(0, 6).Select(i => new string?[] { $"{i}", $"n{i}" }).ToArray(), partitions: 3));
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var reader = await client.ExecuteReaderAsync("select six");
        Assert.Equal(3, reader.PartitionCount);
        Assert.Equal(6, reader.NumRows);

        var seen = new List<long>();
        await foreach (var row in reader.ReadRowsAsync())
        {
            seen.Add((long)row[0]!);
            // Rows 0-1 come with the answer, 2-3 with partition 1, 4-5 with partition 2.
            Assert.Equal(seen.Count <= 2 ? 0 : seen.Count <= 4 ? 1 : 2, Gets(server).Count());
        }

        Assert.Equal([0L, 1, 2, 3, 4, 5], seen);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in reader.ReadRowsAsync())
            {
            }
        });
    }

    [Fact]
    public async Task A_statement_error_422_carries_code_state_message_and_handle()
    {
        await using var server = Server(_ => SnowflakeScript.Fail("002003", "42S02",
            "SQL compilation error:\nObject 'PRODUCT.EXPERIMENTS.MISSING' does not exist or not authorized."));
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var e = await Assert.ThrowsAsync<SnowflakeQueryException>(() => client.ExecuteAsync("select * from missing"));

        Assert.Equal("002003", e.Code);
        Assert.Equal("42S02", e.SqlState);
        Assert.Contains("does not exist or not authorized", e.ServerMessage, StringComparison.Ordinal);
        Assert.Contains("does not exist or not authorized", e.Message, StringComparison.Ordinal);
        Assert.Contains("002003", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.StatementHandle);
        Assert.Equal(422, e.HttpStatus);
        Assert.Single(server.Statements); // a statement error is not retried
    }

    [Fact]
    public async Task A_statement_that_fails_after_running_a_while_reports_the_error_from_the_poll()
    {
        await using var server = Server(_ => SnowflakeScript.Fail("100038", "22018", "Numeric value 'abc' is not recognized") with
        {
            PendingPolls = 2,
        });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var e = await Assert.ThrowsAsync<SnowflakeQueryException>(() => client.ExecuteAsync("select 'abc'::int"));

        Assert.Equal("100038", e.Code);
        Assert.Equal([202, 202, 422], Gets(server).Select(g => g.Status));
    }

    [Fact]
    public async Task Throttled_and_unavailable_submits_are_retried_with_the_same_request_id()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "ok"]]) with
        {
            SubmitFaults = [SnowflakeHttpFault.TooManyRequests("0"), SnowflakeHttpFault.Unavailable, SnowflakeHttpFault.GatewayTimeout],
        });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var result = await client.ExecuteAsync("select 1");

        Assert.Single(result.Rows);
        var attempts = server.Statements;
        Assert.Equal(4, attempts.Count);
        Assert.Single(attempts.Select(a => a.RequestId).Distinct());
        Assert.Equal([false, true, true, true], attempts.Select(a => a.IsRetry));
        Assert.Equal([429, 503, 504, 200], server.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task Retry_After_is_honoured_instead_of_the_backoff()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "ok"]]) with
        {
            SubmitFaults = [SnowflakeHttpFault.TooManyRequests("1")],
        });
        var options = Options(server.Endpoint);
        using var client = new SnowflakeClient(options with
        {
            Retry = options.Retry with { BaseDelay = TimeSpan.FromMinutes(10), MaxDelay = TimeSpan.FromMinutes(10) },
        });

        var clock = Stopwatch.StartNew();
        await client.ExecuteAsync("select 1").WaitAsync(TimeSpan.FromSeconds(60));

        // The backoff alone would wait ten minutes; Retry-After: 1 says one second.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        Assert.Equal(2, server.Statements.Count);
    }

    [Fact]
    public async Task Persistent_503_gives_up_after_the_configured_retries_with_a_clear_error()
    {
        await using var server = Server(_ => new SnowflakeScript { SubmitFaults = Enumerable.Repeat(SnowflakeHttpFault.Unavailable, 20).ToArray() });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var e = await Assert.ThrowsAsync<SnowflakeException>(() => client.ExecuteAsync("select 1"));

        Assert.Equal(503, e.HttpStatus);
        Assert.Contains("HTTP 503", e.Message, StringComparison.Ordinal);
        Assert.Contains("4 attempt(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("giving up", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, server.Statements.Count);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(400)]
    [InlineData(404)]
    public async Task Other_statuses_are_not_retried(int status)
    {
        await using var server = Server(_ => new SnowflakeScript { SubmitFaults = [new SnowflakeHttpFault(status)] });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var e = await Assert.ThrowsAsync<SnowflakeException>(() => client.ExecuteAsync("select 1"));

        Assert.Equal(status, e.HttpStatus);
        Assert.Contains($"HTTP {status}", e.Message, StringComparison.Ordinal);
        Assert.Contains("scripted HTTP", e.Message, StringComparison.Ordinal); // the server's message is quoted
        Assert.Single(server.Statements);
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "ok"]]) with
        {
            SubmitFaults = [SnowflakeHttpFault.DropConnection],
        });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var result = await client.ExecuteAsync("select 1");

        Assert.Single(result.Rows);
        Assert.Equal([false, true], server.Statements.Select(s => s.IsRetry));
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_retried_then_reported_with_the_host()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var client = new SnowflakeClient(Options(new Uri($"http://127.0.0.1:{port}/")));

        var e = await Assert.ThrowsAsync<SnowflakeException>(() => client.ExecuteAsync("select 1"));

        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("4 attempt(s)", e.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(e.InnerException);
    }

    [Fact]
    public async Task A_slow_attempt_past_the_request_timeout_is_retried()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "ok"]]) with
        {
            SubmitFaults = [SnowflakeHttpFault.Slow(TimeSpan.FromSeconds(3))],
        });
        using var client = new SnowflakeClient(Options(server.Endpoint) with { RequestTimeout = TimeSpan.FromMilliseconds(300) });

        var result = await client.ExecuteAsync("select 1");

        Assert.Single(result.Rows);
        Assert.Equal([false, true], server.Statements.Select(s => s.IsRetry));
    }

    [Fact]
    public async Task Partition_fetches_are_retried_too()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "a"], ["2", "b"]], partitions: 2) with
        {
            FetchFaults = [SnowflakeHttpFault.Unavailable, SnowflakeHttpFault.TooManyRequests("0")],
        });
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var result = await client.ExecuteAsync("select 2");

        Assert.Equal([1L, 2L], result.Rows.Select(r => (long)r[0]!));
        Assert.Equal([503, 429, 200], Gets(server).Select(g => g.Status));
    }

    [Fact]
    public async Task Cancelling_sends_the_cancel_request_and_throws_OperationCanceledException()
    {
        await using var server = Server(_ => SnowflakeScript.NeverFinishes);
        using var client = new SnowflakeClient(Options(server.Endpoint));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ExecuteAsync("select forever", cancellation.Token));

        Assert.Equal(cancellation.Token, e.CancellationToken);
        var handle = Assert.Single(server.Cancels);
        Assert.Contains(handle, e.Message, StringComparison.Ordinal);
        Assert.Contains(server.Requests, r => r.Method == "POST" && r.Path == $"/api/v2/statements/{handle}/cancel" && r.Status == 200);
        Assert.True(Gets(server).Count() > 1); // it was polling
    }

    [Fact]
    public async Task Past_the_statement_timeout_the_statement_is_cancelled_and_a_timeout_exception_thrown()
    {
        await using var server = Server(_ => SnowflakeScript.NeverFinishes);
        using var client = new SnowflakeClient(Options(server.Endpoint) with { StatementTimeout = TimeSpan.FromSeconds(1) });

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SnowflakeTimeoutException>(() => client.ExecuteAsync("select forever"));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        Assert.IsAssignableFrom<TimeoutException>(e);
        Assert.Equal(Assert.Single(server.Cancels), e.StatementHandle);
        Assert.Equal(1, Assert.Single(server.Statements).Timeout);
    }

    [Fact]
    public async Task A_timeout_during_a_slow_synchronous_submit_has_no_handle_to_cancel()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, []) with
        {
            SubmitFaults = [SnowflakeHttpFault.Slow(TimeSpan.FromSeconds(5))],
        });
        using var client = new SnowflakeClient(Options(server.Endpoint) with { StatementTimeout = TimeSpan.FromMilliseconds(500) });

        var e = await Assert.ThrowsAsync<SnowflakeTimeoutException>(() => client.ExecuteAsync("select slowly"));

        Assert.Null(e.StatementHandle);
        Assert.Empty(server.Cancels);
    }

    [Fact]
    public async Task A_wrong_key_is_an_authentication_error_and_is_not_retried()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, []));
        using var otherKey = RSA.Create(2048);
        using var client = new SnowflakeClient(Options(server.Endpoint,
            SnowflakeAuthentication.KeyPair(otherKey.ExportPkcs8PrivateKeyPem())));

        var e = await Assert.ThrowsAsync<SnowflakeAuthenticationException>(() => client.ExecuteAsync("select 1"));

        Assert.Equal(401, e.HttpStatus);
        Assert.Contains("KEYPAIR_JWT", e.Message, StringComparison.Ordinal);
        Assert.Contains(User, e.Message, StringComparison.Ordinal);
        Assert.Contains("JWT token is invalid", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RejectedAuthentications);
        Assert.Single(server.Requests);
        Assert.Empty(server.Statements);
    }

    [Fact]
    public async Task An_expired_JWT_is_refused()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, []));
        using var client = new SnowflakeClient(Options(server.Endpoint), timeProvider: new ManualTimeProvider(DateTimeOffset.UtcNow.AddHours(-2)));

        var e = await Assert.ThrowsAsync<SnowflakeAuthenticationException>(() => client.ExecuteAsync("select 1"));

        Assert.Contains("expired", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_signs_a_new_JWT_before_the_old_one_expires()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "x"]]));
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-55));
        using var client = new SnowflakeClient(Options(server.Endpoint), timeProvider: clock);

        await client.ExecuteAsync("select 1");
        await client.ExecuteAsync("select 2");
        clock.Advance(TimeSpan.FromMinutes(55)); // the first token has four minutes left
        await client.ExecuteAsync("select 3");

        var tokens = server.Statements.Select(s => BearerToken(s.Headers)).ToList();
        Assert.Equal(tokens[0], tokens[1]);
        Assert.NotEqual(tokens[1], tokens[2]);
        Assert.True(DecodeJwt(tokens[2]).Claims.GetProperty("iat").GetInt64() > DecodeJwt(tokens[0]).Claims.GetProperty("iat").GetInt64());
        Assert.Equal(0, server.RejectedAuthentications);
    }

    [Fact]
    public async Task OAuth_sends_the_token_with_the_OAUTH_type_and_a_wrong_token_is_refused()
    {
        await using var server = Server(_ => SnowflakeScript.Query(TwoColumns, [["1", "x"]]));
        using (var client = new SnowflakeClient(Options(server.Endpoint, SnowflakeAuthentication.OAuth(OAuthToken))))
            Assert.Single((await client.ExecuteAsync("select 1")).Rows);

        var headers = Assert.Single(server.Statements).Headers;
        Assert.Equal($"Bearer {OAuthToken}", headers["Authorization"]);
        Assert.Equal("OAUTH", headers["X-Snowflake-Authorization-Token-Type"]);

        using var wrong = new SnowflakeClient(Options(server.Endpoint, SnowflakeAuthentication.OAuth("not-the-token")));
        var e = await Assert.ThrowsAsync<SnowflakeAuthenticationException>(() => wrong.ExecuteAsync("select 1"));
        Assert.Contains("OAUTH", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-token", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DML_reports_its_stats_and_DDL_its_status_message()
    {
        await using var server = Server(s => s.Statement.StartsWith("insert", StringComparison.Ordinal)
            ? SnowflakeScript.Insert(3)
            : SnowflakeScript.Ddl("Table METRIC_DAILY successfully created."));
        using var client = new SnowflakeClient(Options(server.Endpoint));

        var insert = await client.ExecuteAsync("insert into metric_daily select * from staging");
        Assert.Equal(3, insert.Stats!.NumRowsInserted);
        Assert.Equal(3, insert.Stats.RowsAffected);
        Assert.Equal(3L, insert.Scalar);
        Assert.Equal(1, insert.NumRows);

        var ddl = await client.ExecuteAsync("create table metric_daily (x int)");
        Assert.Null(ddl.Stats);
        Assert.Equal("Table METRIC_DAILY successfully created.", ddl.Scalar);
        Assert.Equal("status", Assert.Single(ddl.Columns).Name);
    }

    [Fact]
    public async Task Secrets_never_appear_in_exception_text_even_when_the_server_echoes_them()
    {
        // A hostile or buggy server that quotes the request's credentials back in its error messages.
        await using var server = Server(s => s.Statement switch
        {
            "echo in 422" => SnowflakeScript.Fail("000001", "XX000", "you sent " + s.Headers["Authorization"]),
            "echo in 500" => new SnowflakeScript { SubmitFaults = [new SnowflakeHttpFault(500)] },
            _ => SnowflakeScript.Fail("000002", "XX000", "key was " + TestKeys.PrivateKeyPem),
        });
        using var keyPairClient = new SnowflakeClient(Options(server.Endpoint));
        using var oauthClient = new SnowflakeClient(Options(server.Endpoint, SnowflakeAuthentication.OAuth(OAuthToken)));
        using var otherKey = RSA.Create(2048);
        using var badKeyClient = new SnowflakeClient(Options(server.Endpoint,
            SnowflakeAuthentication.KeyPair(otherKey.ExportPkcs8PrivateKeyPem())));
        using var unreachable = new SnowflakeClient(Options(new Uri("http://127.0.0.1:9/")) with
        {
            Retry = new SnowflakeRetryOptions { MaxRetryAttempts = 1, BaseDelay = TimeSpan.Zero },
        });

        var texts = new List<string>
        {
            (await Assert.ThrowsAsync<SnowflakeQueryException>(() => keyPairClient.ExecuteAsync("echo in 422"))).ToString(),
            (await Assert.ThrowsAsync<SnowflakeQueryException>(() => oauthClient.ExecuteAsync("echo in 422"))).ToString(),
            (await Assert.ThrowsAsync<SnowflakeQueryException>(() => keyPairClient.ExecuteAsync("echo the key"))).ToString(),
            (await Assert.ThrowsAsync<SnowflakeException>(() => keyPairClient.ExecuteAsync("echo in 500"))).ToString(),
            (await Assert.ThrowsAsync<SnowflakeAuthenticationException>(() => badKeyClient.ExecuteAsync("x"))).ToString(),
            (await Assert.ThrowsAsync<SnowflakeException>(() => unreachable.ExecuteAsync("x"))).ToString(),
            keyPairClient.ToString(),
            oauthClient.ToString(),
            keyPairClient.Options.ToString(),
        };
        var jwts = server.Requests.Select(r => BearerToken(r.Headers)).Where(t => t != OAuthToken).Distinct().ToList();
        Assert.NotEmpty(jwts);
        Assert.Contains("you sent Bearer ***", texts[0], StringComparison.Ordinal); // the echo arrived, masked

        foreach (var text in texts)
        {
            foreach (var jwt in jwts)
                Assert.DoesNotContain(jwt, text, StringComparison.Ordinal);
            Assert.DoesNotContain(OAuthToken, text, StringComparison.Ordinal);
            foreach (var line in PrivateKeyLines())
                Assert.DoesNotContain(line, text, StringComparison.Ordinal);
            Assert.DoesNotContain("BEGIN PRIVATE KEY", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Cancel_can_be_called_directly_and_reports_whether_Snowflake_accepted_it()
    {
        await using var server = Server(_ => SnowflakeScript.NeverFinishes);
        using var client = new SnowflakeClient(Options(server.Endpoint));

        Assert.False(await client.CancelAsync("00000000-0000-0000-0000-000000000000"));
        Assert.Equal(["00000000-0000-0000-0000-000000000000"], server.Cancels);
    }
}
