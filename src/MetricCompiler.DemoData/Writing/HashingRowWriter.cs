using MetricCompiler.Adapters;

namespace MetricCompiler.DemoData.Writing;

/// <summary>Writes the rows of one raw table to the adapter's bulk-load sink, feeding every row to its checksum.</summary>
internal sealed class HashingRowWriter(IRowSink sink, CanonicalRowHasher hasher)
{
    public long RowsWritten => sink.RowsWritten;

    public void WriteRow(params ReadOnlySpan<object?> values)
    {
        sink.WriteRow(values);
        hasher.AppendRow(values);
    }
}
