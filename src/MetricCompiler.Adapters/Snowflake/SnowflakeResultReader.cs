using System.Runtime.CompilerServices;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>
/// A finished statement whose rows are read partition by partition: the first partition came with the answer, each
/// further one is fetched (<c>GET /api/v2/statements/{handle}?partition=i</c>) only when the reader reaches it, so at
/// most one partition is held in memory. Rows can be read once.
/// </summary>
public sealed class SnowflakeResultReader
{
    private readonly SnowflakeClient _client;
    private readonly IReadOnlyList<long>? _partitionRowCounts;
    private List<string?[]>? _firstPartition;
    private int _started;

    internal SnowflakeResultReader(SnowflakeClient client, StatementResponse answer, string? handle)
    {
        _client = client;
        var meta = answer.ResultSetMetaData;
        StatementHandle = answer.StatementHandle ?? handle
            ?? throw new SnowflakeException("Snowflake answered without a statement handle");
        Columns = (meta?.RowType ?? [])
            .Select((c, i) => new SnowflakeColumn(c.Name ?? $"column{i + 1}", c.Type ?? "text", c.Scale, c.Precision, c.Nullable ?? true))
            .ToArray();
        _firstPartition = answer.Data ?? [];
        _partitionRowCounts = meta?.PartitionInfo is { Count: > 0 } partitions ? partitions.Select(p => p.RowCount).ToArray() : null;
        PartitionCount = _partitionRowCounts?.Count ?? 1;
        NumRows = meta?.NumRows ?? _firstPartition.Count;
        Message = answer.Message;
        Code = answer.Code;
        SqlState = answer.SqlState;
        Stats = answer.Stats is { } s
            ? new SnowflakeStatementStats(s.NumRowsInserted, s.NumRowsUpdated, s.NumRowsDeleted, s.NumDuplicateRowsUpdated)
            : null;
    }

    /// <summary>Snowflake's id of the statement.</summary>
    public string StatementHandle { get; }

    /// <summary>The result's columns, from <c>resultSetMetaData.rowType</c>.</summary>
    public IReadOnlyList<SnowflakeColumn> Columns { get; }

    /// <summary>The total row count Snowflake reported (<c>resultSetMetaData.numRows</c>).</summary>
    public long NumRows { get; }

    /// <summary>How many partitions the rows come in (<c>resultSetMetaData.partitionInfo</c>).</summary>
    public int PartitionCount { get; }

    /// <summary>DML row counts, when Snowflake sent them.</summary>
    public SnowflakeStatementStats? Stats { get; }

    /// <summary>Snowflake's message for the statement.</summary>
    public string? Message { get; }

    /// <summary>Snowflake's status code.</summary>
    public string? Code { get; }

    /// <summary>The SQL state.</summary>
    public string? SqlState { get; }

    /// <summary>
    /// Every row, typed per <see cref="Columns"/>, fetching partitions as they are reached. A partition whose row count
    /// differs from what <c>partitionInfo</c> announced fails the read.
    /// </summary>
    public async IAsyncEnumerable<object?[]> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("the rows of a Snowflake result can be read once");

        var first = _firstPartition!;
        _firstPartition = null;
        CheckRowCount(0, first.Count);
        foreach (var row in first)
            yield return SnowflakeValueConverter.ConvertRow(Columns, row);

        for (var partition = 1; partition < PartitionCount; partition++)
        {
            var rows = await _client.FetchPartitionAsync(StatementHandle, partition, cancellationToken).ConfigureAwait(false);
            CheckRowCount(partition, rows.Count);
            foreach (var row in rows)
                yield return SnowflakeValueConverter.ConvertRow(Columns, row);
        }
    }

    private void CheckRowCount(int partition, int actual)
    {
        if (_partitionRowCounts is { } counts && counts[partition] != actual)
            throw new SnowflakeException(
                $"partition {partition} of statement {StatementHandle} has {actual} rows, but partitionInfo announced {counts[partition]}",
                statementHandle: StatementHandle);
    }

    /// <inheritdoc />
    public override string ToString() => $"Snowflake result {StatementHandle}: {NumRows} rows in {PartitionCount} partition(s)";
}
