using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MetricCompiler.Adapters.Snowflake;

using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

/// <summary>Shared settings: one account and user, the committed test key, near-zero delays.</summary>
internal static class SnowflakeTestSupport
{
    /// <summary>An account locator with region, so the claims must drop the region.</summary>
    public const string Account = "xy12345.us-east-2.aws";

    public const string ClaimAccount = "XY12345";

    public const string User = "metric_bot";

    public const string ClaimUser = "METRIC_BOT";

    public const string OAuthToken = "oauth-access-token-3f9c1d7e-do-not-leak";

    public static SnowflakeServerAuth ServerAuth => new()
    {
        Account = ClaimAccount,
        User = ClaimUser,
        PublicKeyPem = TestKeys.PublicKeyPem,
        OAuthTokens = [OAuthToken],
    };

    public static SnowflakeClientOptions Options(Uri endpoint, SnowflakeAuthentication? authentication = null) => new()
    {
        Account = Account,
        User = User,
        Authentication = authentication ?? SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem),
        Endpoint = endpoint,
        Role = "ANALYST",
        Warehouse = "METRICS_WH",
        Database = "PRODUCT",
        Schema = "EXPERIMENTS",
        StatementTimeout = TimeSpan.FromSeconds(30),
        PollInterval = TimeSpan.FromMilliseconds(5),
        MaxPollInterval = TimeSpan.FromMilliseconds(20),
        RequestTimeout = TimeSpan.FromSeconds(10),
        CancelRequestTimeout = TimeSpan.FromSeconds(5),
        Retry = new SnowflakeRetryOptions
        {
            MaxRetryAttempts = 3,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(10),
            UseJitter = false,
        },
    };

    /// <summary>The three base64url parts of a JWT, the first two decoded as JSON.</summary>
    public static (JsonElement Header, JsonElement Claims, byte[] SigningInput, byte[] Signature) DecodeJwt(string token)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return (JsonDocument.Parse(FromBase64Url(parts[0])).RootElement,
            JsonDocument.Parse(FromBase64Url(parts[1])).RootElement,
            Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]),
            FromBase64Url(parts[2]));
    }

    public static byte[] FromBase64Url(string text)
    {
        Assert.DoesNotContain('=', text);
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    public static RSA PublicKey()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(TestKeys.PublicKeyPem);
        return rsa;
    }

    /// <summary>The bearer token of a recorded request.</summary>
    public static string BearerToken(IReadOnlyDictionary<string, string> headers) =>
        headers["Authorization"]["Bearer ".Length..];

    /// <summary>A line of the private key's base64 body, which must never appear anywhere.</summary>
    public static IEnumerable<string> PrivateKeyLines() =>
        TestKeys.PrivateKeyPem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 20 && !l.StartsWith("-----", StringComparison.Ordinal));
}

/// <summary>A clock the test moves by hand; timers still run on real time.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}
