using Microsoft.Data.Sqlite;

namespace MetricCompiler.Integration.Tests;

/// <summary>A temporary project with a SQLite warehouse under its target/ folder, filled with hand-made rows.</summary>
public sealed class WarehouseProject : IDisposable
{
    public const string ProjectYaml = """
        version: 1
        name: shop
        targets:
          dev:
            adapter: sqlite
            path: target/warehouse.db
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number}
              - {name: load_ms, type: number}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: experiment_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - {name: revenue, source: events, agg: sum, expr: revenue, filter: "event_type = 'purchase'"}
          - {name: purchases, source: events, agg: count, filter: "event_type = 'purchase'"}
          - {name: purchased, source: events, agg: proportion, filter: "event_type = 'purchase'"}
          - {name: load_time, source: events, agg: average, expr: load_ms, filter: "event_type = 'page_view'"}
          - {name: order_value, agg: ratio, numerator: revenue, denominator: purchases}
        experiments:
          - id: checkout
            exposure: {source: exposures, variant_column: variant, filter: "experiment_id = 'checkout'"}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [purchased]
              secondary: [revenue, purchases, order_value]
              guardrails:
                - {metric: load_time, harmful_direction: increase, margin: 0.05}
            analysis:
              cuped: {enabled: true, lookback_days: 14}
        """;

    public WarehouseProject(string yaml = ProjectYaml)
    {
        Root = Path.Combine(Path.GetTempPath(), "metricc-it", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "target"));
        WriteProject(yaml);
    }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "target", "warehouse.db");

    public void WriteProject(string yaml) => File.WriteAllText(Path.Combine(Root, "metrics.yml"), yaml);

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    public void Execute(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public List<Dictionary<string, object?>> Query(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>();
            for (var i = 0; i < reader.FieldCount; i++)
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }

        return rows;
    }

    public object? Scalar(string sql) => Query(sql).Single().Values.Single();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
