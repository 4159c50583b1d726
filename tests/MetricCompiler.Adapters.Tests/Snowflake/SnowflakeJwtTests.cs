using System.Security.Cryptography;
using MetricCompiler.Adapters.Snowflake;
using static MetricCompiler.Adapters.Tests.Snowflake.SnowflakeTestSupport;

using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

public sealed class SnowflakeJwtTests
{
    [Fact]
    public void The_fingerprint_equals_the_one_openssl_computed_for_the_committed_key()
    {
        var key = SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem);
        Assert.Equal(TestKeys.OpenSslFingerprint, key.PublicKeyFingerprint);

        // And from the public key alone, imported from openssl's PEM rather than derived from the private key.
        using var publicKey = PublicKey();
        Assert.Equal(TestKeys.OpenSslFingerprint, SnowflakeJwtGenerator.ComputeFingerprint(publicKey));
    }

    [Fact]
    public void The_token_has_the_documented_header_claims_and_a_valid_RS256_signature()
    {
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        using var generator = new SnowflakeJwtGenerator(Account, User, SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem),
            TimeSpan.FromMinutes(59), new ManualTimeProvider(now));

        var (header, claims, signingInput, signature) = DecodeJwt(generator.GetToken());

        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.GetProperty("typ").GetString());
        Assert.Equal($"XY12345.METRIC_BOT.{TestKeys.OpenSslFingerprint}", claims.GetProperty("iss").GetString());
        Assert.Equal("XY12345.METRIC_BOT", claims.GetProperty("sub").GetString());
        Assert.Equal(now.ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        var lifetime = claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64();
        Assert.Equal(59 * 60, lifetime);
        Assert.True(lifetime <= 3600);
        using var publicKey = PublicKey();
        Assert.True(publicKey.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [InlineData("xy12345.us-east-2.aws", "XY12345")]
    [InlineData("xy12345", "XY12345")]
    [InlineData(" myorg-myaccount ", "MYORG-MYACCOUNT")]
    [InlineData("XY12345.eu-central-1", "XY12345")]
    public void The_account_in_the_claims_is_upper_case_without_region(string account, string expected) =>
        Assert.Equal(expected, SnowflakeJwtGenerator.NormalizeAccount(account));

    [Fact]
    public void The_token_is_reused_then_renewed_before_it_expires()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        using var generator = new SnowflakeJwtGenerator(Account, User, SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem),
            TimeSpan.FromMinutes(60), clock);

        var first = generator.GetToken();
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Same(first, generator.GetToken());

        clock.Advance(TimeSpan.FromMinutes(16)); // 46 of 60 minutes used: renew well before expiry
        var second = generator.GetToken();
        Assert.NotEqual(first, second);
        var claims = DecodeJwt(second).Claims;
        Assert.Equal(clock.GetUtcNow().ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64());
        Assert.True(claims.GetProperty("exp").GetInt64() > clock.GetUtcNow().AddMinutes(50).ToUnixTimeSeconds());
    }

    [Fact]
    public void A_lifetime_over_one_hour_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SnowflakeJwtGenerator(Account, User,
            SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem), TimeSpan.FromMinutes(61)));

    [Fact]
    public void An_encrypted_PKCS8_key_works_with_its_passphrase_and_fails_without_quoting_it()
    {
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportEncryptedPkcs8PrivateKeyPem("correct horse",
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000));

        var key = SnowflakeAuthentication.KeyPair(pem, "correct horse");
        Assert.Equal(SnowflakeJwtGenerator.ComputeFingerprint(rsa), key.PublicKeyFingerprint);

        var wrong = Assert.Throws<ArgumentException>(() => SnowflakeAuthentication.KeyPair(pem, "wrong horse"));
        Assert.DoesNotContain("horse", wrong.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SnowflakeAuthentication.KeyPair(pem));
    }

    [Fact]
    public void A_key_that_cannot_sign_is_refused_without_quoting_it()
    {
        var garbage = Assert.Throws<ArgumentException>(() =>
            SnowflakeAuthentication.KeyPair("-----BEGIN PRIVATE KEY-----\nAAAAsecretish\n-----END PRIVATE KEY-----"));
        Assert.DoesNotContain("secretish", garbage.ToString(), StringComparison.Ordinal);

        var publicOnly = Assert.Throws<ArgumentException>(() => SnowflakeAuthentication.KeyPair(TestKeys.PublicKeyPem));
        Assert.Contains("private key", publicOnly.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_key_text_can_come_from_an_environment_variable()
    {
        var variable = "METRICC_TEST_SNOWFLAKE_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, TestKeys.PrivateKeyPem);
        try
        {
            Assert.Equal(TestKeys.OpenSslFingerprint, SnowflakeAuthentication.KeyPairFromEnvironment(variable).PublicKeyFingerprint);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        var missing = Assert.Throws<ArgumentException>(() => SnowflakeAuthentication.KeyPairFromEnvironment(variable));
        Assert.Contains(variable, missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Authentication_options_and_generator_never_render_secrets()
    {
        var keyPair = SnowflakeAuthentication.KeyPair(TestKeys.PrivateKeyPem);
        var oauth = SnowflakeAuthentication.OAuth(OAuthToken);
        using var generator = new SnowflakeJwtGenerator(Account, User, keyPair, TimeSpan.FromMinutes(5));
        var token = generator.GetToken();
        var options = Options(new Uri("http://127.0.0.1:1/")) with { Authentication = oauth };
        var rendered = string.Join("\n", keyPair.ToString(), oauth.ToString(), generator.ToString(),
            Options(new Uri("http://127.0.0.1:1/")).ToString(), options.ToString());

        foreach (var line in PrivateKeyLines())
            Assert.DoesNotContain(line, rendered, StringComparison.Ordinal);
        Assert.DoesNotContain(OAuthToken, rendered, StringComparison.Ordinal);
        Assert.DoesNotContain(token, rendered, StringComparison.Ordinal);
        Assert.Contains(TestKeys.OpenSslFingerprint, keyPair.ToString(), StringComparison.Ordinal);
    }
}
