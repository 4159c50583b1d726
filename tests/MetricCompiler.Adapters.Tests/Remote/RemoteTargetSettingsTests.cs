using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Adapters.Tests.Remote;

/// <summary>Trino and Snowflake targets: settings are checked before anything connects, credentials come only from the environment.</summary>
public sealed class RemoteTargetSettingsTests
{
    private static TargetDefinition Target(string adapter, params (string Key, string Value)[] settings) =>
        new("remote", adapter, settings.ToDictionary(s => s.Key, s => s.Value), SourceLocation.None);

    [Theory]
    [InlineData("trino", "password")]
    [InlineData("trino", "jwt")]
    [InlineData("snowflake", "oauth_token")]
    [InlineData("snowflake", "private_key_passphrase")]
    public void A_credential_written_in_the_project_is_refused_without_being_echoed(string adapter, string key)
    {
        const string secret = "literal-secret-0f3a";
        var target = Target(adapter, ("host", "127.0.0.1"), ("account", "xy12345"), ("user", "u"), ("catalog", "c"), ("schema", "s"),
            ("database", "d"), (key, secret));

        var error = Assert.Throws<TargetException>(() => AdapterFactory.Open(target, "."));

        Assert.Contains($"`{key}_env`", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trino_target_names_the_missing_setting()
    {
        var error = Assert.Throws<TargetException>(() => AdapterFactory.Open(Target("trino", ("host", "127.0.0.1"), ("user", "u"), ("schema", "s")), "."));

        Assert.Contains("needs `catalog`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_the_client_refuses_is_a_target_error_naming_the_target()
    {
        var variable = "METRICC_TEST_TRINO_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "pw-value-5678");
        try
        {
            var error = Assert.Throws<TargetException>(() => AdapterFactory.Open(
                Target("trino", ("host", "127.0.0.1"), ("user", "a:b"), ("catalog", "c"), ("schema", "s"), ("password_env", variable)), "."));
            Assert.StartsWith("target `remote`:", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("pw-value-5678", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_snowflake_target_needs_exactly_one_credential()
    {
        var none = Assert.Throws<TargetException>(() => AdapterFactory.Open(Target("snowflake", ("account", "a"), ("user", "u")), "."));
        Assert.Contains("exactly one credential", none.Message, StringComparison.Ordinal);

        var variable = "METRICC_TEST_SF_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "token-value-1234");
        try
        {
            var both = Assert.Throws<TargetException>(() => AdapterFactory.Open(
                Target("snowflake", ("account", "a"), ("user", "u"), ("oauth_token_env", variable), ("private_key_path", "/nonexistent.pem")), "."));
            Assert.Contains("exactly one credential", both.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("token-value-1234", both.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void An_unreadable_private_key_is_reported_without_its_content()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-a-key-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n");
        try
        {
            var error = Assert.Throws<TargetException>(() => AdapterFactory.Open(
                Target("snowflake", ("account", "a"), ("user", "u"), ("database", "d"), ("schema", "s"), ("private_key_path", path)), "."));
            Assert.Contains("cannot read the private key", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("c2VjcmV0", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
