using System.Numerics;
using MetricCompiler.ProtocolServers.Engine;

namespace MetricCompiler.ProtocolServers.Snowflake;

/// <summary>
/// A <see cref="SnowflakeProtocolServer"/> whose statements run on an in-process <see cref="DuckDbEngine"/>: results
/// come back typed as Snowflake's <c>rowType</c> types them (unquoted names upper-case), split over several
/// partitions; engine errors become 422 QueryFailureStatus; every n-th statement can first be answered 429.
/// </summary>
public sealed class SnowflakeEngineServer : IAsyncDisposable
{
    private int _statements;

    private SnowflakeEngineServer(SnowflakeServerAuth auth, int partitionRows, int transientFaultEvery)
    {
        PartitionRows = partitionRows;
        TransientFaultEvery = transientFaultEvery;
        Engine = new DuckDbEngine(SqlTranslator.Snowflake);
        Server = new SnowflakeProtocolServer(auth, Handle);
    }

    public static SnowflakeEngineServer Start(SnowflakeServerAuth auth, int partitionRows = 500, int transientFaultEvery = 0) =>
        new(auth, partitionRows, transientFaultEvery);

    public DuckDbEngine Engine { get; }

    public SnowflakeProtocolServer Server { get; }

    public Uri Endpoint => Server.Endpoint;

    public int PartitionRows { get; }

    public int TransientFaultEvery { get; }

    private SnowflakeScript Handle(SnowflakeRecordedStatement statement)
    {
        var n = Interlocked.Increment(ref _statements);
        IReadOnlyList<SnowflakeHttpFault> faults = TransientFaultEvery > 0 && n % TransientFaultEvery == 0 ? [SnowflakeHttpFault.TooManyRequests("0")] : [];
        EngineResult result;
        try
        {
            result = Engine.Execute(statement.Statement, statement.Schema);
        }
        catch (EngineException e)
        {
            return (e.IsUserError ? SnowflakeScript.Fail("002003", "42S02", e.Message) : SnowflakeScript.Fail("000603", "XX000", e.Message))
                with { SubmitFaults = faults };
        }

        if (!result.IsQuery)
        {
            return (result.UpdateType == "INSERT INTO" && result.UpdateCount is { } inserted
                ? SnowflakeScript.Insert(inserted)
                : SnowflakeScript.Ddl("Statement executed successfully.")) with { SubmitFaults = faults };
        }

        var columns = result.Columns.Select(Column).ToArray();
        var rows = result.Rows.Select(row => row.Select((value, i) => columns[i].Type == "date" && value is DateTime dt ? DateOnly.FromDateTime(dt) : value).ToArray());
        var partitions = Math.Max(1, (result.Rows.Count + PartitionRows - 1) / PartitionRows);
        return SnowflakeScript.FromValues(columns, rows.ToArray(), partitions) with { SubmitFaults = faults };
    }

    /// <summary>Snowflake stores unquoted identifiers upper-case, so a lower-case name comes back upper-case.</summary>
    private static SnowflakeScriptColumn Column(EngineColumn column)
    {
        var name = column.Name == column.Name.ToLowerInvariant() ? column.Name.ToUpperInvariant() : column.Name;
        var duck = column.DuckDbType.ToUpperInvariant();
        if (column.ClrType == typeof(decimal))
            return new SnowflakeScriptColumn(name, "fixed", DuckDbEngine.DecimalScale(column), 38);
        if (column.ClrType == typeof(BigInteger))
            return new SnowflakeScriptColumn(name, "fixed", 0, 38);
        if (duck == "DATE")
            return new SnowflakeScriptColumn(name, "date");
        return SnowflakeWireFormat.ColumnFor(name, column.ClrType);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        Engine.Dispose();
    }
}
