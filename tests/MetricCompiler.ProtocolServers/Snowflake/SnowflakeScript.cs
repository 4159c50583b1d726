using System.Globalization;
using System.Numerics;

namespace MetricCompiler.ProtocolServers.Snowflake;

/// <summary>
/// One statement as <see cref="SnowflakeProtocolServer"/> received it: the decoded body of
/// <c>POST /api/v2/statements</c>, its query parameters and headers. This is what a handler decides on.
/// </summary>
public sealed record SnowflakeRecordedStatement
{
    /// <summary>The <c>requestId</c> query parameter (null if the client sent none).</summary>
    public required string? RequestId { get; init; }

    /// <summary>Whether the query said <c>retry=true</c>.</summary>
    public required bool IsRetry { get; init; }

    /// <summary>Whether the query said <c>async=true</c>.</summary>
    public required bool IsAsync { get; init; }

    /// <summary>0 for the first POST of a request id, 1 for its first resubmission, ...</summary>
    public required int Attempt { get; init; }

    /// <summary>The SQL text (<c>statement</c>).</summary>
    public required string Statement { get; init; }

    /// <summary>The body's <c>timeout</c> in seconds.</summary>
    public long? Timeout { get; init; }

    public string? Database { get; init; }

    public string? Schema { get; init; }

    public string? Warehouse { get; init; }

    public string? Role { get; init; }

    /// <summary>The body's <c>parameters</c> (session parameters).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Request headers (case-insensitive names).</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The body as sent.</summary>
    public required string Body { get; init; }
}

/// <summary>Any HTTP request the server saw, authenticated or not, and the status it answered.</summary>
public sealed record SnowflakeRecordedRequest(
    string Method, string Path, string Query, int Status, IReadOnlyDictionary<string, string> Headers);

/// <summary>A column of a scripted result, as it appears in <c>resultSetMetaData.rowType</c>.</summary>
public sealed record SnowflakeScriptColumn(string Name, string Type, int? Scale = null, int? Precision = null, bool Nullable = true);

/// <summary>A statement error answered as HTTP 422 (QueryFailureStatus).</summary>
public sealed record SnowflakeScriptError(string Code, string SqlState, string Message);

/// <summary>
/// A disturbance answered to one request before the normal answer: an HTTP status (with <c>Retry-After</c>), a
/// dropped connection, or a delay after which the request is answered normally.
/// </summary>
public sealed record SnowflakeHttpFault(int? Status = null, string? RetryAfter = null, bool AbortConnection = false,
    TimeSpan Delay = default)
{
    public static SnowflakeHttpFault TooManyRequests(string? retryAfter = "0") => new(429, retryAfter);

    public static SnowflakeHttpFault Unavailable => new(503);

    public static SnowflakeHttpFault GatewayTimeout => new(504);

    public static SnowflakeHttpFault DropConnection => new(AbortConnection: true);

    public static SnowflakeHttpFault Slow(TimeSpan delay) => new(Delay: delay);
}

/// <summary>
/// What the server answers for one statement — only the "what", never the "how": the server turns it into the
/// documented SQL API responses (ResultSet with partitionInfo, QueryStatus 202, QueryFailureStatus 422, ...).
/// Rows hold wire values (strings or null, as the API sends them); <see cref="FromValues"/> encodes .NET values, so a
/// handler running the SQL on an embedded engine can hand its real rows over.
/// </summary>
public sealed record SnowflakeScript
{
    /// <summary>The result's columns (<c>rowType</c>).</summary>
    public IReadOnlyList<SnowflakeScriptColumn> Columns { get; init; } = [];

    /// <summary>The result's rows in wire form.</summary>
    public IReadOnlyList<string?[]> Rows { get; init; } = [];

    /// <summary>How many partitions the rows are split into (at least one).</summary>
    public int Partitions { get; init; } = 1;

    /// <summary>Answer the submit with 202 even when <see cref="PendingPolls"/> is 0.</summary>
    public bool Asynchronous { get; init; }

    /// <summary>How many status polls are answered 202 (still running) before the final answer; implies asynchronous.</summary>
    public int PendingPolls { get; init; }

    /// <summary>When set, the statement fails with this error (422) instead of returning rows.</summary>
    public SnowflakeScriptError? Error { get; init; }

    /// <summary>Faults answered, in order, to the POST attempts of this statement before it is accepted.</summary>
    public IReadOnlyList<SnowflakeHttpFault> SubmitFaults { get; init; } = [];

    /// <summary>Faults answered, in order, to the GET requests (status polls and partitions) of this statement.</summary>
    public IReadOnlyList<SnowflakeHttpFault> FetchFaults { get; init; } = [];

    /// <summary>DML counts (<c>stats</c>), if any.</summary>
    public (long Inserted, long Updated, long Deleted)? Stats { get; init; }

    /// <summary>The top-level <c>message</c> of a successful answer.</summary>
    public string Message { get; init; } = "Statement executed successfully.";

    /// <summary>Send partitions after the first gzip-compressed, as Snowflake does.</summary>
    public bool GzipPartitions { get; init; } = true;

    /// <summary>A query result.</summary>
    public static SnowflakeScript Query(IReadOnlyList<SnowflakeScriptColumn> columns, IReadOnlyList<string?[]> rows, int partitions = 1) =>
        new() { Columns = columns, Rows = rows, Partitions = partitions };

    /// <summary>A query result from .NET values, encoded as the API would send them.</summary>
    public static SnowflakeScript FromValues(IReadOnlyList<SnowflakeScriptColumn> columns, IEnumerable<object?[]> rows, int partitions = 1) =>
        Query(columns, rows.Select(r => r.Select(SnowflakeWireFormat.Encode).ToArray()).ToArray(), partitions);

    /// <summary>A DDL answer: one <c>status</c> row with Snowflake's text.</summary>
    public static SnowflakeScript Ddl(string status) =>
        Query([new SnowflakeScriptColumn("status", "text", Nullable: false)], [[status]]);

    /// <summary>An INSERT answer: the inserted count as the single value, plus <c>stats</c>.</summary>
    public static SnowflakeScript Insert(long rows) =>
        Query([new SnowflakeScriptColumn("number of rows inserted", "fixed", 0, 38, Nullable: false)],
            [[rows.ToString(CultureInfo.InvariantCulture)]]) with { Stats = (rows, 0, 0) };

    /// <summary>A failing statement.</summary>
    public static SnowflakeScript Fail(string code, string sqlState, string message) =>
        new() { Error = new SnowflakeScriptError(code, sqlState, message) };

    /// <summary>A statement that keeps running until it is cancelled.</summary>
    public static SnowflakeScript NeverFinishes => new() { Asynchronous = true, PendingPolls = int.MaxValue };
}

/// <summary>Encodes .NET values the way the SQL API's <c>jsonv2</c> format sends them.</summary>
public static class SnowflakeWireFormat
{
    /// <summary>The wire string of <paramref name="value"/> (null for null).</summary>
    public static string? Encode(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        bool b => b ? "true" : "false",
        double d when double.IsPositiveInfinity(d) => "inf",
        double d when double.IsNegativeInfinity(d) => "-inf",
        double d when double.IsNaN(d) => "NaN",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        BigInteger i => i.ToString(CultureInfo.InvariantCulture),
        sbyte or byte or short or ushort or int or uint or long or ulong => Convert.ToString(value, CultureInfo.InvariantCulture),
        DateOnly date => (date.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber).ToString(CultureInfo.InvariantCulture),
        TimeOnly time => Seconds(time.Ticks),
        DateTime dt => Seconds((dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : dt).Ticks - DateTime.UnixEpoch.Ticks),
        DateTimeOffset dto => Seconds(dto.UtcTicks - DateTime.UnixEpoch.Ticks) + " " +
                              ((int)dto.Offset.TotalMinutes + 1440).ToString(CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToHexString(bytes),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    /// <summary>The <c>rowType</c> entry for a column holding <paramref name="type"/> values.</summary>
    public static SnowflakeScriptColumn ColumnFor(string name, Type type, bool nullable = true, int decimalScale = 9)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t switch
        {
            _ when t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(byte) || t == typeof(BigInteger) =>
                new(name, "fixed", 0, 38, nullable),
            _ when t == typeof(decimal) => new(name, "fixed", decimalScale, 38, nullable),
            _ when t == typeof(double) || t == typeof(float) => new(name, "real", Nullable: nullable),
            _ when t == typeof(bool) => new(name, "boolean", Nullable: nullable),
            _ when t == typeof(DateOnly) => new(name, "date", Nullable: nullable),
            _ when t == typeof(TimeOnly) => new(name, "time", 9, Nullable: nullable),
            _ when t == typeof(DateTime) => new(name, "timestamp_ntz", 9, Nullable: nullable),
            _ when t == typeof(DateTimeOffset) => new(name, "timestamp_tz", 9, Nullable: nullable),
            _ when t == typeof(byte[]) => new(name, "binary", Nullable: nullable),
            _ => new(name, "text", Nullable: nullable),
        };
    }

    /// <summary><c>[-]seconds.fffffffff</c> from 100 ns ticks.</summary>
    private static string Seconds(long ticks)
    {
        var sign = ticks < 0 ? "-" : "";
        var magnitude = ticks < 0 ? -(BigInteger)ticks : ticks;
        var whole = BigInteger.DivRem(magnitude, TimeSpan.TicksPerSecond, out var fraction);
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}.{(long)fraction:D7}00");
    }
}
