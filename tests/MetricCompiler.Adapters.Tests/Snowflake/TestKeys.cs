using MetricCompiler.ProtocolServers.Snowflake;

namespace MetricCompiler.Adapters.Tests.Snowflake;

/// <summary>
/// A throw-away RSA key pair made for these tests only (never registered with any Snowflake account), and its
/// fingerprint computed outside .NET, once, with:
/// <code>
/// openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out test.p8
/// openssl rsa -in test.p8 -pubout -out test.pub
/// openssl rsa -in test.p8 -pubout -outform DER | openssl dgst -sha256 -binary | openssl enc -base64
/// </code>
/// </summary>
internal static class TestKeys
{
    /// <summary>The openssl-computed SHA-256 fingerprint of <see cref="PublicKeyPem"/>'s DER encoding.</summary>
    public const string OpenSslFingerprint = "SHA256:EIyCW4YThFKkqmfTXeSFpJLisgqsRZI5F/2HJqura3M=";

    /// <summary>PKCS#8 private key (test only).</summary>
    public const string PrivateKeyPem = """
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDLR3fgk0uNi2Nd
PGn1WoiKvqBEemSFTGcE/hscJBSaTSewROYFQyOmNPYUqNEFrfAs7XoMFAHJdsAl
QllVrK8gKwvt5BxOfSH+4ASeSP1rdc9lzBiaPF9bjwSMm8BuUcTnezV/r3MIk6LK
lxcTHvlmVN1FxfCj2h8kCRXXwhxZnIwnNtOBMSUGjxLjQHTOMSVbrO0DdpsjoCnc
kHO7RFUWeb3HmILZIdYQ0jPbIpTX2xPbpizthgpZIIqt6m6KE6qBSiykupQoMwJO
l0oXdBMksktCJw2T43/504EpKcv5N85KSFWvn6r34RCbnMSEI2fOinehPWBLlNBR
edSp4Q+RAgMBAAECggEAC8xbWxO5fh7htsLfpH+rbqAXRboz1N/FF+9Wq/i1IGqL
e+nXzuThcA9hW/wbW6DHkJf87jAIFYUYrGDwNe6GoI+XCujjMrQFEdm3MueqG79T
+QTSRbtszm/b0/xjPBPvYX8PcRiCDPSirW79Bh1VXNjemeLd72ikx47mb2YjBpla
pPUGY7KDz2w5Y/c0sOKLzs2cMgT38Pf1ASkaMwxGP8W+1alYhWgKugvViyS11mb0
jZ7P/Hvh1+beyeDFYcHOTEvmZLO0/JQrt96RyRIZXedcRtI+gSILRTkVEoOmVSeF
aPL39DyF3a650f52BHyAt8LC6I7W8irsyeyrRAiDBQKBgQD1aRBh1kloVr4m4GhJ
+kdGTuVEnBC8gFwY68oqamOGMxpkbluR4MOOlqJRB2jdX+BKRHMwJxE3cRF30oVz
Oi2z2EPx6UAaNVvHD1vQbx3kcqa/eomo6jdKd94Gc2NDIBYHRwPgDNezheVYV2Hv
AVk6rHv0MpQWLAuUF+nLuR+i1QKBgQDUDP/5c4WpI8ZvdLrQJihQh/+i6PoWkein
sGjqDoDZYlaKxXbgQydEhuLeo5ZiaH9O4IzyOPZ1ihuUOniqt0/gV75sF2xL7a56
Fmk/OuCxstqwf2Gspoo2D87LYcA37kH+cB6ovOmk8+uiaYekRCWkjz0gH51+nkZB
gFmxTLR/zQKBgQCsBB3QhjRkJ1EXzPosyHqHJKv9gGsWxd5INZY6TuI94bohJV2Y
DfTlEF7r7wapDRgY1ovq96dQtjdpRq31y5TXV8KgYT9mX3paOEDCA/Du/RI2avzs
4mcpEoYU/XJZTbdDGJr1w+q50iOk3XMu5UIXJ2mnDIDSXcMr5eshujwblQKBgQCr
w7P8/gSA04fDdIx2WtJBGUiLT6h0a9BHNPBm10Sr0apEUltOoVbHfXN74IrKP9cP
r3i8JEQPRcW9NffUYRSEps6KhBanEmpIXqr2Gt0zU6stWKFn1qcRz5A00oN/SrGO
RoevKwcfJK30KwNCnijXuWdMBA/xJofGOw9sPLPg6QKBgQCOYzZg67U7EqGyKfI3
BqZMp0nISAlngSselCcJ2tXekU7/wtRa+pbeo4NI+igHERVdn0mTHKf1SsOuxKxQ
2QvpMW/0SRufryR0j5OTgm+nSyFKOF2ZTRFH/qUwNOBYWlP1HGrQPxaQfTQehNCQ
NMdJ8QnnifbmOKhXFLNvEEDGsQ==
-----END PRIVATE KEY-----
""";

    /// <summary>The matching SubjectPublicKeyInfo, as openssl wrote it.</summary>
    public const string PublicKeyPem = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy0d34JNLjYtjXTxp9VqI
ir6gRHpkhUxnBP4bHCQUmk0nsETmBUMjpjT2FKjRBa3wLO16DBQByXbAJUJZVayv
ICsL7eQcTn0h/uAEnkj9a3XPZcwYmjxfW48EjJvAblHE53s1f69zCJOiypcXEx75
ZlTdRcXwo9ofJAkV18IcWZyMJzbTgTElBo8S40B0zjElW6ztA3abI6Ap3JBzu0RV
Fnm9x5iC2SHWENIz2yKU19sT26Ys7YYKWSCKrepuihOqgUospLqUKDMCTpdKF3QT
JLJLQicNk+N/+dOBKSnL+TfOSkhVr5+q9+EQm5zEhCNnzop3oT1gS5TQUXnUqeEP
kQIDAQAB
-----END PUBLIC KEY-----
""";
}
