using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace MetricCompiler.Adapters.Trino;

/// <summary>Receives one result row: the statement's columns and the row's values, converted by <see cref="TrinoValueConverter"/>.</summary>
public delegate void TrinoRowHandler(IReadOnlyList<TrinoColumn> columns, object?[] row);

/// <summary>
/// A small client for Trino's client REST protocol (<c>/v1/statement</c>): it POSTs a statement, follows
/// <c>nextUri</c> until the coordinator stops sending one, converts the rows by column type, and keeps the session
/// (properties, catalog, schema) that the server changes through <c>X-Trino-Set-*</c> / <c>X-Trino-Clear-Session</c>
/// for the following statements of the same client. Transient HTTP failures are retried (see <see cref="TrinoRetryOptions"/>);
/// cancellation and <see cref="TrinoClientOptions.QueryTimeout"/> DELETE the running query.
/// </summary>
/// <remarks>Safe to share between concurrent statements; the session is updated atomically per response.</remarks>
public sealed class TrinoClient : IDisposable
{
    private static readonly TimeSpan CancelRequestTimeout = TimeSpan.FromSeconds(5);
    private const int BodySnippetLength = 500;

    private readonly TrinoClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly Uri _statementUri;
    private readonly string _where;
    private readonly Lock _sessionLock = new();
    private readonly SortedDictionary<string, string> _session = new(StringComparer.Ordinal);
    private string? _catalog;
    private string? _schema;
    private bool _disposed;

    /// <summary>Creates a client with its own <see cref="HttpClient"/>, over <paramref name="handler"/> when given (tests); a given handler is not disposed.</summary>
    public TrinoClient(TrinoClientOptions options, HttpMessageHandler? handler = null)
        : this(options, handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false), ownsHttp: true)
    {
    }

    /// <summary>Creates a client over a caller's <see cref="HttpClient"/>, which is used as is and not disposed.</summary>
    public TrinoClient(TrinoClientOptions options, HttpClient httpClient)
        : this(options, httpClient ?? throw new ArgumentNullException(nameof(httpClient)), ownsHttp: false)
    {
    }

    private TrinoClient(TrinoClientOptions options, HttpClient http, bool ownsHttp)
    {
        try
        {
            Validate(options);
        }
        catch
        {
            if (ownsHttp)
                http.Dispose();
            throw;
        }

        _options = options;
        _http = http;
        _ownsHttp = ownsHttp;
        if (ownsHttp)
            _http.Timeout = Timeout.InfiniteTimeSpan; // QueryTimeout governs instead
        var baseUri = options.Endpoint.AbsoluteUri.EndsWith('/') ? options.Endpoint : new Uri(options.Endpoint.AbsoluteUri + "/");
        _statementUri = new Uri(baseUri, "v1/statement");
        _where = $"{options.Endpoint.Scheme}://{options.Endpoint.Authority}";
        foreach (var (name, value) in options.SessionProperties)
            _session[name] = value;
        _catalog = options.Catalog;
        _schema = options.Schema;
        _pipeline = BuildPipeline(options.Retry);
    }

    /// <summary>The session properties the next statement will send: the configured ones as changed by the server since.</summary>
    public IReadOnlyDictionary<string, string> SessionProperties
    {
        get
        {
            lock (_sessionLock)
                return new Dictionary<string, string>(_session, StringComparer.Ordinal);
        }
    }

    /// <summary>The catalog the next statement will send (the server may change it, e.g. after <c>USE</c>).</summary>
    public string? Catalog
    {
        get
        {
            lock (_sessionLock)
                return _catalog;
        }
    }

    /// <summary>The schema the next statement will send.</summary>
    public string? Schema
    {
        get
        {
            lock (_sessionLock)
                return _schema;
        }
    }

    /// <summary>Runs <paramref name="sql"/> and buffers every row; for large results use <see cref="StreamAsync"/>.</summary>
    /// <exception cref="TrinoQueryException">The query failed on the coordinator.</exception>
    /// <exception cref="TrinoAuthenticationException">HTTP 401 or 403.</exception>
    /// <exception cref="TrinoProtocolException">An HTTP or protocol failure, retries exhausted included.</exception>
    /// <exception cref="TrinoTimeoutException"><see cref="TrinoClientOptions.QueryTimeout"/> elapsed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<TrinoQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        var rows = new List<object?[]>();
        var summary = await StreamAsync(sql, (_, row) => rows.Add(row), cancellationToken).ConfigureAwait(false);
        return new TrinoQueryResult(summary.QueryId, summary.Columns, rows, summary.UpdateType, summary.UpdateCount);
    }

    /// <summary>
    /// Runs <paramref name="sql"/>, handing each row to <paramref name="onRow"/> as its page arrives, so only one page
    /// is held at a time. If <paramref name="onRow"/> throws, the query is cancelled on the server and the exception propagates.
    /// </summary>
    /// <returns>The query id, columns, row count and, for DDL/DML, the update type and count.</returns>
    /// <exception cref="TrinoQueryException">The query failed on the coordinator.</exception>
    /// <exception cref="TrinoAuthenticationException">HTTP 401 or 403.</exception>
    /// <exception cref="TrinoProtocolException">An HTTP or protocol failure, retries exhausted included.</exception>
    /// <exception cref="TrinoTimeoutException"><see cref="TrinoClientOptions.QueryTimeout"/> elapsed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<TrinoStatementSummary> StreamAsync(string sql, TrinoRowHandler onRow, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ArgumentNullException.ThrowIfNull(onRow);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        using var timeout = new CancellationTokenSource();
        if (_options.QueryTimeout != Timeout.InfiniteTimeSpan)
            timeout.CancelAfter(_options.QueryTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var state = new StatementState();
        try
        {
            var sessionHeaders = SessionHeaders();
            using (var first = await SendAsync(() => StatementRequest(sql, sessionHeaders), "POST", state, linked.Token).ConfigureAwait(false))
                Consume(first.RootElement, state, onRow);
            while (state.NextUri is { } next)
            {
                using var page = await SendAsync(() => PageRequest(HttpMethod.Get, next), "GET", state, linked.Token).ConfigureAwait(false);
                Consume(page.RootElement, state, onRow);
            }

            return new TrinoStatementSummary(state.QueryId ?? "", state.Columns ?? [], state.RowCount, state.UpdateType, state.UpdateCount);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await CancelQueryAsync(state.NextUri).ConfigureAwait(false);
            var query = state.QueryId is null ? "trino statement" : $"trino query {state.QueryId}";
            throw new TrinoTimeoutException(
                $"{query} did not finish within the query timeout of {_options.QueryTimeout}; it was cancelled", _options.QueryTimeout, state.QueryId, e);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            await CancelQueryAsync(state.NextUri).ConfigureAwait(false);
            var query = state.QueryId is null ? "trino statement" : $"trino query {state.QueryId}";
            throw new OperationCanceledException($"{query} was cancelled by the caller", e, cancellationToken);
        }
        catch (Exception) when (state.NextUri is not null)
        {
            // Cancellation, a failing row handler, a broken page: the query must not keep running on the cluster.
            await CancelQueryAsync(state.NextUri).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Releases the HTTP client when this client created it.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_ownsHttp)
            _http.Dispose();
    }

    private sealed class StatementState
    {
        public string? QueryId;
        public Uri? NextUri;
        public IReadOnlyList<TrinoColumn>? Columns;
        public long RowCount;
        public string? UpdateType;
        public long? UpdateCount;
    }

    private static void Validate(TrinoClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoint is null || !options.Endpoint.IsAbsoluteUri || (options.Endpoint.Scheme != Uri.UriSchemeHttp && options.Endpoint.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("the trino endpoint must be an absolute http:// or https:// address", nameof(options));
        if (!string.IsNullOrEmpty(options.Endpoint.UserInfo))
            throw new ArgumentException("the trino endpoint must not carry credentials; use Authentication", nameof(options));
        if (string.IsNullOrWhiteSpace(options.User))
            throw new ArgumentException("a trino user is required", nameof(options));
        ArgumentNullException.ThrowIfNull(options.SessionProperties, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Authentication, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Retry, nameof(options));
        foreach (var name in options.SessionProperties.Keys)
            if (string.IsNullOrWhiteSpace(name) || name.AsSpan().IndexOfAny("=, \t") >= 0)
                throw new ArgumentException($"'{name}' is not a valid session property name", nameof(options));
        if (options.QueryTimeout <= TimeSpan.Zero && options.QueryTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentException("the query timeout must be positive (or infinite)", nameof(options));
        if (options.Retry.MaxAttempts < 1)
            throw new ArgumentException("retry MaxAttempts must be at least 1", nameof(options));
        if (options.Retry.BaseDelay < TimeSpan.Zero || options.Retry.BaseDelay > TimeSpan.FromHours(1)
            || options.Retry.MaxDelay < options.Retry.BaseDelay || options.Retry.MaxDelay > TimeSpan.FromHours(1))
            throw new ArgumentException("retry delays must satisfy 0 <= BaseDelay <= MaxDelay <= 1 hour", nameof(options));
    }

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(TrinoRetryOptions retry)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (retry.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = retry.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                Delay = retry.BaseDelay,
                MaxDelay = retry.MaxDelay,
                UseJitter = retry.BaseDelay > TimeSpan.Zero,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .HandleResult(response => IsTransient(response.StatusCode)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, retry.MaxDelay)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            });
        }

        return builder.Build();
    }

    /// <summary>Statuses the protocol says to retry: 429 (after <c>Retry-After</c>) and 502/503/504 from gateways.</summary>
    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>The server's <c>Retry-After</c> (seconds or a date), capped; null to fall back to the exponential backoff.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (wait is not { } value)
            return null;
        return value < TimeSpan.Zero ? TimeSpan.Zero : value > max ? max : value;
    }

    private (string? Catalog, string? Schema, string? Session) SessionHeaders()
    {
        lock (_sessionLock)
        {
            var session = _session.Count == 0
                ? null
                : string.Join(',', _session.Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value)));
            return (_catalog, _schema, session);
        }
    }

    private HttpRequestMessage StatementRequest(string sql, (string? Catalog, string? Schema, string? Session) session)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _statementUri)
        {
            Content = new StringContent(sql, Encoding.UTF8, "text/plain"),
        };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("X-Trino-User", _options.User);
        headers.TryAddWithoutValidation("X-Trino-Source", _options.Source);
        if (session.Catalog is not null)
            headers.TryAddWithoutValidation("X-Trino-Catalog", session.Catalog);
        if (session.Schema is not null)
            headers.TryAddWithoutValidation("X-Trino-Schema", session.Schema);
        if (session.Session is not null)
            headers.TryAddWithoutValidation("X-Trino-Session", session.Session);
        if (_options.TimeZone is not null)
            headers.TryAddWithoutValidation("X-Trino-Time-Zone", _options.TimeZone);
        AddAuthorization(request);
        return request;
    }

    private HttpRequestMessage PageRequest(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        AddAuthorization(request);
        return request;
    }

    private void AddAuthorization(HttpRequestMessage request)
    {
        if (_options.Authentication.AuthorizationHeaderValue() is { } value)
            request.Headers.TryAddWithoutValidation("Authorization", value);
    }

    /// <summary>Sends one protocol request through the retry pipeline and parses the 200 answer as a <c>QueryResults</c> document.</summary>
    private async Task<JsonDocument> SendAsync(Func<HttpRequestMessage> makeRequest, string verb, StatementState state, CancellationToken token)
    {
        var attempts = 0;
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(
                async t =>
                {
                    attempts++;
                    using var request = makeRequest();
                    return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, t).ConfigureAwait(false);
                },
                token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TrinoProtocolException(
                $"cannot reach trino at {_where} ({verb} {Describe(state)}) after {attempts} attempt(s): {Scrub(e.Message)}", null, attempts, state.QueryId, e);
        }
        catch (OperationCanceledException e) when (!token.IsCancellationRequested)
        {
            // neither the caller nor the query timeout: a caller-supplied HttpClient's own Timeout
            throw new TrinoProtocolException(
                $"trino at {_where} did not answer {verb} {Describe(state)} within the HTTP client's timeout", null, attempts, state.QueryId, e);
        }

        using (response)
        {
            var status = response.StatusCode;
            if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var body = await SnippetAsync(response, token).ConfigureAwait(false);
                var what = status == HttpStatusCode.Unauthorized
                    ? $"trino at {_where} rejected the credentials of user {_options.User} (authentication: {_options.Authentication})"
                    : $"trino at {_where} denied user {_options.User} access (authentication: {_options.Authentication})";
                throw new TrinoAuthenticationException($"{what}: HTTP {(int)status} {response.ReasonPhrase}{body}", status, state.QueryId);
            }

            if (status != HttpStatusCode.OK)
            {
                var body = await SnippetAsync(response, token).ConfigureAwait(false);
                var message = IsTransient(status)
                    ? $"trino at {_where} still answered HTTP {(int)status} {response.ReasonPhrase} to {verb} {Describe(state)} after {attempts} attempt(s); giving up{body}"
                    : $"trino at {_where} answered HTTP {(int)status} {response.ReasonPhrase} to {verb} {Describe(state)}{body}";
                throw new TrinoProtocolException(message, status, attempts, state.QueryId);
            }

            ApplySessionChanges(response.Headers);
            try
            {
                var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                    return await JsonDocument.ParseAsync(stream, default, token).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new TrinoProtocolException(
                    $"trino at {_where} sent a body that is not JSON to {verb} {Describe(state)}: {e.Message}", status, attempts, state.QueryId, e);
            }
            catch (HttpRequestException e)
            {
                throw new TrinoProtocolException(
                    $"the connection to trino at {_where} broke while reading {verb} {Describe(state)}: {Scrub(e.Message)}", status, attempts, state.QueryId, e);
            }
        }
    }

    private static string Describe(StatementState state) =>
        state.QueryId is null ? "/v1/statement" : $"(query {state.QueryId})";

    /// <summary>A short, secret-free quote of an error body, prefixed for appending to a message.</summary>
    private async Task<string> SnippetAsync(HttpResponseMessage response, CancellationToken token)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return "";
        }

        body = Scrub(body.Trim());
        if (body.Length == 0)
            return "";
        return ": " + (body.Length > BodySnippetLength ? body[..BodySnippetLength] + "…" : body);
    }

    /// <summary>Removes the password or token (and the header built from it) from server or transport text.</summary>
    private string Scrub(string text)
    {
        if (_options.Authentication.AuthorizationHeaderValue() is { } header)
        {
            var encoded = header[(header.IndexOf(' ', StringComparison.Ordinal) + 1)..];
            text = text.Replace(encoded, "***", StringComparison.Ordinal);
        }

        if (_options.Authentication.Secret is { Length: > 0 } secret)
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        return text;
    }

    /// <summary>Honours <c>X-Trino-Set-Session</c>, <c>X-Trino-Clear-Session</c>, <c>X-Trino-Set-Catalog</c> and <c>X-Trino-Set-Schema</c>.</summary>
    private void ApplySessionChanges(HttpResponseHeaders headers)
    {
        var set = Values(headers, "X-Trino-Set-Session");
        var clear = Values(headers, "X-Trino-Clear-Session");
        var catalog = Values(headers, "X-Trino-Set-Catalog").LastOrDefault();
        var schema = Values(headers, "X-Trino-Set-Schema").LastOrDefault();
        if (set.Count == 0 && clear.Count == 0 && catalog is null && schema is null)
            return;

        lock (_sessionLock)
        {
            foreach (var name in clear)
                _session.Remove(name);
            foreach (var pair in set)
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                    continue;
                _session[pair[..equals].Trim()] = WebUtility.UrlDecode(pair[(equals + 1)..].Trim());
            }

            if (catalog is not null)
                _catalog = catalog;
            if (schema is not null)
                _schema = schema;
        }
    }

    /// <summary>Every comma-separated item of every occurrence of a header (values in these headers are URL-encoded, so commas only separate).</summary>
    private static List<string> Values(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values)
            ? values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList()
            : [];

    /// <summary>Reads one <c>QueryResults</c> document: id, nextUri, columns, data (handed to <paramref name="onRow"/>), update info, error.</summary>
    private void Consume(JsonElement root, StatementState state, TrinoRowHandler onRow)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Malformed(state, "the response is not a JSON object");

        if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            state.QueryId ??= id.GetString();

        state.NextUri = root.TryGetProperty("nextUri", out var next) && next.ValueKind == JsonValueKind.String
            ? Uri.TryCreate(next.GetString(), UriKind.Absolute, out var nextUri) ? nextUri : throw Malformed(state, "nextUri is not an absolute address")
            : null;

        if (state.Columns is null && root.TryGetProperty("columns", out var columns) && columns.ValueKind == JsonValueKind.Array)
            state.Columns = columns.EnumerateArray().Select(c => ReadColumn(c, state)).ToArray();

        if (root.TryGetProperty("updateType", out var updateType) && updateType.ValueKind == JsonValueKind.String)
            state.UpdateType = updateType.GetString();
        if (root.TryGetProperty("updateCount", out var updateCount) && updateCount.ValueKind == JsonValueKind.Number)
            state.UpdateCount = updateCount.GetInt64();

        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            state.NextUri = null; // the query is over; nothing to cancel
            throw ReadError(error, state);
        }

        if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            var cols = state.Columns ?? throw Malformed(state, "data arrived before the columns");
            foreach (var row in data.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != cols.Count)
                    throw Malformed(state, $"row {state.RowCount + 1} does not have {cols.Count} values");
                var values = new object?[cols.Count];
                var i = 0;
                foreach (var cell in row.EnumerateArray())
                {
                    try
                    {
                        values[i] = TrinoValueConverter.Convert(cell, cols[i]);
                    }
                    catch (Exception e) when (e is FormatException or OverflowException or InvalidOperationException or ArgumentException)
                    {
                        throw Malformed(state, $"row {state.RowCount + 1}, column {cols[i].Name} ({cols[i].Type}): {e.Message}", e);
                    }

                    i++;
                }

                state.RowCount++;
                onRow(cols, values);
            }
        }
    }

    private TrinoColumn ReadColumn(JsonElement column, StatementState state)
    {
        if (column.ValueKind != JsonValueKind.Object
            || !column.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !column.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw Malformed(state, "a column lacks its name or type");

        TrinoTypeSignature? signature = null;
        if (column.TryGetProperty("typeSignature", out var sig) && sig.ValueKind == JsonValueKind.Object
            && sig.TryGetProperty("rawType", out var raw) && raw.ValueKind == JsonValueKind.String)
        {
            var arguments = sig.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.Array
                ? args.EnumerateArray().Select(a => a.Clone()).ToArray()
                : [];
            signature = new TrinoTypeSignature(raw.GetString()!.ToLowerInvariant(), arguments);
        }

        return new TrinoColumn(name.GetString()!, type.GetString()!, signature);
    }

    private TrinoQueryException ReadError(JsonElement error, StatementState state)
    {
        static string Text(JsonElement e, string name, string fallback) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;

        var code = error.TryGetProperty("errorCode", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var n) ? n : 0;
        TrinoErrorLocation? location = null;
        if (error.TryGetProperty("errorLocation", out var loc) && loc.ValueKind == JsonValueKind.Object
            && loc.TryGetProperty("lineNumber", out var line) && line.TryGetInt32(out var l)
            && loc.TryGetProperty("columnNumber", out var col) && col.TryGetInt32(out var k))
            location = new TrinoErrorLocation(l, k);

        return new TrinoQueryException(
            state.QueryId,
            Text(error, "errorName", "UNKNOWN"),
            code,
            Text(error, "errorType", "UNKNOWN"),
            Scrub(Text(error, "message", "(no message)")),
            location);
    }

    private TrinoProtocolException Malformed(StatementState state, string what, Exception? inner = null) =>
        new($"trino at {_where} sent an invalid response {Describe(state)}: {what}", HttpStatusCode.OK, 1, state.QueryId, inner);

    /// <summary>Best-effort DELETE of the running query; never throws.</summary>
    private async Task CancelQueryAsync(Uri? nextUri)
    {
        if (nextUri is null)
            return;
        try
        {
            using var cts = new CancellationTokenSource(CancelRequestTimeout);
            using var request = PageRequest(HttpMethod.Delete, nextUri);
            using var response = await _http.SendAsync(request, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // best effort: the coordinator also abandons queries whose client stops polling
        }
    }
}
