using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static MetricCompiler.Adapters.Tests.Snowflake.SnowflakeTestSupport;

using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

/// <summary>The test server itself refuses what Snowflake would refuse, so the client tests mean something.</summary>
public sealed class SnowflakeProtocolServerTests
{
    private static string SignedJwt(object claims)
    {
        static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var rsa = RSA.Create();
        rsa.ImportFromPem(TestKeys.PrivateKeyPem);
        var input = Encode("""{"alg":"RS256","typ":"JWT"}"""u8.ToArray()) + "." + Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        return input + "." + Encode(rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private static async Task<HttpStatusCode> PostAsync(SnowflakeProtocolServer server, string? bearer, string? tokenType = "KEYPAIR_JWT")
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Endpoint, "api/v2/statements?requestId=" + Guid.NewGuid()))
        {
            Content = new StringContent("""{"statement":"select 1"}""", Encoding.UTF8, "application/json"),
        };
        if (bearer is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (tokenType is not null)
            request.Headers.Add("X-Snowflake-Authorization-Token-Type", tokenType);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Only_a_properly_signed_unexpired_JWT_with_the_right_claims_gets_in()
    {
        await using var server = new SnowflakeProtocolServer(ServerAuth, _ => SnowflakeScript.Ddl("ok"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var issuer = $"{ClaimAccount}.{ClaimUser}.{TestKeys.OpenSslFingerprint}";
        var subject = $"{ClaimAccount}.{ClaimUser}";

        Assert.Equal(HttpStatusCode.OK, await PostAsync(server, SignedJwt(new { iss = issuer, sub = subject, iat = now, exp = now + 600 })));

        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, "a.b.c"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, SignedJwt(new { iss = issuer, sub = "XY12345.SOMEONE", iat = now, exp = now + 600 })));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, SignedJwt(new { iss = subject + ".SHA256:AAAA", sub = subject, iat = now, exp = now + 600 })));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, SignedJwt(new { iss = issuer, sub = subject, iat = now - 700, exp = now - 100 })));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, SignedJwt(new { iss = issuer, sub = subject, iat = now, exp = now + 7200 })));
        var tampered = SignedJwt(new { iss = issuer, sub = subject, iat = now, exp = now + 600 });
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, tampered[..^4] + (tampered[^4] == 'A' ? "BBBB" : "AAAA")));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, OAuthToken, "KEYPAIR_JWT"));

        Assert.Equal(HttpStatusCode.OK, await PostAsync(server, OAuthToken, "OAUTH"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(server, "wrong", "OAUTH"));
        Assert.Equal(2, server.Statements.Count);
    }

    [Fact]
    public async Task Statements_and_cancels_of_unknown_handles_are_answered_404()
    {
        await using var server = new SnowflakeProtocolServer(ServerAuth, _ => SnowflakeScript.Ddl("ok"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OAuthToken);

        using var status = await http.GetAsync(new Uri(server.Endpoint, "api/v2/statements/nope"));
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        using var cancel = await http.PostAsync(new Uri(server.Endpoint, "api/v2/statements/nope/cancel"), null);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(["nope"], server.Cancels);
    }
}
