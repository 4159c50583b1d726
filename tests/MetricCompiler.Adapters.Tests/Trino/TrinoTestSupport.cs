using System.Text;
using MetricCompiler.Adapters.Trino;

using MetricCompiler.ProtocolServers.Trino;

namespace MetricCompiler.Adapters.Tests.Trino;

/// <summary>Shared settings for the Trino client tests: secrets to hunt for, fast retries, exception capture that checks for leaks.</summary>
internal static class TrinoTestSupport
{
    public const string User = "alice";
    public const string Password = "pw-Sup3rS3cret!";
    public const string Token = "eyJhbGciOiJIUzI1NiJ9.jwt-S3cretT0ken.sig";
    public const string WrongPassword = "wrong-S3cret-guess";
    public const string WrongToken = "eyJ.wrong-T0ken-guess.sig";

    /// <summary>Every secret a test hands the client, in the forms it could leak (plain, and inside a basic header).</summary>
    private static readonly string[] Secrets =
    [
        Password, Token, WrongPassword, WrongToken,
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")),
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{WrongPassword}")),
    ];

    /// <summary>Options pointing at <paramref name="server"/> with basic credentials carrying the secret password and retries without delay.</summary>
    public static TrinoClientOptions Options(TrinoProtocolServer server, TrinoAuthentication? authentication = null) => Options(server.Endpoint, authentication);

    public static TrinoClientOptions Options(Uri endpoint, TrinoAuthentication? authentication = null) => new()
    {
        Endpoint = endpoint,
        User = User,
        Catalog = "hive",
        Schema = "analytics",
        Authentication = authentication ?? TrinoAuthentication.Basic(User, Password),
        QueryTimeout = TimeSpan.FromSeconds(30),
        Retry = new TrinoRetryOptions { MaxAttempts = 4, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
    };

    /// <summary>Awaits <paramref name="action"/>, asserts it throws <typeparamref name="T"/> (or a subtype), and that no secret is in its text.</summary>
    public static async Task<T> ThrowsAsync<T>(Func<Task> action) where T : Exception
    {
        var exception = await Assert.ThrowsAnyAsync<T>(action);
        AssertNoSecrets(exception);
        return exception;
    }

    public static void AssertNoSecrets(Exception exception)
    {
        foreach (var text in new[] { exception.Message, exception.ToString() })
            foreach (var secret in Secrets)
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    public static void AssertNoSecrets(string text)
    {
        foreach (var secret in Secrets)
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    /// <summary>A script answering <paramref name="n"/> rows of one bigint column <c>n</c> (1..n).</summary>
    public static TrinoScript Numbers(int n, int pageSize = 100) => new()
    {
        Columns = [new TrinoScriptColumn("n", "bigint")],
        Rows = Enumerable.Range(1, n).Select(i => new object?[] { i }).ToList(),
        PageSize = pageSize,
    };

    public static IEnumerable<long> Longs(TrinoQueryResult result) => result.Rows.Select(r => Assert.IsType<long>(r[0]));
}
