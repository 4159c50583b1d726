using System.Globalization;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;
using Npgsql;
using NpgsqlTypes;

namespace MetricCompiler.Adapters.Loading;

/// <summary>
/// Writes rows through PostgreSQL's binary COPY. A connection runs one COPY at a time while the demo writes users and
/// events side by side, so rows are buffered per table and each full buffer goes in as one complete COPY, inside the
/// load's transaction.
/// </summary>
public sealed class PostgresCopySink(NpgsqlConnection connection, TableSpec table) : LoadSink(table)
{
    public const int RowsPerCopy = 50_000;

    private readonly List<object?[]> _buffer = new(RowsPerCopy);

    protected override void Write(ReadOnlySpan<object?> values)
    {
        _buffer.Add(values.ToArray());
        if (_buffer.Count == RowsPerCopy)
            Flush();
    }

    public override void Complete() => Flush();

    private void Flush()
    {
        if (_buffer.Count == 0)
            return;
        var dialect = PostgresDialect.Instance;
        var columns = string.Join(", ", Table.Columns.Select(c => dialect.QuoteIdentifier(c.Name)));
        using (var importer = connection.BeginBinaryImport($"COPY {dialect.QuoteRelation(Table.Name)} ({columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in _buffer)
            {
                importer.StartRow();
                for (var i = 0; i < row.Length; i++)
                {
                    if (row[i] is null or DBNull)
                    {
                        importer.WriteNull();
                        continue;
                    }

                    var value = row[i]!;
                    switch (Table.Columns[i].Type)
                    {
                        case SqlType.String:
                            importer.Write(Convert.ToString(value, CultureInfo.InvariantCulture)!, NpgsqlDbType.Text);
                            break;
                        case SqlType.Integer:
                            importer.Write(Convert.ToInt64(value, CultureInfo.InvariantCulture), NpgsqlDbType.Bigint);
                            break;
                        case SqlType.Boolean:
                            importer.Write(Convert.ToBoolean(value, CultureInfo.InvariantCulture), NpgsqlDbType.Boolean);
                            break;
                        case SqlType.Date:
                            importer.Write(DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)), NpgsqlDbType.Date);
                            break;
                        case SqlType.Timestamp:
                            importer.Write(DateTime.SpecifyKind(Convert.ToDateTime(value, CultureInfo.InvariantCulture), DateTimeKind.Unspecified), NpgsqlDbType.Timestamp);
                            break;
                        default:
                            importer.Write(Convert.ToDouble(value, CultureInfo.InvariantCulture), NpgsqlDbType.Double);
                            break;
                    }
                }
            }

            importer.Complete();
        }

        _buffer.Clear();
    }
}
