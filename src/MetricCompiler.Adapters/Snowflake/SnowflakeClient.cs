using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// A small client for Snowflake's SQL API v2: submits one statement per call (<c>POST /api/v2/statements</c>), polls
/// while it runs (202), reads its result partition by partition, cancels it on cancellation or timeout, and retries
/// throttled (429), unavailable (503, 504) or unreachable requests with exponential backoff honouring
/// <c>Retry-After</c>. A resubmitted statement keeps its <c>requestId</c> and says <c>retry=true</c>, so Snowflake does
/// not run it twice. Thread-safe; one instance can run several statements at once.
/// </summary>
public sealed partial class SnowflakeClient : IDisposable
{
    private const string TokenTypeHeader = "X-Snowflake-Authorization-Token-Type";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly SnowflakeJwtGenerator? _jwt;
    private readonly SnowflakeOAuthAuthentication? _oauth;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly Uri _statementsUri;
    private readonly Lock _sentTokensGate = new();
    private readonly List<string> _sentTokens = [];
    private bool _disposed;

    /// <summary>
    /// Creates a client. Without <paramref name="httpClient"/> it creates (and disposes) its own, with automatic
    /// decompression; a supplied one is used as is (gzip answers are decompressed either way).
    /// <paramref name="timeProvider"/> drives JWT times, poll waits, retry delays and the statement timeout.
    /// </summary>
    public SnowflakeClient(SnowflakeClientOptions options, HttpClient? httpClient = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Options = options;
        _time = timeProvider ?? TimeProvider.System;
        switch (options.Authentication)
        {
            case SnowflakeKeyPairAuthentication keyPair:
                _jwt = new SnowflakeJwtGenerator(options.Account, options.User, keyPair, options.JwtLifetime, _time);
                break;
            case SnowflakeOAuthAuthentication oauth:
                _oauth = oauth;
                break;
            default:
                throw new ArgumentException("unsupported Snowflake authentication", nameof(options));
        }

        var endpoint = options.EffectiveEndpoint;
        if (!endpoint.AbsoluteUri.EndsWith('/'))
            endpoint = new Uri(endpoint.AbsoluteUri + "/");
        _statementsUri = new Uri(endpoint, SnowflakeProtocol.StatementsPath);

        if (httpClient is null)
        {
            _http = new HttpClient(new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            _ownsHttp = true;
        }
        else
        {
            _http = httpClient;
        }

        _pipeline = BuildPipeline(options.Retry, options.RequestTimeout, _time);
    }

    /// <summary>The options this client was created with.</summary>
    public SnowflakeClientOptions Options { get; }

    /// <summary>Runs <paramref name="sql"/> and returns all its rows (built on <see cref="ExecuteReaderAsync"/>).</summary>
    public async Task<SnowflakeResult> ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        var reader = await ExecuteReaderAsync(sql, cancellationToken).ConfigureAwait(false);
        var rows = new List<object?[]>(reader.NumRows is > 0 and < 1_000_000 ? (int)reader.NumRows : 0);
        await foreach (var row in reader.ReadRowsAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(row);
        return new SnowflakeResult(reader.StatementHandle, reader.Columns, rows, reader.NumRows, reader.Stats,
            reader.Message, reader.Code, reader.SqlState);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> until it finishes and returns a reader over its rows, which streams the partitions.
    /// Throws <see cref="SnowflakeQueryException"/> when the statement fails (422),
    /// <see cref="SnowflakeAuthenticationException"/> on 401/403, <see cref="SnowflakeTimeoutException"/> past
    /// <see cref="SnowflakeClientOptions.StatementTimeout"/> and <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires; in the last two cases the statement is cancelled first (best effort).
    /// </summary>
    public async Task<SnowflakeResultReader> ExecuteReaderAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ObjectDisposedException.ThrowIf(_disposed, this);

        var requestId = Guid.NewGuid().ToString();
        using var deadline = new CancellationTokenSource(Options.StatementTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        string? handle = null;
        try
        {
            var answer = await SubmitAsync(sql, requestId, linked.Token).ConfigureAwait(false);
            handle = answer.Body.StatementHandle;
            var interval = Options.PollInterval;
            while (answer.Pending)
            {
                if (handle is null)
                    throw new SnowflakeException("Snowflake answered 202 (still running) without a statement handle", httpStatus: 202);
                await Task.Delay(interval, _time, linked.Token).ConfigureAwait(false);
                interval = TimeSpan.FromTicks(Math.Min(Options.MaxPollInterval.Ticks, (long)(interval.Ticks * 1.5)));
                answer = await SendAsync($"status of statement {handle}", _ => Request(HttpMethod.Get, StatementUri(handle, null)),
                    handle, linked.Token).ConfigureAwait(false);
            }

            return new SnowflakeResultReader(this, answer.Body, handle);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            await TryCancelAsync(handle).ConfigureAwait(false);
            throw new OperationCanceledException(
                $"Snowflake statement {handle ?? "(no handle yet)"} was cancelled" + (handle is null ? "" : "; a cancel request was sent"),
                e, cancellationToken);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await TryCancelAsync(handle).ConfigureAwait(false);
            throw new SnowflakeTimeoutException(
                $"Snowflake statement {handle ?? "(no handle yet)"} did not finish within {Options.StatementTimeout}" +
                (handle is null ? "" : "; a cancel request was sent"), handle);
        }
    }

    /// <summary>
    /// Asks Snowflake to cancel a running statement (<c>POST /api/v2/statements/{handle}/cancel</c>). Best effort:
    /// one attempt within <see cref="SnowflakeClientOptions.CancelRequestTimeout"/>; returns whether Snowflake
    /// answered 200 and never throws for a failed request.
    /// </summary>
    public async Task<bool> CancelAsync(string statementHandle, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(statementHandle);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Options.CancelRequestTimeout);
        try
        {
            using var request = Request(HttpMethod.Post, new Uri(StatementUri(statementHandle, null) + "/cancel"));
            using var response = await _http.SendAsync(request, limit.Token).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary>Where the client points, safe to print.</summary>
    public override string ToString() =>
        $"Snowflake SQL API {Options.EffectiveEndpoint} as {Options.User} ({Options.Authentication})";

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _jwt?.Dispose();
        if (_ownsHttp)
            _http.Dispose();
    }

    internal async Task<List<string?[]>> FetchPartitionAsync(string handle, int partition, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var answer = await SendAsync($"partition {partition} of statement {handle}",
            _ => Request(HttpMethod.Get, StatementUri(handle, partition)), handle, cancellationToken).ConfigureAwait(false);
        if (answer.Pending)
            throw new SnowflakeException($"Snowflake answered 202 for partition {partition} of finished statement {handle}",
                httpStatus: 202, statementHandle: handle);
        return answer.Body.Data ?? [];
    }

    private Task<Answer> SubmitAsync(string sql, string requestId, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new SubmitStatementBody(
            sql,
            (long)Math.Ceiling(Options.StatementTimeout.TotalSeconds),
            Options.Database,
            Options.Schema,
            Options.Warehouse,
            Options.Role,
            Options.SessionParameters is { Count: > 0 } parameters ? parameters : null), SnowflakeProtocol.Json);
        return SendAsync("submitting a statement", isRetry =>
        {
            var query = new StringBuilder("?requestId=").Append(Uri.EscapeDataString(requestId));
            if (isRetry)
                query.Append("&retry=true");
            if (Options.SubmitAsynchronously)
                query.Append("&async=true");
            var request = Request(HttpMethod.Post, new Uri(_statementsUri + query.ToString()));
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            return request;
        }, null, cancellationToken);
    }

    /// <summary>
    /// Sends one logical request through the retry pipeline (a fresh message per attempt) and interprets the answer:
    /// 200 done, 202 pending, anything else an exception.
    /// </summary>
    private async Task<Answer> SendAsync(string operation, Func<bool, HttpRequestMessage> createRequest, string? handle,
        CancellationToken cancellationToken)
    {
        var attempts = 0;
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(async token =>
            {
                using var request = createRequest(attempts++ > 0);
                // Reads the whole body within the attempt, so the retry also covers a connection lost mid-body.
                return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutRejectedException ||
                                  (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var reason = e is TimeoutRejectedException ? $"no answer within {Options.RequestTimeout}" : Redact(e.Message);
            throw new SnowflakeException(
                $"{operation}: could not reach Snowflake at {_statementsUri.GetLeftPart(UriPartial.Authority)} " +
                $"after {attempts} attempt(s): {reason}",
                e is HttpRequestException or IOException ? e : null, statementHandle: handle);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            switch (status)
            {
                case 200:
                    return new Answer(await ReadBodyAsync(response, operation, cancellationToken).ConfigureAwait(false), Pending: false);
                case 202:
                    return new Answer(await ReadBodyAsync(response, operation, cancellationToken).ConfigureAwait(false), Pending: true);
                case 422:
                {
                    var failure = await ReadBodyAsync(response, operation, cancellationToken).ConfigureAwait(false);
                    throw new SnowflakeQueryException(failure.Code ?? "unknown", failure.SqlState,
                        Redact(failure.Message) ?? "(no message)", failure.StatementHandle ?? handle);
                }

                case 401 or 403:
                    throw new SnowflakeAuthenticationException(
                        $"{operation}: Snowflake rejected the {Options.Authentication.TokenType} credentials of user " +
                        $"{Options.User} (HTTP {status} {response.ReasonPhrase}){await ServerSaysAsync(response).ConfigureAwait(false)}; " +
                        "check the account, user, key fingerprint or token", status);
                case 429 or 503 or 504:
                    throw new SnowflakeException(
                        $"{operation}: Snowflake answered HTTP {status} {response.ReasonPhrase} to {attempts} attempt(s); giving up" +
                        await ServerSaysAsync(response).ConfigureAwait(false), null, status, handle);
                default:
                    throw new SnowflakeException(
                        $"{operation}: unexpected HTTP {status} {response.ReasonPhrase} from Snowflake" +
                        await ServerSaysAsync(response).ConfigureAwait(false), null, status, handle);
            }
        }
    }

    private static async Task<StatementResponse> ReadBodyAsync(HttpResponseMessage response, string operation,
        CancellationToken cancellationToken)
    {
        try
        {
            var stream = await OpenContentAsync(response, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync<StatementResponse>(stream, SnowflakeProtocol.Json, cancellationToken)
                           .ConfigureAwait(false)
                       ?? throw new JsonException("empty document");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new SnowflakeException(
                $"{operation}: Snowflake's answer (HTTP {(int)response.StatusCode}) is not the documented JSON ({e.GetType().Name})",
                null, (int)response.StatusCode);
        }
    }

    /// <summary>The body as a stream, gunzipped when the handler left <c>Content-Encoding: gzip</c> in place.</summary>
    private static async Task<Stream> OpenContentAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return response.Content.Headers.ContentEncoding.Contains("gzip", StringComparer.OrdinalIgnoreCase)
            ? new GZipStream(stream, CompressionMode.Decompress)
            : stream;
    }

    /// <summary>": Snowflake says ..." from an error body's <c>message</c> (masked, shortened), or nothing.</summary>
    private async Task<string> ServerSaysAsync(HttpResponseMessage response)
    {
        try
        {
            var stream = await OpenContentAsync(response, CancellationToken.None).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var document = await JsonDocument.ParseAsync(stream).ConfigureAwait(false);
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    document.RootElement.TryGetProperty("message", out var message) &&
                    message.ValueKind == JsonValueKind.String)
                {
                    var text = Redact(message.GetString()) ?? "";
                    var code = document.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String
                        ? $" (code {c.GetString()})"
                        : "";
                    return $": Snowflake says \"{(text.Length > 300 ? text[..300] + "..." : text)}\"{code}";
                }
            }
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidDataException or HttpRequestException)
        {
            // Not JSON (a proxy's HTML page, say): the status alone must do.
        }

        return "";
    }

    private HttpRequestMessage Request(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        var token = _jwt?.GetToken() ?? _oauth!.AccessToken;
        RememberSentToken(token);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation(TokenTypeHeader, Options.Authentication.TokenType);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.TryAddWithoutValidation("User-Agent", Options.UserAgent);
        return request;
    }

    private Uri StatementUri(string handle, int? partition) =>
        new(_statementsUri + "/" + Uri.EscapeDataString(handle) + (partition is > 0 ? $"?partition={partition}" : ""));

    private async Task TryCancelAsync(string? handle)
    {
        if (handle is not null)
            await CancelAsync(handle, CancellationToken.None).ConfigureAwait(false);
    }

    private void RememberSentToken(string token)
    {
        lock (_sentTokensGate)
        {
            if (_sentTokens.Contains(token))
                return;
            _sentTokens.Add(token);
            if (_sentTokens.Count > 4)
                _sentTokens.RemoveAt(0);
        }
    }

    /// <summary>Masks anything secret-looking in text that came back from the server: our tokens, any JWT, any PEM block.</summary>
    private string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        lock (_sentTokensGate)
        {
            foreach (var token in _sentTokens)
                text = text.Replace(token, "***", StringComparison.Ordinal);
        }

        if (_oauth is not null)
            text = text.Replace(_oauth.AccessToken, "***", StringComparison.Ordinal);
        text = PemBlock().Replace(text, "***");
        return JwtShape().Replace(text, "***");
    }

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(SnowflakeRetryOptions retry, TimeSpan requestTimeout,
        TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (retry.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = retry.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                Delay = retry.BaseDelay,
                MaxDelay = retry.MaxDelay,
                UseJitter = retry.UseJitter,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, retry.MaxDelay, time)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddTimeout(requestTimeout);
        return builder.Build();
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken) =>
        outcome.Exception switch
        {
            HttpRequestException or IOException or TimeoutRejectedException => true,
            // A caller-supplied HttpClient's own Timeout, not our cancellation.
            OperationCanceledException => !cancellationToken.IsCancellationRequested,
            null => outcome.Result?.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                or HttpStatusCode.GatewayTimeout,
            _ => false,
        };

    /// <summary>The server's <c>Retry-After</c> (seconds or a date), capped at <paramref name="max"/>; null means "use the backoff".</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max, TimeProvider time)
    {
        if (response?.Headers.RetryAfter is not { } retryAfter)
            return null;
        var delay = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - time.GetUtcNow() : (TimeSpan?)null);
        if (delay is null)
            return null;
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > max ? max : delay;
    }

    private static void Validate(SnowflakeClientOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Account, nameof(options.Account));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.User, nameof(options.User));
        ArgumentNullException.ThrowIfNull(options.Authentication, nameof(options.Authentication));
        ArgumentNullException.ThrowIfNull(options.Retry, nameof(options.Retry));
        Positive(options.StatementTimeout, nameof(options.StatementTimeout));
        Positive(options.PollInterval, nameof(options.PollInterval));
        Positive(options.CancelRequestTimeout, nameof(options.CancelRequestTimeout));
        if (options.MaxPollInterval < options.PollInterval)
            throw new ArgumentOutOfRangeException(nameof(options), "MaxPollInterval must not be below PollInterval");
        if (options.RequestTimeout < TimeSpan.FromMilliseconds(10) || options.RequestTimeout > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(options), "RequestTimeout must be between 10 ms and one day");
        if (options.Retry.MaxRetryAttempts < 0 || options.Retry.BaseDelay < TimeSpan.Zero || options.Retry.MaxDelay < TimeSpan.Zero ||
            options.Retry.BaseDelay > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(options), "retry attempts and delays must not be negative");
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(name, "must be positive");
    }

    [GeneratedRegex(@"-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)")]
    private static partial Regex PemBlock();

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")]
    private static partial Regex JwtShape();

    /// <summary>A 200 (done) or 202 (pending) answer.</summary>
    private sealed record Answer(StatementResponse Body, bool Pending);
}
