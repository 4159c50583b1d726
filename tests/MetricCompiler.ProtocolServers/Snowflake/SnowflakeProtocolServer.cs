using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricCompiler.ProtocolServers.Snowflake;

/// <summary>Who the server lets in: key-pair JWTs of one user (checked against a public key) and/or OAuth tokens.</summary>
public sealed record SnowflakeServerAuth
{
    /// <summary>The account as the JWT claims must name it (upper case, no region).</summary>
    public required string Account { get; init; }

    /// <summary>The user as the JWT claims must name it (upper case).</summary>
    public required string User { get; init; }

    /// <summary>The user's registered public key (SubjectPublicKeyInfo PEM); null disables key-pair login.</summary>
    public string? PublicKeyPem { get; init; }

    /// <summary>Accepted OAuth access tokens.</summary>
    public IReadOnlyCollection<string> OAuthTokens { get; init; } = [];
}

/// <summary>
/// A local stand-in for Snowflake's SQL API v2 on 127.0.0.1 (free port), speaking the documented protocol:
/// <c>POST /api/v2/statements</c> (200 ResultSet, 202 QueryStatus, 422 QueryFailureStatus),
/// <c>GET /api/v2/statements/{handle}[?partition=i]</c> and <c>POST /api/v2/statements/{handle}/cancel</c>, with
/// key-pair JWT verification (RS256 signature, <c>iss</c>/<c>sub</c> claims, <c>exp</c>) or OAuth, 401 otherwise.
/// <para>
/// What to answer comes from the handler, called once per request id with the first accepted POST; how to say it
/// (handles, partitioning, partitionInfo, polling, gzip, faults, cancel bookkeeping) is this class's job. A handler
/// that runs the SQL on an embedded engine only has to return <see cref="SnowflakeScript.FromValues"/>.
/// </para>
/// Records every request, every accepted statement and every cancel.
/// </summary>
public sealed class SnowflakeProtocolServer : IAsyncDisposable
{
    private const string StatementsPath = "/api/v2/statements";

    private readonly SnowflakeServerAuth _auth;
    private readonly Func<SnowflakeRecordedStatement, CancellationToken, Task<SnowflakeScript>> _handler;
    private readonly RSA? _publicKey;
    private readonly string? _expectedIssuer;
    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StatementState> _byRequestId = [];
    private readonly Dictionary<string, StatementState> _byHandle = [];
    private readonly List<SnowflakeRecordedStatement> _statements = [];
    private readonly List<SnowflakeRecordedRequest> _requests = [];
    private readonly List<string> _cancels = [];
    private readonly Task _acceptLoop;

    /// <summary>Starts a server whose answers come from a synchronous handler.</summary>
    public SnowflakeProtocolServer(SnowflakeServerAuth auth, Func<SnowflakeRecordedStatement, SnowflakeScript> handler)
        : this(auth, (statement, _) => Task.FromResult(handler(statement)))
    {
    }

    /// <summary>Starts a server whose answers come from an asynchronous handler (an embedded engine, say).</summary>
    public SnowflakeProtocolServer(SnowflakeServerAuth auth,
        Func<SnowflakeRecordedStatement, CancellationToken, Task<SnowflakeScript>> handler)
    {
        _auth = auth;
        _handler = handler;
        if (auth.PublicKeyPem is { } pem)
        {
            _publicKey = RSA.Create();
            _publicKey.ImportFromPem(pem);
            // The fingerprint straight from the PEM's DER bytes, not from .NET's re-encoding of the key.
            var der = Convert.FromBase64String(string.Concat(pem.Split('\n')
                .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
            _expectedIssuer = $"{auth.Account}.{auth.User}.SHA256:{Convert.ToBase64String(SHA256.HashData(der))}";
        }

        (_listener, Endpoint) = StartListener();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The base address to give the client (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri Endpoint { get; }

    /// <summary>Every accepted statement POST (retries included), in arrival order.</summary>
    public IReadOnlyList<SnowflakeRecordedStatement> Statements
    {
        get { lock (_gate) return [.. _statements]; }
    }

    /// <summary>Every HTTP request, with the status it got.</summary>
    public IReadOnlyList<SnowflakeRecordedRequest> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>The handles of every cancel request, in order.</summary>
    public IReadOnlyList<string> Cancels
    {
        get { lock (_gate) return [.. _cancels]; }
    }

    /// <summary>Requests refused with 401.</summary>
    public int RejectedAuthentications
    {
        get { lock (_gate) return _requests.Count(r => r.Status == 401); }
    }

    private static (HttpListener, Uri) StartListener()
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            var prefix = $"http://127.0.0.1:{port}/";
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
                return (listener, new Uri(prefix));
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var task = Task.Run(() => ServeAsync(context));
            _inFlight.TryAdd(task, 0);
            _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var headers = request.Headers.AllKeys.Where(k => k is not null)
            .ToDictionary(k => k!, k => request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
        var path = request.Url!.AbsolutePath;
        var query = request.Url.Query;
        Reply reply;
        try
        {
            string body;
            using (var bodyReader = new StreamReader(request.InputStream, Encoding.UTF8))
                body = await bodyReader.ReadToEndAsync(_stopping.Token).ConfigureAwait(false);
            reply = Authenticate(headers) is { } refusal
                ? Reply.Json(401, new JsonObject { ["code"] = "390144", ["message"] = refusal })
                : await RouteAsync(request.HttpMethod, path, request.QueryString, headers, body).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply = Reply.Json(500, new JsonObject { ["message"] = $"protocol server failure: {e.GetType().Name}: {e.Message}" });
        }
        catch (OperationCanceledException)
        {
            context.Response.Abort();
            return;
        }

        lock (_gate)
            _requests.Add(new SnowflakeRecordedRequest(request.HttpMethod, path, query, reply.AbortConnection ? 0 : reply.Status, headers));
        await WriteAsync(context, reply).ConfigureAwait(false);
    }

    private async Task<Reply> RouteAsync(string method, string path, System.Collections.Specialized.NameValueCollection query,
        IReadOnlyDictionary<string, string> headers, string body)
    {
        if (method == "POST" && path.TrimEnd('/') == StatementsPath)
            return await SubmitAsync(query, headers, body).ConfigureAwait(false);

        if (!path.StartsWith(StatementsPath + "/", StringComparison.Ordinal))
            return Reply.Json(404, new JsonObject { ["message"] = $"no such endpoint {path}" });
        var rest = path[(StatementsPath.Length + 1)..];
        if (method == "POST" && rest.EndsWith("/cancel", StringComparison.Ordinal))
            return Cancel(Uri.UnescapeDataString(rest[..^"/cancel".Length]));
        if (method == "GET" && !rest.Contains('/', StringComparison.Ordinal))
        {
            var partition = query["partition"] is { } p ? int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : 0;
            return await StatusAsync(Uri.UnescapeDataString(rest), partition).ConfigureAwait(false);
        }

        return Reply.Json(405, new JsonObject { ["message"] = $"{method} {path} is not part of the SQL API" });
    }

    private async Task<Reply> SubmitAsync(System.Collections.Specialized.NameValueCollection query,
        IReadOnlyDictionary<string, string> headers, string body)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return Reply.Json(400, new JsonObject { ["code"] = "390142", ["message"] = "Incoming request does not contain a valid payload." });
        }

        if (json["statement"]?.GetValue<string>() is not { } sql)
            return Reply.Json(400, new JsonObject { ["code"] = "390142", ["message"] = "statement is required" });

        var requestId = query["requestId"];
        var isRetry = string.Equals(query["retry"], "true", StringComparison.OrdinalIgnoreCase);
        var isAsync = string.Equals(query["async"], "true", StringComparison.OrdinalIgnoreCase);
        StatementState? state;
        int attempt;
        lock (_gate)
        {
            state = requestId is not null && _byRequestId.TryGetValue(requestId, out var known) ? known : null;
            attempt = state?.SubmitAttempts ?? 0;
        }

        var recorded = new SnowflakeRecordedStatement
        {
            RequestId = requestId,
            IsRetry = isRetry,
            IsAsync = isAsync,
            Attempt = attempt,
            Statement = sql,
            Timeout = json["timeout"]?.GetValue<long>(),
            Database = json["database"]?.GetValue<string>(),
            Schema = json["schema"]?.GetValue<string>(),
            Warehouse = json["warehouse"]?.GetValue<string>(),
            Role = json["role"]?.GetValue<string>(),
            Parameters = json["parameters"] is JsonObject parameters
                ? parameters.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "")
                : new Dictionary<string, string>(),
            Headers = headers,
            Body = body,
        };
        lock (_gate)
            _statements.Add(recorded);

        if (state is null)
        {
            var answer = await _handler(recorded, _stopping.Token).ConfigureAwait(false);
            state = new StatementState(Guid.NewGuid().ToString(), requestId, answer);
            lock (_gate)
            {
                // Two racing first attempts of one request id keep the first state.
                if (requestId is not null && !_byRequestId.TryAdd(requestId, state))
                    state = _byRequestId[requestId];
                else
                    _byHandle[state.Handle] = state;
            }
        }

        SnowflakeHttpFault? fault;
        lock (_gate)
        {
            var index = state.SubmitAttempts++;
            fault = index < state.Script.SubmitFaults.Count ? state.Script.SubmitFaults[index] : null;
            if (isAsync)
                state.ClientAskedAsync = true;
        }

        if (await FaultAsync(fault).ConfigureAwait(false) is { } faultReply)
            return faultReply;

        var script = state.Script;
        if (script.Asynchronous || script.PendingPolls > 0 || state.ClientAskedAsync)
            return Running(state);
        return script.Error is not null ? Failure(state) : ResultSet(state, 0);
    }

    private async Task<Reply> StatusAsync(string handle, int partition)
    {
        StatementState? state;
        SnowflakeHttpFault? fault;
        bool pending;
        lock (_gate)
        {
            if (!_byHandle.TryGetValue(handle, out state))
                return Reply.Json(404, new JsonObject { ["code"] = "333333", ["message"] = $"Statement {handle} not found" });
            var index = state.FetchRequests++;
            fault = index < state.Script.FetchFaults.Count ? state.Script.FetchFaults[index] : null;
            pending = false;
            if (fault is null || fault.Status is null && !fault.AbortConnection)
            {
                pending = !state.Cancelled && partition == 0 && state.PollsAnswered < state.Script.PendingPolls;
                if (pending)
                    state.PollsAnswered++;
            }
        }

        if (await FaultAsync(fault).ConfigureAwait(false) is { } faultReply)
            return faultReply;
        if (state.Cancelled)
            return Reply.Json(422, StatusObject(state, "000604", "57014", "SQL execution canceled"));
        if (pending)
            return Running(state);
        if (state.Script.Error is not null)
            return Failure(state);
        if (state.PollsAnswered < state.Script.PendingPolls)
            return Reply.Json(422, StatusObject(state, "000709", "02000", "Statement is still running; its partitions are not available"));
        if (partition < 0 || partition >= state.PartitionCount)
            return Reply.Json(422, StatusObject(state, "000000", "22023", $"partition {partition} is out of range"));
        return ResultSet(state, partition);
    }

    private Reply Cancel(string handle)
    {
        lock (_gate)
        {
            _cancels.Add(handle);
            if (!_byHandle.TryGetValue(handle, out var state))
                return Reply.Json(404, new JsonObject { ["code"] = "333333", ["message"] = $"Statement {handle} not found" });
            state.Cancelled = true;
            return Reply.Json(200, StatusObject(state, "000604", "57014", "successfully canceled"));
        }
    }

    private async Task<Reply?> FaultAsync(SnowflakeHttpFault? fault)
    {
        if (fault is null)
            return null;
        if (fault.Delay > TimeSpan.Zero)
            await Task.Delay(fault.Delay, _stopping.Token).ConfigureAwait(false);
        if (fault.AbortConnection)
            return Reply.Abort;
        if (fault.Status is not { } status)
            return null;
        var reply = Reply.Json(status, new JsonObject { ["message"] = $"scripted HTTP {status}" });
        return fault.RetryAfter is null ? reply : reply with { RetryAfter = fault.RetryAfter };
    }

    private static Reply Running(StatementState state) => Reply.Json(202, StatusObject(state, "333334", "01000",
        "Asynchronous execution in progress. Use provided query id to perform query monitoring and management."));

    private static Reply Failure(StatementState state) =>
        Reply.Json(422, StatusObject(state, state.Script.Error!.Code, state.Script.Error.SqlState, state.Script.Error.Message));

    private static JsonObject StatusObject(StatementState state, string code, string sqlState, string message) => new()
    {
        ["code"] = code,
        ["sqlState"] = sqlState,
        ["message"] = message,
        ["statementHandle"] = state.Handle,
        ["createdOn"] = state.CreatedOn,
        ["statementStatusUrl"] = $"{StatementsPath}/{state.Handle}",
    };

    private static Reply ResultSet(StatementState state, int partition)
    {
        var data = new JsonArray(state.PartitionRows(partition).Select(r => (JsonNode)new JsonArray(r.Select(v => (JsonNode?)v).ToArray())).ToArray());
        if (partition > 0)
            return Reply.Json(200, new JsonObject { ["data"] = data }) with { Gzip = state.Script.GzipPartitions };

        var script = state.Script;
        var result = StatusObject(state, "090001", "00000", script.Message);
        result["resultSetMetaData"] = new JsonObject
        {
            ["numRows"] = script.Rows.Count,
            ["format"] = "jsonv2",
            ["partitionInfo"] = new JsonArray(Enumerable.Range(0, state.PartitionCount).Select(i =>
            {
                var rows = state.PartitionRows(i);
                var size = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(rows));
                return (JsonNode)new JsonObject { ["rowCount"] = rows.Count, ["uncompressedSize"] = size };
            }).ToArray()),
            ["rowType"] = new JsonArray(script.Columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["database"] = "",
                ["schema"] = "",
                ["table"] = "",
                ["type"] = c.Type,
                ["scale"] = c.Scale,
                ["precision"] = c.Precision,
                ["length"] = c.Type == "text" ? 16777216 : null,
                ["byteLength"] = c.Type == "text" ? 16777216 : null,
                ["nullable"] = c.Nullable,
                ["collation"] = null,
            }).ToArray()),
        };
        result["data"] = data;
        if (script.Stats is { } stats)
        {
            result["stats"] = new JsonObject
            {
                ["numRowsInserted"] = stats.Inserted,
                ["numRowsUpdated"] = stats.Updated,
                ["numRowsDeleted"] = stats.Deleted,
                ["numDuplicateRowsUpdated"] = 0,
            };
        }

        return Reply.Json(200, result);
    }

    /// <summary>Null when the request may pass, else why it is refused.</summary>
    private string? Authenticate(IReadOnlyDictionary<string, string> headers)
    {
        if (!headers.TryGetValue("Authorization", out var authorization) ||
            !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
            return "Missing bearer token.";
        var token = authorization["Bearer ".Length..].Trim();
        headers.TryGetValue("X-Snowflake-Authorization-Token-Type", out var tokenType);
        var isJwt = tokenType is null ? token.Count(c => c == '.') == 2 : tokenType == "KEYPAIR_JWT";
        if (tokenType is not (null or "KEYPAIR_JWT" or "OAUTH"))
            return $"Unsupported token type {tokenType}.";
        if (!isJwt)
            return _auth.OAuthTokens.Contains(token) ? null : "Invalid OAuth access token.";
        return VerifyJwt(token);
    }

    private string? VerifyJwt(string token)
    {
        if (_publicKey is null)
            return "Key-pair authentication is not enabled for this user.";
        var parts = token.Split('.');
        if (parts.Length != 3)
            return "JWT token is invalid.";
        try
        {
            using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "RS256" || header.RootElement.GetProperty("typ").GetString() != "JWT")
                return "JWT token is invalid: header must be RS256/JWT.";
            if (!_publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]),
                    HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                return "JWT token is invalid: bad signature.";
            using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
            var root = claims.RootElement;
            if (root.GetProperty("iss").GetString() != _expectedIssuer)
                return "JWT token is invalid: unexpected issuer.";
            if (root.GetProperty("sub").GetString() != $"{_auth.Account}.{_auth.User}")
                return "JWT token is invalid: unexpected subject.";
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var issuedAt = root.GetProperty("iat").GetInt64();
            var expiresAt = root.GetProperty("exp").GetInt64();
            if (expiresAt <= now)
                return "JWT token has expired.";
            if (issuedAt > now + 60 || expiresAt - issuedAt > 3600)
                return "JWT token is invalid: issued in the future or valid for more than one hour.";
            return null;
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return "JWT token is invalid.";
        }
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    private static async Task WriteAsync(HttpListenerContext context, Reply reply)
    {
        var response = context.Response;
        try
        {
            if (reply.AbortConnection)
            {
                // HttpListener's Abort still sends an empty 200; promising a body and cutting it short is a real drop.
                response.StatusCode = 200;
                response.ContentType = "application/json";
                response.ContentLength64 = 4096;
                await response.OutputStream.WriteAsync("{\"code\":\"09"u8.ToArray()).ConfigureAwait(false);
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                response.Abort();
                return;
            }

            var bytes = Encoding.UTF8.GetBytes(reply.Body?.ToJsonString() ?? "");
            if (reply.Gzip)
            {
                using var buffer = new MemoryStream();
                using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                    gzip.Write(bytes);
                bytes = buffer.ToArray();
                response.AddHeader("Content-Encoding", "gzip");
            }

            response.StatusCode = reply.Status;
            response.ContentType = "application/json";
            if (reply.RetryAfter is not null)
                response.AddHeader("Retry-After", reply.RetryAfter);
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away (it cancelled); nothing to answer.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener.Close();
        try
        {
            await Task.WhenAll(_inFlight.Keys.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or HttpListenerException or ObjectDisposedException)
        {
            // Shutting down; a handler stuck in a scripted delay is abandoned.
        }

        _publicKey?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>One answer: status and JSON body, or a dropped connection.</summary>
    private sealed record Reply(int Status, JsonObject? Body)
    {
        public string? RetryAfter { get; init; }

        public bool Gzip { get; init; }

        public bool AbortConnection { get; init; }

        public static Reply Abort => new(0, null) { AbortConnection = true };

        public static Reply Json(int status, JsonObject body) => new(status, body);
    }

    /// <summary>The server's bookkeeping for one statement.</summary>
    private sealed class StatementState(string handle, string? requestId, SnowflakeScript script)
    {
        private readonly List<string?[]>[] _partitions = Split(script.Rows, Math.Max(1, script.Partitions));

        public string Handle { get; } = handle;

        public string? RequestId { get; } = requestId;

        public SnowflakeScript Script { get; } = script;

        public long CreatedOn { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public int SubmitAttempts { get; set; }

        public int FetchRequests { get; set; }

        public int PollsAnswered { get; set; }

        public bool ClientAskedAsync { get; set; }

        public bool Cancelled { get; set; }

        public int PartitionCount => _partitions.Length;

        public List<string?[]> PartitionRows(int partition) => _partitions[partition];

        private static List<string?[]>[] Split(IReadOnlyList<string?[]> rows, int partitions)
        {
            var result = new List<string?[]>[partitions];
            var start = 0;
            for (var i = 0; i < partitions; i++)
            {
                var count = rows.Count / partitions + (i < rows.Count % partitions ? 1 : 0);
                result[i] = rows.Skip(start).Take(count).ToList();
                start += count;
            }

            return result;
        }
    }
}
