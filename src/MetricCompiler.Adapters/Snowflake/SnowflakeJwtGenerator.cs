using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// Signs the key-pair JWTs the SQL API accepts: header <c>{"alg":"RS256","typ":"JWT"}</c>, claims
/// <c>iss = ACCOUNT.USER.SHA256:&lt;fingerprint&gt;</c>, <c>sub = ACCOUNT.USER</c>, <c>iat</c> and <c>exp</c> (at most one
/// hour later). A token is reused until three quarters of its lifetime have passed, then a new one is signed.
/// Thread-safe. Never renders a token.
/// </summary>
public sealed class SnowflakeJwtGenerator : IDisposable
{
    /// <summary>The longest lifetime Snowflake accepts.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    private static readonly string EncodedHeader = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);

    private readonly RSA _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private string? _token;
    private DateTimeOffset _renewAt;

    /// <summary>Creates a generator for <paramref name="user"/> in <paramref name="account"/>.</summary>
    public SnowflakeJwtGenerator(string account, string user, SnowflakeKeyPairAuthentication key, TimeSpan lifetime,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        if (lifetime <= TimeSpan.FromSeconds(10) || lifetime > MaxLifetime)
            throw new ArgumentOutOfRangeException(nameof(lifetime), "a JWT lifetime must be above 10 seconds and at most one hour");
        _key = key.CreatePrivateKey();
        _lifetime = lifetime;
        _time = timeProvider ?? TimeProvider.System;
        Subject = $"{NormalizeAccount(account)}.{user.Trim().ToUpperInvariant()}";
        Issuer = $"{Subject}.{key.PublicKeyFingerprint}";
    }

    /// <summary>The <c>iss</c> claim: <c>ACCOUNT.USER.SHA256:&lt;base64 fingerprint&gt;</c>.</summary>
    public string Issuer { get; }

    /// <summary>The <c>sub</c> claim: <c>ACCOUNT.USER</c>.</summary>
    public string Subject { get; }

    /// <summary>
    /// The account part of the claims: upper-cased, without the region and cloud of an account locator
    /// (<c>xy12345.us-east-2.aws</c> → <c>XY12345</c>); an organisation identifier written with a dot
    /// (<c>myorg.myaccount</c>) is not supported, write it as <c>myorg-myaccount</c>.
    /// </summary>
    public static string NormalizeAccount(string account)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        var trimmed = account.Trim();
        var dot = trimmed.IndexOf('.', StringComparison.Ordinal);
        return (dot > 0 ? trimmed[..dot] : trimmed).ToUpperInvariant();
    }

    /// <summary>
    /// <c>SHA256:</c> followed by the base64 SHA-256 digest of the DER-encoded public key (SubjectPublicKeyInfo), the
    /// value Snowflake stores as <c>RSA_PUBLIC_KEY_FP</c>.
    /// </summary>
    public static string ComputeFingerprint(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>A valid token: the cached one, or a freshly signed one when the cached one is near its expiry.</summary>
    public string GetToken()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_token is null || now >= _renewAt)
            {
                _token = Sign(now);
                _renewAt = now + _lifetime * 0.75;
            }

            return _token;
        }
    }

    /// <summary>Forgets the cached token so that the next <see cref="GetToken"/> signs a new one.</summary>
    public void Invalidate()
    {
        lock (_gate)
            _token = null;
    }

    private string Sign(DateTimeOffset now)
    {
        var issuedAt = now.ToUnixTimeSeconds();
        var expiresAt = issuedAt + (long)_lifetime.TotalSeconds;
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = Subject,
            ["iat"] = issuedAt,
            ["exp"] = expiresAt,
        });
        var signingInput = EncodedHeader + "." + Base64Url(claims);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <inheritdoc />
    public override string ToString() => $"key-pair JWTs for {Subject}";

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
