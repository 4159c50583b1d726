using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.DemoData;
using Microsoft.Data.Sqlite;

namespace MetricCompiler.DemoData.Tests;

/// <summary>A private in-memory SQLite database seeded with demo data, plus small query helpers.</summary>
public sealed class SeededDatabase : IDisposable
{
    public SeededDatabase(DemoDataOptions options)
    {
        Adapter = SqliteAdapter.Open(":memory:", ":memory:");
        Options = options;
        Summary = DemoDataGenerator.Seed(Adapter, options);
    }

    public SqliteAdapter Adapter { get; }

    public SqliteConnection Connection => Adapter.Connection;

    public DemoDataOptions Options { get; }

    public DemoDataSummary Summary { get; }

    public static DemoDataOptions SmallOptions(ulong seed = 20260105) => new(Users: 2_000, Seed: seed);

    public long Count(string sql) => Convert.ToInt64(Scalar(sql), CultureInfo.InvariantCulture);

    public double Number(string sql) => Convert.ToDouble(Scalar(sql), CultureInfo.InvariantCulture);

    public object? Scalar(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public List<object?[]> Rows(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public List<string> Strings(string sql) => Rows(sql).Select(row => (string)row[0]!).ToList();

    /// <summary>Every row of a table, ordered by all columns, rendered as text (doubles round-trip exactly).</summary>
    public List<string> Dump(string table)
    {
        var rows = Rows($"SELECT * FROM {table} ORDER BY 1, 2, 3, 4");
        return rows.Select(row => string.Join('|', row.Select(value => value switch
        {
            null => "NULL",
            double number => number.ToString("R", CultureInfo.InvariantCulture),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        }))).ToList();
    }

    public void Execute(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => Adapter.Dispose();
}

/// <summary>One 2,000-user database shared by the read-only tests of a class.</summary>
public sealed class SmallDatabaseFixture : IDisposable
{
    public SeededDatabase Database { get; } = new(SeededDatabase.SmallOptions());

    public void Dispose() => Database.Dispose();
}

/// <summary>One 20,000-user database (about 550k events) shared by the planted-effect tests.</summary>
public sealed class EffectDatabaseFixture : IDisposable
{
    public EffectDatabaseFixture()
    {
        Database = new SeededDatabase(new DemoDataOptions(Users: 20_000));
        Database.Execute("CREATE TABLE events_deduplicated AS SELECT DISTINCT * FROM raw_events");
        Database.Execute("CREATE INDEX ix_events_deduplicated_user_time ON events_deduplicated (user_id, occurred_at)");
        Database.Execute("CREATE INDEX ix_events_user_time ON raw_events (user_id, occurred_at)");
        Database.Execute("CREATE INDEX ix_exposures_experiment_user ON raw_exposures (experiment_id, user_id)");
    }

    public SeededDatabase Database { get; }

    public void Dispose() => Database.Dispose();
}
