namespace MetricCompiler.Adapters.Loading;

/// <summary>A table's bulk-load path: rows in, <see cref="Complete"/> writes what is still buffered.</summary>
public abstract class LoadSink(TableSpec table) : IRowSink, IDisposable
{
    public TableSpec Table { get; } = table;

    public long RowsWritten { get; private set; }

    public void WriteRow(params ReadOnlySpan<object?> values)
    {
        if (values.Length != Table.Columns.Count)
            throw new ArgumentException($"{Table.Name} has {Table.Columns.Count} columns, got {values.Length} values.", nameof(values));
        Write(values);
        RowsWritten++;
    }

    protected abstract void Write(ReadOnlySpan<object?> values);

    public abstract void Complete();

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
