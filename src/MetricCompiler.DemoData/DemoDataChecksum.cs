using System.Data.Common;
using MetricCompiler.DemoData.Schema;
using MetricCompiler.DemoData.Writing;

namespace MetricCompiler.DemoData;

/// <summary>
/// Recomputes <see cref="DemoDataSummary.Checksum"/> from what a warehouse holds, to verify a seeded database.
/// Canonical form: each table's rows ordered by id (raw_users by user_id, raw_events by event_id, raw_exposures by
/// exposure_id), one line per row, values tab-separated (strings COPY-escaped, doubles in shortest round-trip invariant
/// form, NULL as <c>\N</c>), hashed with SHA-256; the checksum is the SHA-256 of the lines
/// <c>table_name TAB table_sha256_hex</c> for raw_users, raw_events, raw_exposures. Lower-case hex.
/// </summary>
public static class DemoDataChecksum
{
    public static string Compute(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return CanonicalRowHasher.CombineTableDigests(DemoTables.All.Select(table => (table, ComputeTableDigest(connection, table))).ToList());
    }

    /// <summary>The same checksum, read through a warehouse adapter (any target).</summary>
    public static string Compute(Adapters.IWarehouseAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        return CanonicalRowHasher.CombineTableDigests(DemoTables.All.Select(table =>
        {
            using var hasher = new CanonicalRowHasher();
            var values = new object?[table.Columns.Count];
            adapter.Read(table.SelectInCanonicalOrderSql, (_, row) =>
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = row[i] is null ? null
                        : table.Columns[i].Type == ColumnType.Text ? Convert.ToString(row[i], System.Globalization.CultureInfo.InvariantCulture)
                        : Convert.ToDouble(row[i], System.Globalization.CultureInfo.InvariantCulture);
                }

                hasher.AppendRow(values);
            });
            return (table, hasher.FinishHex());
        }).ToList());
    }

    private static string ComputeTableDigest(DbConnection connection, TableDefinition table)
    {
        using var hasher = new CanonicalRowHasher();
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

        return hasher.FinishHex();
    }
}
