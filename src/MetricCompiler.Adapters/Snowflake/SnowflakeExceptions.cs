namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// A Snowflake SQL API failure. Messages name the operation, the HTTP status and Snowflake's own message; they never
/// carry the private key, a JWT or an OAuth token (any such text coming back from the server is masked).
/// </summary>
public class SnowflakeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SnowflakeException(string message, Exception? innerException = null, int? httpStatus = null,
        string? statementHandle = null)
        : base(message, innerException)
    {
        HttpStatus = httpStatus;
        StatementHandle = statementHandle;
    }

    /// <summary>The HTTP status of the last answer, if there was one.</summary>
    public int? HttpStatus { get; }

    /// <summary>The statement concerned, when Snowflake had already assigned a handle.</summary>
    public string? StatementHandle { get; }
}

/// <summary>Snowflake rejected the credentials (HTTP 401 or 403). Never retried.</summary>
public sealed class SnowflakeAuthenticationException(string message, int httpStatus)
    : SnowflakeException(message, null, httpStatus);

/// <summary>The statement failed in Snowflake (HTTP 422): a compilation or execution error.</summary>
public sealed class SnowflakeQueryException : SnowflakeException
{
    /// <summary>Creates the exception.</summary>
    public SnowflakeQueryException(string code, string? sqlState, string serverMessage, string? statementHandle)
        : base($"Snowflake statement failed: {serverMessage} (code {code}, SQL state {sqlState ?? "?"}" +
               (statementHandle is null ? ")" : $", statement {statementHandle})"), null, 422, statementHandle)
    {
        Code = code;
        SqlState = sqlState;
        ServerMessage = serverMessage;
    }

    /// <summary>Snowflake's error code, e.g. <c>002003</c> (object does not exist).</summary>
    public string Code { get; }

    /// <summary>The ANSI SQL state, e.g. <c>42S02</c>.</summary>
    public string? SqlState { get; }

    /// <summary>Snowflake's error message (secrets masked).</summary>
    public string ServerMessage { get; }
}

/// <summary>
/// The statement ran longer than <see cref="SnowflakeClientOptions.StatementTimeout"/>; the client has asked Snowflake
/// to cancel it.
/// </summary>
public sealed class SnowflakeTimeoutException(string message, string? statementHandle) : TimeoutException(message)
{
    /// <summary>The statement that was cancelled, when the client knew its handle.</summary>
    public string? StatementHandle { get; } = statementHandle;
}
