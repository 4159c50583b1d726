namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// How to reach one Snowflake account through the SQL API v2. Safe to print: <see cref="Authentication"/> renders
/// without its secret.
/// </summary>
public sealed record SnowflakeClientOptions
{
    /// <summary>
    /// The account identifier, e.g. <c>myorg-myaccount</c> or an account locator such as <c>xy12345.us-east-2.aws</c>.
    /// The default <see cref="Endpoint"/> is built from it; the JWT issuer uses it upper-cased without any region part
    /// (see <see cref="SnowflakeJwtGenerator.NormalizeAccount"/>).
    /// </summary>
    public required string Account { get; init; }

    /// <summary>The Snowflake login name (upper-cased in the JWT claims).</summary>
    public required string User { get; init; }

    /// <summary>Key pair (RS256 JWT) or OAuth token.</summary>
    public required SnowflakeAuthentication Authentication { get; init; }

    /// <summary>
    /// Where the SQL API lives; <c>null</c> means <c>https://&lt;account&gt;.snowflakecomputing.com</c>. Tests point it
    /// at a local protocol server.
    /// </summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Role for the statements (sent as <c>role</c>); <c>null</c> uses the user's default role.</summary>
    public string? Role { get; init; }

    /// <summary>Warehouse for the statements; <c>null</c> uses the user's default warehouse.</summary>
    public string? Warehouse { get; init; }

    /// <summary>Database for the statements; <c>null</c> uses the user's default namespace.</summary>
    public string? Database { get; init; }

    /// <summary>Schema for the statements; <c>null</c> uses the user's default namespace.</summary>
    public string? Schema { get; init; }

    /// <summary>
    /// How long a statement may run (submit plus polling). Sent to Snowflake as the statement <c>timeout</c> (whole
    /// seconds, rounded up) and enforced by the client too: past it the client cancels the statement and throws
    /// <see cref="SnowflakeTimeoutException"/>.
    /// </summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>First wait between two status polls of a running statement; it grows by half up to <see cref="MaxPollInterval"/>.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between two status polls.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Limit for one HTTP attempt (a synchronous submit can legitimately take the API's 45 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Limit for the best-effort cancel request sent after a cancellation or timeout.</summary>
    public TimeSpan CancelRequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Lifetime of a key-pair JWT; Snowflake accepts at most one hour. The client renews it before it expires.</summary>
    public TimeSpan JwtLifetime { get; init; } = TimeSpan.FromMinutes(59);

    /// <summary>
    /// Submit with <c>async=true</c>: Snowflake answers 202 with the statement handle at once, so a cancellation can
    /// always reach the statement (with synchronous submits a cancellation during the first request has no handle yet).
    /// Costs at least one extra round trip per statement.
    /// </summary>
    public bool SubmitAsynchronously { get; init; }

    /// <summary>Session parameters sent with every statement (<c>parameters</c>), e.g. <c>QUERY_TAG</c> or <c>TIMEZONE</c>.</summary>
    public IReadOnlyDictionary<string, string>? SessionParameters { get; init; }

    /// <summary>Retries of throttled, unavailable or unreachable requests.</summary>
    public SnowflakeRetryOptions Retry { get; init; } = new();

    /// <summary>Sent as <c>User-Agent</c>; the SQL API requires one.</summary>
    public string UserAgent { get; init; } = "MetricCompiler/0.1";

    /// <summary>The endpoint actually used: <see cref="Endpoint"/> or the account's default host.</summary>
    public Uri EffectiveEndpoint =>
        Endpoint ?? new Uri($"https://{Account.Trim().ToLowerInvariant()}.snowflakecomputing.com/");
}

/// <summary>
/// Retries for HTTP 429, 503, 504, connection failures and per-attempt timeouts: exponential backoff from
/// <see cref="BaseDelay"/> capped at <see cref="MaxDelay"/>, or the server's <c>Retry-After</c> when it sends one.
/// Authentication failures and other statuses are never retried.
/// </summary>
public sealed record SnowflakeRetryOptions
{
    /// <summary>Retries after the first attempt (0 disables retrying).</summary>
    public int MaxRetryAttempts { get; init; } = 4;

    /// <summary>Delay before the first retry; doubled for each further one. Tests set it to about zero.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two attempts, also the cap on a server's <c>Retry-After</c>.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Randomises the backoff so that many clients do not retry in lockstep.</summary>
    public bool UseJitter { get; init; } = true;
}
