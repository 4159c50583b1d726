using System.Security.Cryptography;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// How the client proves who it is: a key pair (the client signs short-lived RS256 JWTs) or an OAuth access token.
/// Instances never render their secret: <see cref="object.ToString"/> shows the kind and, for a key pair, the public
/// key fingerprint only.
/// </summary>
public abstract class SnowflakeAuthentication
{
    private protected SnowflakeAuthentication()
    {
    }

    /// <summary>The value of the <c>X-Snowflake-Authorization-Token-Type</c> header: <c>KEYPAIR_JWT</c> or <c>OAUTH</c>.</summary>
    public abstract string TokenType { get; }

    /// <summary>
    /// Key-pair authentication with an RSA private key in PEM: PKCS#8 (<c>BEGIN PRIVATE KEY</c>), or encrypted PKCS#8
    /// (<c>BEGIN ENCRYPTED PRIVATE KEY</c>) with <paramref name="passphrase"/>. The key is checked here; errors never
    /// quote it.
    /// </summary>
    public static SnowflakeKeyPairAuthentication KeyPair(string privateKeyPem, string? passphrase = null) =>
        new(privateKeyPem, passphrase);

    /// <summary>
    /// Key-pair authentication with the PEM text itself read from environment variable <paramref name="variable"/>
    /// (and the passphrase, if any, from <paramref name="passphraseVariable"/>).
    /// </summary>
    public static SnowflakeKeyPairAuthentication KeyPairFromEnvironment(string variable, string? passphraseVariable = null)
    {
        var pem = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(pem))
            throw new ArgumentException($"environment variable {variable} holds no private key", nameof(variable));
        var passphrase = passphraseVariable is null ? null : Environment.GetEnvironmentVariable(passphraseVariable);
        return new SnowflakeKeyPairAuthentication(pem, passphrase);
    }

    /// <summary>OAuth authentication with an access token obtained elsewhere.</summary>
    public static SnowflakeOAuthAuthentication OAuth(string accessToken) => new(accessToken);
}

/// <summary>Key-pair authentication: holds the private key text, hands out a fresh <see cref="RSA"/> to sign with.</summary>
public sealed class SnowflakeKeyPairAuthentication : SnowflakeAuthentication
{
    private readonly string _privateKeyPem;
    private readonly string? _passphrase;

    internal SnowflakeKeyPairAuthentication(string privateKeyPem, string? passphrase)
    {
        ArgumentNullException.ThrowIfNull(privateKeyPem);
        _privateKeyPem = privateKeyPem;
        _passphrase = passphrase;
        using var rsa = CreatePrivateKey();
        PublicKeyFingerprint = SnowflakeJwtGenerator.ComputeFingerprint(rsa);
    }

    /// <inheritdoc />
    public override string TokenType => "KEYPAIR_JWT";

    /// <summary><c>SHA256:</c> and the base64 SHA-256 of the DER public key, as <c>DESCRIBE USER</c> shows it (not secret).</summary>
    public string PublicKeyFingerprint { get; }

    /// <summary>A new RSA instance holding the private key; the caller disposes it.</summary>
    internal RSA CreatePrivateKey()
    {
        var rsa = RSA.Create();
        try
        {
            if (_privateKeyPem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
            {
                if (_passphrase is null)
                    throw new ArgumentException("the private key is encrypted and no passphrase was given");
                rsa.ImportFromEncryptedPem(_privateKeyPem, _passphrase);
            }
            else
            {
                rsa.ImportFromPem(_privateKeyPem);
            }

            // A public-only PEM imports fine but cannot sign; find out now rather than at the first statement.
            _ = rsa.ExportParameters(includePrivateParameters: true);
            return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            // Deliberately no inner exception and no key text: only what kind of problem it is.
            throw new ArgumentException(
                "the private key is not a usable RSA private key in PEM (PKCS#8 'BEGIN PRIVATE KEY' expected" +
                (e is CryptographicException ? ", or the passphrase is wrong)" : ")"));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"key pair ({PublicKeyFingerprint})";
}

/// <summary>OAuth authentication: the access token is sent as the bearer token.</summary>
public sealed class SnowflakeOAuthAuthentication : SnowflakeAuthentication
{
    internal SnowflakeOAuthAuthentication(string accessToken)
    {
        if (string.IsNullOrWhiteSpace(accessToken))
            throw new ArgumentException("the OAuth access token is empty", nameof(accessToken));
        AccessToken = accessToken;
    }

    /// <inheritdoc />
    public override string TokenType => "OAUTH";

    internal string AccessToken { get; }

    /// <inheritdoc />
    public override string ToString() => "OAuth token (redacted)";
}
