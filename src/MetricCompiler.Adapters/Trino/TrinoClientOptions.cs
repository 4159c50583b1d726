namespace MetricCompiler.Adapters.Trino;

/// <summary>Where and how a <see cref="TrinoClient"/> talks to a Trino coordinator.</summary>
public sealed record TrinoClientOptions
{
    /// <summary>The coordinator's base address, e.g. <c>https://trino.example.com:8443/</c>; statements go to <c>/v1/statement</c> under it.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>The session user, sent as <c>X-Trino-User</c>.</summary>
    public required string User { get; init; }

    /// <summary>The default catalog (<c>X-Trino-Catalog</c>), or null for none.</summary>
    public string? Catalog { get; init; }

    /// <summary>The default schema (<c>X-Trino-Schema</c>), or null for none.</summary>
    public string? Schema { get; init; }

    /// <summary>Session properties sent with every statement (<c>X-Trino-Session</c>); the server may change them later.</summary>
    public IReadOnlyDictionary<string, string> SessionProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>The credential; <see cref="TrinoAuthentication.None"/> by default. Its secret never appears in <see cref="ToString"/>.</summary>
    public TrinoAuthentication Authentication { get; init; } = TrinoAuthentication.None;

    /// <summary>How long one statement may run, from the POST to the last page; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How transient HTTP failures are retried.</summary>
    public TrinoRetryOptions Retry { get; init; } = new();

    /// <summary>The session time zone (<c>X-Trino-Time-Zone</c>), e.g. <c>UTC</c>; null leaves the coordinator's default.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The client name the coordinator records (<c>X-Trino-Source</c>).</summary>
    public string Source { get; init; } = "metricc";
}

/// <summary>
/// Retry settings for one HTTP request (the POST or one <c>nextUri</c> GET): statuses 429, 502, 503, 504 and
/// connection failures are retried with exponential backoff, or after the server's <c>Retry-After</c> when it sends one.
/// </summary>
public sealed record TrinoRetryOptions
{
    /// <summary>Attempts per request, the first included; 1 disables retries.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first backoff delay; later ones grow exponentially. <see cref="TimeSpan.Zero"/> retries at once (tests).</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two attempts, also capping a server's <c>Retry-After</c>.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
}
