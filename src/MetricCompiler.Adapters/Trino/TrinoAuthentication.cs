using System.Text;

namespace MetricCompiler.Adapters.Trino;

/// <summary>The kind of credential a <see cref="TrinoAuthentication"/> carries.</summary>
public enum TrinoAuthenticationKind
{
    /// <summary>No <c>Authorization</c> header; the server trusts <c>X-Trino-User</c>.</summary>
    None,

    /// <summary>HTTP basic authentication (Trino's password authenticators).</summary>
    Basic,

    /// <summary>A bearer token (Trino's JWT and OAuth 2.0 authenticators).</summary>
    Bearer,
}

/// <summary>
/// How the client authenticates to the coordinator. The secret (password or token) is held privately: it only ever
/// leaves this object as the <c>Authorization</c> header value, and <see cref="ToString"/> never shows it.
/// </summary>
/// <remarks>
/// Trino only accepts credentials over HTTPS; this client does not refuse plain HTTP itself (the test server speaks
/// HTTP), so point it at an <c>https://</c> endpoint in real use.
/// </remarks>
public sealed class TrinoAuthentication
{
    private readonly string? _secret;

    private TrinoAuthentication(TrinoAuthenticationKind kind, string? user, string? secret)
    {
        Kind = kind;
        User = user;
        _secret = secret;
    }

    /// <summary>No credentials.</summary>
    public static TrinoAuthentication None { get; } = new(TrinoAuthenticationKind.None, null, null);

    /// <summary>Basic authentication with <paramref name="user"/> and <paramref name="password"/>.</summary>
    public static TrinoAuthentication Basic(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.Contains(':', StringComparison.Ordinal))
            throw new ArgumentException("a basic-authentication user cannot contain ':'", nameof(user));
        return new TrinoAuthentication(TrinoAuthenticationKind.Basic, user, password);
    }

    /// <summary>Bearer authentication with a JWT (or any token the coordinator accepts).</summary>
    public static TrinoAuthentication Bearer(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return new TrinoAuthentication(TrinoAuthenticationKind.Bearer, null, token);
    }

    /// <summary>Which credential this is.</summary>
    public TrinoAuthenticationKind Kind { get; }

    /// <summary>The basic-authentication user, or null for the other kinds.</summary>
    public string? User { get; }

    /// <summary>The secret, for scrubbing it out of server text that might echo it; null without one.</summary>
    internal string? Secret => _secret;

    /// <summary>The <c>Authorization</c> header value, or null for <see cref="TrinoAuthenticationKind.None"/>.</summary>
    internal string? AuthorizationHeaderValue() => Kind switch
    {
        TrinoAuthenticationKind.Basic => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{_secret}")),
        TrinoAuthenticationKind.Bearer => "Bearer " + _secret,
        _ => null,
    };

    /// <summary>Says which kind (and the basic user), never the secret.</summary>
    public override string ToString() => Kind switch
    {
        TrinoAuthenticationKind.Basic => $"basic (user {User}, password redacted)",
        TrinoAuthenticationKind.Bearer => "bearer (token redacted)",
        _ => "none",
    };
}
