using System.Net;

namespace MetricCompiler.Adapters.Trino;

/// <summary>
/// A failure talking to Trino. Messages never carry the password or token: server text that is quoted is scrubbed of
/// the client's secret first.
/// </summary>
public abstract class TrinoException(string message, string? queryId, Exception? inner) : Exception(message, inner)
{
    /// <summary>The query the failure belongs to, when the coordinator had assigned one.</summary>
    public string? QueryId { get; } = queryId;
}

/// <summary>Where in the SQL text an error was found, 1-based as Trino reports it.</summary>
public sealed record TrinoErrorLocation(int LineNumber, int ColumnNumber);

/// <summary>The query failed on the coordinator: the response's <c>error</c> object, e.g. <c>SYNTAX_ERROR</c> at <c>line 1:8</c>.</summary>
public sealed class TrinoQueryException : TrinoException
{
    internal TrinoQueryException(string? queryId, string errorName, int errorCode, string errorType, string errorMessage, TrinoErrorLocation? location)
        : base(Describe(queryId, errorName, errorCode, errorType, errorMessage, location), queryId, null)
    {
        ErrorName = errorName;
        ErrorCode = errorCode;
        ErrorType = errorType;
        ErrorMessage = errorMessage;
        ErrorLocation = location;
    }

    /// <summary>Trino's error name, e.g. <c>SYNTAX_ERROR</c>, <c>TABLE_NOT_FOUND</c>.</summary>
    public string ErrorName { get; }

    /// <summary>Trino's numeric error code.</summary>
    public int ErrorCode { get; }

    /// <summary>Trino's error class: <c>USER_ERROR</c>, <c>INTERNAL_ERROR</c>, <c>INSUFFICIENT_RESOURCES</c> or <c>EXTERNAL</c>.</summary>
    public string ErrorType { get; }

    /// <summary>The coordinator's message, as sent (secret scrubbed).</summary>
    public string ErrorMessage { get; }

    /// <summary>The line and column of the error in the SQL, when the coordinator gave one.</summary>
    public TrinoErrorLocation? ErrorLocation { get; }

    private static string Describe(string? queryId, string name, int code, string type, string message, TrinoErrorLocation? location)
    {
        var where = location is null ? "" : $" at line {location.LineNumber}:{location.ColumnNumber}";
        var query = queryId is null ? "" : $" (query {queryId})";
        return $"trino query failed{query}: {name} ({type}, code {code}){where}: {message}";
    }
}

/// <summary>The coordinator refused the credentials (HTTP 401) or the user's access (HTTP 403). Never retried.</summary>
public sealed class TrinoAuthenticationException(string message, HttpStatusCode statusCode, string? queryId = null)
    : TrinoException(message, queryId, null)
{
    /// <summary>401 or 403.</summary>
    public HttpStatusCode StatusCode { get; } = statusCode;
}

/// <summary>
/// The exchange itself failed: an HTTP status outside the protocol, transient failures that outlasted every retry,
/// a connection that could not be made, or a response that is not a valid <c>QueryResults</c> document.
/// </summary>
public sealed class TrinoProtocolException(string message, HttpStatusCode? statusCode, int attempts, string? queryId = null, Exception? inner = null)
    : TrinoException(message, queryId, inner)
{
    /// <summary>The last HTTP status received, or null when there was none (no connection, malformed body).</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>How many times the failing request was sent.</summary>
    public int Attempts { get; } = attempts;
}

/// <summary>The statement ran past <see cref="TrinoClientOptions.QueryTimeout"/>; the client asked the coordinator to cancel it.</summary>
public sealed class TrinoTimeoutException(string message, TimeSpan timeout, string? queryId, Exception? inner)
    : TimeoutException(message, inner)
{
    /// <summary>The timeout that elapsed.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>The query that was cancelled, when the coordinator had assigned one.</summary>
    public string? QueryId { get; } = queryId;
}
