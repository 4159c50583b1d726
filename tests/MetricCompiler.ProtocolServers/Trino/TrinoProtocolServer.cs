using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MetricCompiler.ProtocolServers.Trino;

// A local HTTP server that speaks Trino's client REST protocol (/v1/statement, nextUri paging, DELETE to cancel).
// The protocol lives here; what to answer for a statement is decided by a handler returning a TrinoScript, so a
// handler that runs the SQL on an embedded engine and returns its real rows can be plugged in without touching this.
// Self-contained (no dependency on the client under test) so it can move to shared test support.

/// <summary>One POST to <c>/v1/statement</c> as the server received it: the SQL, every header, and the attempt number.</summary>
/// <param name="QueryId">The id the query gets (or would have got, if this attempt is refused).</param>
/// <param name="Sql">The POST body.</param>
/// <param name="Headers">Every request header, case-insensitive; repeated headers joined with commas.</param>
/// <param name="Attempt">1 for a fresh statement; n when the previous n-1 POSTs of the same SQL were refused with a scripted <see cref="TrinoScript.PostFaults"/> status.</param>
public sealed record TrinoRecordedStatement(string QueryId, string Sql, IReadOnlyDictionary<string, string> Headers, int Attempt)
{
    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary><c>X-Trino-User</c>.</summary>
    public string? User => Header("X-Trino-User");

    /// <summary><c>X-Trino-Catalog</c>.</summary>
    public string? Catalog => Header("X-Trino-Catalog");

    /// <summary><c>X-Trino-Schema</c>.</summary>
    public string? Schema => Header("X-Trino-Schema");

    /// <summary><c>X-Trino-Source</c>.</summary>
    public string? Source => Header("X-Trino-Source");

    /// <summary><c>Authorization</c>.</summary>
    public string? Authorization => Header("Authorization");

    /// <summary><c>X-Trino-Session</c> decoded the way the coordinator decodes it (comma-separated, URL-decoded values).</summary>
    public IReadOnlyDictionary<string, string> Session
    {
        get
        {
            var session = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in (Header("X-Trino-Session") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                    session[pair[..equals]] = WebUtility.UrlDecode(pair[(equals + 1)..]);
            }

            return session;
        }
    }
}

/// <summary>Any request the server received, with the status it answered (0 while still being answered).</summary>
public sealed record TrinoRecordedRequest(string Method, string Path, string? Authorization, int Status);

/// <summary>A DELETE of a query's <c>nextUri</c>: the query id and the exact path deleted.</summary>
public sealed record TrinoRecordedDelete(string QueryId, string Path);

/// <summary>A result column: its name and Trino type text, e.g. <c>decimal(18,4)</c>.</summary>
public sealed record TrinoScriptColumn(string Name, string Type);

/// <summary>The <c>error</c> object of a failed query; <paramref name="Line"/>/<paramref name="Column"/> become <c>errorLocation</c>.</summary>
public sealed record TrinoScriptError(string Name, int Code, string Type, string Message, int? Line = null, int? Column = null);

/// <summary>An HTTP answer instead of the protocol one (what a gateway or an overloaded coordinator sends).</summary>
public sealed record TrinoHttpFault(int Status, string? RetryAfter = null, string? Body = null);

/// <summary>Credentials the server demands on every request of a statement; anything else gets HTTP 401.</summary>
public sealed record TrinoRequiredAuth(string Scheme, string ExpectedAuthorization)
{
    /// <summary>HTTP basic with this user and password.</summary>
    public static TrinoRequiredAuth Basic(string user, string password) =>
        new("Basic", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>A bearer token (JWT).</summary>
    public static TrinoRequiredAuth Bearer(string token) => new("Bearer", "Bearer " + token);

    /// <summary>Whether an <c>Authorization</c> header value satisfies this.</summary>
    public bool Accepts(string? authorization) => string.Equals(authorization, ExpectedAuthorization, StringComparison.Ordinal);
}

/// <summary>
/// What the server answers for one statement; the server turns it into protocol traffic. Rows are wire values, as
/// Trino would put them in JSON: numbers, booleans, strings (decimals, dates, timestamps and the doubles
/// <c>"NaN"</c>/<c>"Infinity"</c> are strings), null, or a <see cref="JsonElement"/> for anything structured.
/// </summary>
public sealed record TrinoScript
{
    /// <summary>The result columns (none for a statement without a result).</summary>
    public IReadOnlyList<TrinoScriptColumn> Columns { get; init; } = [];

    /// <summary>The rows, in wire form.</summary>
    public IReadOnlyList<object?[]> Rows { get; init; } = [];

    /// <summary>Rows per <c>nextUri</c> page.</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>Fail the query with this error (instead of finishing) after <see cref="ErrorAfterPages"/> data pages.</summary>
    public TrinoScriptError? Error { get; init; }

    /// <summary>Data pages served before the error page.</summary>
    public int ErrorAfterPages { get; init; }

    /// <summary>Statuses answered to the 1st, 2nd, … POST of this SQL before it is accepted (see <see cref="TrinoRecordedStatement.Attempt"/>).</summary>
    public IReadOnlyList<TrinoHttpFault> PostFaults { get; init; } = [];

    /// <summary>Statuses answered to the 1st, 2nd, … <c>nextUri</c> GET of the query before pages are served (the same page is then served).</summary>
    public IReadOnlyList<TrinoHttpFault> NextUriFaults { get; init; } = [];

    /// <summary>A wait before answering each <c>nextUri</c> GET past the first <see cref="PromptPages"/>; a DELETE ends it.</summary>
    public TimeSpan NextUriDelay { get; init; }

    /// <summary>How many <c>nextUri</c> pages are answered without <see cref="NextUriDelay"/>.</summary>
    public int PromptPages { get; init; }

    /// <summary>Credentials required on the POST and every later request of this statement; null accepts anything.</summary>
    public TrinoRequiredAuth? RequiredAuth { get; init; }

    /// <summary>Session properties the final page sets (<c>X-Trino-Set-Session</c>).</summary>
    public IReadOnlyDictionary<string, string> SetSession { get; init; } = new Dictionary<string, string>();

    /// <summary>Session properties the final page clears (<c>X-Trino-Clear-Session</c>).</summary>
    public IReadOnlyList<string> ClearSession { get; init; } = [];

    /// <summary>A catalog the final page switches to (<c>X-Trino-Set-Catalog</c>, as after <c>USE</c>).</summary>
    public string? SetCatalog { get; init; }

    /// <summary>A schema the final page switches to (<c>X-Trino-Set-Schema</c>).</summary>
    public string? SetSchema { get; init; }

    /// <summary><c>updateType</c>, e.g. <c>CREATE TABLE</c>, sent on every page.</summary>
    public string? UpdateType { get; init; }

    /// <summary><c>updateCount</c>, sent on the final page.</summary>
    public long? UpdateCount { get; init; }
}

/// <summary>
/// An HTTP server on 127.0.0.1 (free port) following Trino's client protocol: POST <c>/v1/statement</c> answers with
/// id, infoUri, nextUri and stats (state QUEUED); each GET of a nextUri answers one page; the last page has no nextUri;
/// DELETE of a nextUri cancels the query. What to answer comes from the handler; every statement and DELETE is recorded.
/// </summary>
public sealed class TrinoProtocolServer : IAsyncDisposable, IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<TrinoRecordedStatement, TrinoScript> _handler;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Query> _queries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private readonly ConcurrentDictionary<HttpListenerResponse, int> _requestIndex = new();
    private readonly Dictionary<string, int> _refusedPosts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<TrinoRecordedStatement> _statements = [];
    private readonly List<TrinoRecordedRequest> _requests = [];
    private readonly List<TrinoRecordedDelete> _deletes = [];
    private readonly Task _acceptLoop;
    private int _queryCounter;

    private TrinoProtocolServer(HttpListener listener, Uri endpoint, Func<TrinoRecordedStatement, TrinoScript> handler)
    {
        _listener = listener;
        Endpoint = endpoint;
        _handler = handler;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Starts a server answering every statement with <paramref name="handler"/>'s script.</summary>
    public static TrinoProtocolServer Start(Func<TrinoRecordedStatement, TrinoScript> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new TrinoProtocolServer(listener, new Uri($"http://127.0.0.1:{port}/"), handler);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close(); // the port was taken in between; try another
            }
        }
    }

    /// <summary>The base address to give a client.</summary>
    public Uri Endpoint { get; }

    /// <summary>Every POST received, refused attempts included, in arrival order.</summary>
    public IReadOnlyList<TrinoRecordedStatement> Statements
    {
        get
        {
            lock (_lock)
                return [.. _statements];
        }
    }

    /// <summary>Every request received, in arrival order.</summary>
    public IReadOnlyList<TrinoRecordedRequest> Requests
    {
        get
        {
            lock (_lock)
                return [.. _requests];
        }
    }

    /// <summary>Every DELETE received.</summary>
    public IReadOnlyList<TrinoRecordedDelete> Deletes
    {
        get
        {
            lock (_lock)
                return [.. _deletes];
        }
    }

    /// <summary>Stops listening and waits for requests being answered.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener.Close();
        try
        {
            await Task.WhenAll(_inFlight.Keys.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
            // shutting down
        }

        _stopping.Dispose();
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed class Query(string id, string slug, TrinoScript script)
    {
        public string Id { get; } = id;
        public string Slug { get; } = slug;
        public TrinoScript Script { get; } = script;
        public CancellationTokenSource Cancelled { get; } = new();
        public int FaultsServed;
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
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
                return; // stopped
            }

            var task = Task.Run(() => AnswerAsync(context));
            _inFlight.TryAdd(task, 0);
            _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        int index;
        lock (_lock)
        {
            index = _requests.Count;
            _requests.Add(new TrinoRecordedRequest(request.HttpMethod, path, request.Headers["Authorization"], 0));
        }

        _requestIndex[context.Response] = index;

        try
        {
            await RouteAsync(context, path).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            await Respond(context.Response, 500, "text/plain", "test server failure: " + e).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            context.Response.Abort();
        }
        finally
        {
            _requestIndex.TryRemove(context.Response, out _);
        }
    }

    private Task<int> RouteAsync(HttpListenerContext context, string path)
    {
        var method = context.Request.HttpMethod;
        if (path.TrimEnd('/') == "/v1/statement")
            return method == "POST" ? PostAsync(context) : Respond(context.Response, 405, "text/plain", "use POST");

        // /v1/statement/{queued|executing}/{queryId}/{slug}/{token}
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 6 && parts[0] == "v1" && parts[1] == "statement" && parts[2] is "queued" or "executing"
            && int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var token)
            && _queries.TryGetValue(parts[3], out var query) && query.Slug == parts[4])
        {
            if (query.Script.RequiredAuth is { } auth && !auth.Accepts(context.Request.Headers["Authorization"]))
                return Unauthorized(context.Response, auth);
            return method switch
            {
                "GET" => PageAsync(context, query, token),
                "DELETE" => DeleteAsync(context, query, path),
                _ => Respond(context.Response, 405, "text/plain", "use GET or DELETE"),
            };
        }

        return Respond(context.Response, 404, "text/plain", $"Query not found: {path}");
    }

    private async Task<int> PostAsync(HttpListenerContext context)
    {
        string sql;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            sql = await reader.ReadToEndAsync(_stopping.Token).ConfigureAwait(false);

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in context.Request.Headers.AllKeys)
            if (name is not null)
                headers[name] = string.Join(',', context.Request.Headers.GetValues(name) ?? []);

        var id = string.Create(CultureInfo.InvariantCulture, $"20260105_120000_{Interlocked.Increment(ref _queryCounter):D5}_local");
        int attempt;
        TrinoRecordedStatement statement;
        lock (_lock)
        {
            attempt = _refusedPosts.GetValueOrDefault(sql) + 1;
            statement = new TrinoRecordedStatement(id, sql, headers, attempt);
            _statements.Add(statement);
        }

        var script = _handler(statement);
        if (attempt <= script.PostFaults.Count)
        {
            lock (_lock)
                _refusedPosts[sql] = attempt;
            return await Fault(context.Response, script.PostFaults[attempt - 1]).ConfigureAwait(false);
        }

        lock (_lock)
            _refusedPosts.Remove(sql);
        if (script.RequiredAuth is { } auth && !auth.Accepts(statement.Authorization))
            return await Unauthorized(context.Response, auth).ConfigureAwait(false);

        var query = new Query(id, Guid.NewGuid().ToString("N"), script);
        _queries[id] = query;
        var json = Document(writer =>
        {
            WriteHeader(writer, query, NextUri(query, "queued", 1));
            WriteStats(writer, "QUEUED");
        });
        return await Respond(context.Response, 200, "application/json", json).ConfigureAwait(false);
    }

    private async Task<int> PageAsync(HttpListenerContext context, Query query, int token)
    {
        var script = query.Script;
        TrinoHttpFault? fault = null;
        lock (_lock)
        {
            if (query.FaultsServed < script.NextUriFaults.Count)
                fault = script.NextUriFaults[query.FaultsServed++];
        }

        if (fault is not null)
            return await Fault(context.Response, fault).ConfigureAwait(false);

        if (script.NextUriDelay > TimeSpan.Zero && token > script.PromptPages)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, query.Cancelled.Token);
            try
            {
                await Task.Delay(script.NextUriDelay, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                // deleted while waiting: fall through to the USER_CANCELED answer
            }
        }

        var response = context.Response;
        if (query.Cancelled.IsCancellationRequested)
        {
            return await Respond(response, 200, "application/json", Document(writer =>
            {
                WriteHeader(writer, query, null);
                WriteStats(writer, "FAILED");
                WriteError(writer, new TrinoScriptError("USER_CANCELED", 3, "USER_ERROR", "Query was canceled"));
            })).ConfigureAwait(false);
        }

        var pageSize = Math.Max(1, script.PageSize);
        var dataPages = script.Error is not null
            ? script.ErrorAfterPages
            : Math.Max(1, (script.Rows.Count + pageSize - 1) / pageSize);
        var failing = script.Error is not null && token > dataPages;
        var final = failing || (script.Error is null && token >= dataPages);
        if (final)
        {
            foreach (var (name, value) in script.SetSession)
                response.Headers.Add("X-Trino-Set-Session", name + "=" + WebUtility.UrlEncode(value));
            foreach (var name in script.ClearSession)
                response.Headers.Add("X-Trino-Clear-Session", name);
            if (script.SetCatalog is not null)
                response.Headers.Add("X-Trino-Set-Catalog", script.SetCatalog);
            if (script.SetSchema is not null)
                response.Headers.Add("X-Trino-Set-Schema", script.SetSchema);
        }

        var json = Document(writer =>
        {
            WriteHeader(writer, query, final ? null : NextUri(query, "executing", token + 1));
            if (script.Columns.Count > 0)
                WriteColumns(writer, script.Columns);
            if (!failing)
            {
                var rows = script.Rows.Skip((token - 1) * pageSize).Take(pageSize).ToList();
                if (rows.Count > 0)
                {
                    writer.WriteStartArray("data");
                    foreach (var row in rows)
                    {
                        writer.WriteStartArray();
                        foreach (var value in row)
                            WriteWireValue(writer, value);
                        writer.WriteEndArray();
                    }

                    writer.WriteEndArray();
                }
            }

            WriteStats(writer, failing ? "FAILED" : final ? "FINISHED" : "RUNNING");
            if (failing)
                WriteError(writer, script.Error!);
            if (script.UpdateType is not null)
                writer.WriteString("updateType", script.UpdateType);
            if (final && !failing && script.UpdateCount is { } count)
                writer.WriteNumber("updateCount", count);
        });
        return await Respond(response, 200, "application/json", json).ConfigureAwait(false);
    }

    private Task<int> DeleteAsync(HttpListenerContext context, Query query, string path)
    {
        lock (_lock)
            _deletes.Add(new TrinoRecordedDelete(query.Id, path));
        query.Cancelled.Cancel();
        return Respond(context.Response, 204, null, null);
    }

    private Uri NextUri(Query query, string phase, int token) =>
        new(Endpoint, $"v1/statement/{phase}/{query.Id}/{query.Slug}/{token.ToString(CultureInfo.InvariantCulture)}");

    private void WriteHeader(Utf8JsonWriter writer, Query query, Uri? nextUri)
    {
        writer.WriteString("id", query.Id);
        writer.WriteString("infoUri", new Uri(Endpoint, "ui/query.html?" + query.Id).AbsoluteUri);
        if (nextUri is not null)
        {
            writer.WriteString("partialCancelUri", new Uri(Endpoint, $"v1/stage/{query.Id}.0").AbsoluteUri);
            writer.WriteString("nextUri", nextUri.AbsoluteUri);
        }
    }

    private static void WriteStats(Utf8JsonWriter writer, string state)
    {
        writer.WriteStartObject("stats");
        writer.WriteString("state", state);
        writer.WriteBoolean("queued", state == "QUEUED");
        writer.WriteBoolean("scheduled", state != "QUEUED");
        writer.WriteNumber("nodes", 1);
        writer.WriteNumber("totalSplits", 0);
        writer.WriteNumber("queuedSplits", 0);
        writer.WriteNumber("runningSplits", 0);
        writer.WriteNumber("completedSplits", 0);
        writer.WriteNumber("cpuTimeMillis", 0);
        writer.WriteNumber("wallTimeMillis", 0);
        writer.WriteNumber("queuedTimeMillis", 0);
        writer.WriteNumber("elapsedTimeMillis", 0);
        writer.WriteNumber("processedRows", 0);
        writer.WriteNumber("processedBytes", 0);
        writer.WriteNumber("peakMemoryBytes", 0);
        writer.WriteNumber("spilledBytes", 0);
        writer.WriteEndObject();
    }

    private static void WriteError(Utf8JsonWriter writer, TrinoScriptError error)
    {
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteNumber("errorCode", error.Code);
        writer.WriteString("errorName", error.Name);
        writer.WriteString("errorType", error.Type);
        if (error.Line is { } line && error.Column is { } column)
        {
            writer.WriteStartObject("errorLocation");
            writer.WriteNumber("lineNumber", line);
            writer.WriteNumber("columnNumber", column);
            writer.WriteEndObject();
        }

        writer.WriteStartObject("failureInfo");
        writer.WriteString("type", "io.trino.spi.TrinoException");
        writer.WriteString("message", error.Message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Columns with a type signature whose raw type drops the parameters and whose arguments are the numeric ones.</summary>
    private static void WriteColumns(Utf8JsonWriter writer, IReadOnlyList<TrinoScriptColumn> columns)
    {
        writer.WriteStartArray("columns");
        foreach (var column in columns)
        {
            writer.WriteStartObject();
            writer.WriteString("name", column.Name);
            writer.WriteString("type", column.Type);
            writer.WriteStartObject("typeSignature");
            var open = column.Type.IndexOf('(', StringComparison.Ordinal);
            var close = column.Type.IndexOf(')', StringComparison.Ordinal);
            var raw = open < 0 ? column.Type : (column.Type[..open] + (close > open ? column.Type[(close + 1)..] : "")).Trim();
            writer.WriteString("rawType", raw);
            writer.WriteStartArray("arguments");
            if (open >= 0 && close > open)
            {
                foreach (var argument in column.Type[(open + 1)..close].Split(',', StringSplitOptions.TrimEntries))
                {
                    if (!long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                        continue;
                    writer.WriteStartObject();
                    writer.WriteString("kind", "LONG");
                    writer.WriteNumber("value", number);
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteWireValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case int or long or short or byte or sbyte:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case double d:
                writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                break;
            case float f:
                WriteWireValue(writer, (double)f);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            default:
                JsonSerializer.Serialize(writer, value, value.GetType());
                break;
        }
    }

    private static string Document(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private Task<int> Fault(HttpListenerResponse response, TrinoHttpFault fault)
    {
        if (fault.RetryAfter is not null)
            response.Headers.Add("Retry-After", fault.RetryAfter);
        return Respond(response, fault.Status, "text/plain", fault.Body ?? $"scripted HTTP {fault.Status}");
    }

    private Task<int> Unauthorized(HttpListenerResponse response, TrinoRequiredAuth auth)
    {
        response.Headers.Add("WWW-Authenticate", auth.Scheme == "Basic" ? "Basic realm=\"Trino\"" : "Bearer realm=\"Trino\"");
        return Respond(response, 401, "text/plain", "Unauthorized");
    }

    /// <summary>Records the status (before the client can see it), then writes the answer.</summary>
    private async Task<int> Respond(HttpListenerResponse response, int status, string? contentType, string? body)
    {
        if (_requestIndex.TryGetValue(response, out var index))
        {
            lock (_lock)
                _requests[index] = _requests[index] with { Status = status };
        }

        try
        {
            response.StatusCode = status;
            if (contentType is not null)
                response.ContentType = contentType;
            var bytes = Encoding.UTF8.GetBytes(body ?? "");
            response.ContentLength64 = bytes.Length;
            if (bytes.Length > 0)
                await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the client went away (cancelled or timed out); nothing to answer
        }

        return status;
    }
}
