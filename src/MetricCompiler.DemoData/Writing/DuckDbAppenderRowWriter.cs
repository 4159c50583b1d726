using DuckDB.NET.Data;
using MetricCompiler.DemoData.Schema;

namespace MetricCompiler.DemoData.Writing;

/// <summary>
/// Writes rows through DuckDB's appender. The appender belongs to the connection's open transaction, so the rows
/// commit or roll back with the rest of the seed.
/// </summary>
internal sealed class DuckDbAppenderRowWriter(DuckDBConnection connection, TableDefinition table, CanonicalRowHasher hasher) : ITableRowWriter
{
    private readonly DuckDBAppender _appender = connection.CreateAppender(table.Name);

    public long RowsWritten { get; private set; }

    public void WriteRow(params ReadOnlySpan<object?> values)
    {
        if (values.Length != table.Columns.Count)
            throw new ArgumentException($"{table.Name} has {table.Columns.Count} columns, got {values.Length} values.", nameof(values));
        var row = _appender.CreateRow();
        for (var i = 0; i < values.Length; i++)
        {
            switch (values[i])
            {
                case null:
                    row.AppendNullValue();
                    break;
                case string text:
                    row.AppendValue(text);
                    break;
                case var number:
                    row.AppendValue(Convert.ToDouble(number, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }

        row.EndRow();
        hasher.AppendRow(values);
        RowsWritten++;
    }

    public void Complete() => _appender.Close();

    public void Dispose() => _appender.Dispose();
}
