using System.Globalization;
using System.Numerics;
using MetricCompiler.ProtocolServers.Engine;

namespace MetricCompiler.ProtocolServers.Trino;

/// <summary>
/// A <see cref="TrinoProtocolServer"/> whose statements run on an in-process <see cref="DuckDbEngine"/>: results come
/// back typed as Trino types them, paged over several <c>nextUri</c> pages; engine errors become Trino's error object;
/// every n-th statement can first be refused with 503 (as an overloaded coordinator does), and a required
/// credential is checked before anything runs.
/// </summary>
public sealed class TrinoEngineServer : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IReadOnlyList<TrinoHttpFault>> _faultsBySql = new(StringComparer.Ordinal);
    private int _firstAttempts;

    private TrinoEngineServer(TrinoRequiredAuth? auth, int pageSize, int transientFaultEvery)
    {
        Auth = auth;
        PageSize = pageSize;
        TransientFaultEvery = transientFaultEvery;
        Engine = new DuckDbEngine(SqlTranslator.Trino);
        Server = TrinoProtocolServer.Start(Handle);
    }

    public static TrinoEngineServer Start(TrinoRequiredAuth? auth = null, int pageSize = 500, int transientFaultEvery = 0) =>
        new(auth, pageSize, transientFaultEvery);

    public DuckDbEngine Engine { get; }

    public TrinoProtocolServer Server { get; }

    public Uri Endpoint => Server.Endpoint;

    public TrinoRequiredAuth? Auth { get; }

    public int PageSize { get; }

    public int TransientFaultEvery { get; }

    private TrinoScript Handle(TrinoRecordedStatement statement)
    {
        IReadOnlyList<TrinoHttpFault> faults;
        lock (_lock)
        {
            if (!_faultsBySql.TryGetValue(statement.Sql, out faults!))
            {
                _firstAttempts++;
                faults = TransientFaultEvery > 0 && _firstAttempts % TransientFaultEvery == 0 ? [new TrinoHttpFault(503, RetryAfter: "0")] : [];
                _faultsBySql[statement.Sql] = faults;
            }

            if (statement.Attempt > faults.Count)
                _faultsBySql.Remove(statement.Sql);
        }

        if (statement.Attempt <= faults.Count)
            return new TrinoScript { PostFaults = faults };
        if (Auth is { } auth && !auth.Accepts(statement.Authorization))
            return new TrinoScript { PostFaults = faults, RequiredAuth = auth };

        EngineResult result;
        try
        {
            result = Engine.Execute(statement.Sql, statement.Schema);
        }
        catch (EngineException e)
        {
            var error = e.IsUserError
                ? new TrinoScriptError("SYNTAX_ERROR", 1, "USER_ERROR", e.Message)
                : new TrinoScriptError("GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR", e.Message);
            return new TrinoScript { PostFaults = faults, RequiredAuth = Auth, Error = error };
        }

        if (!result.IsQuery)
        {
            var counted = result.UpdateType is "INSERT INTO" or "CREATE TABLE" && result.UpdateCount is not null;
            return new TrinoScript
            {
                PostFaults = faults,
                RequiredAuth = Auth,
                UpdateType = result.UpdateType is "INSERT INTO" ? "INSERT" : result.UpdateType,
                UpdateCount = result.UpdateCount,
                Columns = counted ? [new TrinoScriptColumn("rows", "bigint")] : [],
                Rows = counted ? [[result.UpdateCount]] : [],
            };
        }

        var columns = result.Columns.Select(c => new TrinoScriptColumn(c.Name, TypeOf(c))).ToArray();
        return new TrinoScript
        {
            PostFaults = faults,
            RequiredAuth = Auth,
            Columns = columns,
            Rows = result.Rows.Select(row => row.Select((value, i) => Wire(value, columns[i].Type)).ToArray()).ToArray(),
            PageSize = PageSize,
        };
    }

    /// <summary>The Trino type of a DuckDB column (DuckDB's 128-bit sums are Trino's bigint).</summary>
    private static string TypeOf(EngineColumn column)
    {
        var duck = column.DuckDbType.ToUpperInvariant();
        var t = column.ClrType;
        if (t == typeof(int) || t == typeof(short) || t == typeof(sbyte) || t == typeof(byte) || t == typeof(ushort))
            return "integer";
        if (t == typeof(long) || t == typeof(uint) || t == typeof(ulong) || t == typeof(BigInteger))
            return "bigint";
        if (t == typeof(double) || t == typeof(float))
            return "double";
        if (t == typeof(decimal))
            return $"decimal(38,{DuckDbEngine.DecimalScale(column)})";
        if (t == typeof(bool))
            return "boolean";
        if (t == typeof(DateOnly) || duck == "DATE")
            return "date";
        if (duck.Contains("WITH TIME ZONE", StringComparison.Ordinal) || duck == "TIMESTAMPTZ")
            return "timestamp(6) with time zone";
        if (t == typeof(DateTime))
            return "timestamp(6)";
        return "varchar";
    }

    private static object? Wire(object? value, string type) => value switch
    {
        null => null,
        BigInteger big => (long)big,
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime dt when type == "date" => dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime dt when type.EndsWith("time zone", StringComparison.Ordinal) => dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + " UTC",
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + " UTC",
        string or bool or long or int or short or byte or double or float => value,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    public void Dispose()
    {
        Server.Dispose();
        Engine.Dispose();
    }
}
