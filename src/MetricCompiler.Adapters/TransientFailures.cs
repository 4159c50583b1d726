using Npgsql;

namespace MetricCompiler.Adapters;

/// <summary>
/// The warehouse errors worth another try: a PostgreSQL serialization failure (40001), a deadlock (40P01), a server
/// shutting the session down (57P01), and what Npgsql itself calls transient (a reset or timed-out connection).
/// Permanent errors (a syntax error, a missing table) are not. The remote clients (Trino, Snowflake) already retry
/// HTTP 429/503 themselves and surface a <see cref="WarehouseException"/> once they give up: that is not retried again.
/// </summary>
public static class TransientFailures
{
    private static readonly HashSet<string> States = new(StringComparer.Ordinal) { "40001", "40P01", "57P01" };

    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException postgres => States.Contains(postgres.SqlState),
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
