using System.Data.Common;
using MetricCompiler.DemoData.Schema;
using MetricCompiler.DemoData.Writing;

namespace MetricCompiler.DemoData;

/// <summary>
/// Recomputes <see cref="DemoDataSummary.Checksum"/> from what a warehouse holds, to verify a seeded database.
/// Canonical form: tables raw_users, raw_events, raw_exposures in that order, each as <c>#table\n</c> followed by its rows
/// ordered by id (user_id, event_id, exposure_id), one line per row, values tab-separated, doubles in shortest
/// round-trip invariant form, NULL as <c>\N</c>; SHA-256 of the UTF-8 bytes, lower-case hex.
/// </summary>
public static class DemoDataChecksum
{
    public static string Compute(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var hasher = new CanonicalRowHasher();
        foreach (var table in DemoTables.All)
        {
            hasher.BeginTable(table);
            using var command = connection.CreateCommand();
            command.CommandText = table.SelectInCanonicalOrderSql;
            using var reader = command.ExecuteReader();
            var values = new object?[table.Columns.Count];
            while (reader.Read())
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = reader.IsDBNull(i) ? null
                        : table.Columns[i].Type == ColumnType.Text ? reader.GetString(i)
                        : reader.GetDouble(i);
                }

                hasher.AppendRow(values);
            }
        }

        return hasher.FinishHex();
    }
}
