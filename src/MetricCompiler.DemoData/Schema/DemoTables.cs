namespace MetricCompiler.DemoData.Schema;

internal enum ColumnType
{
    Text,
    DoublePrecision,
}

internal sealed record ColumnDefinition(string Name, ColumnType Type, bool IsNullable = false)
{
    public string SqlType => Type == ColumnType.Text ? "TEXT" : "DOUBLE PRECISION";

    public string ToDdl() => $"{Name} {SqlType} {(IsNullable ? "NULL" : "NOT NULL")}";
}

/// <summary>A raw table of the demo warehouse, with portable DDL that SQLite and PostgreSQL both accept.</summary>
internal sealed record TableDefinition(string Name, IReadOnlyList<ColumnDefinition> Columns, string CanonicalOrderColumn)
{
    public string DropSql => $"DROP TABLE IF EXISTS {Name}";

    public string CreateSql => $"CREATE TABLE {Name} ({string.Join(", ", Columns.Select(column => column.ToDdl()))})";

    /// <summary>The table as the warehouse adapter creates it (types rendered by the target's dialect).</summary>
    public Adapters.TableSpec ToSpec() => new(Name, Columns.Select(column => new Adapters.ColumnSpec(
        column.Name, column.Type == ColumnType.Text ? Sql.Model.SqlType.String : Sql.Model.SqlType.Double, column.IsNullable)).ToList());

    public string SelectInCanonicalOrderSql =>
        $"SELECT {string.Join(", ", Columns.Select(column => column.Name))} FROM {Name} ORDER BY {CanonicalOrderColumn}";
}

/// <summary>The three raw tables the demo project's YAML declares. Canonical row order is by id (ids are issued in user-then-time order).</summary>
internal static class DemoTables
{
    public static readonly TableDefinition Users = new(
        "raw_users",
        [
            new("user_id", ColumnType.Text),
            new("signup_at", ColumnType.Text),
            new("country", ColumnType.Text),
            new("platform", ColumnType.Text),
        ],
        "user_id");

    public static readonly TableDefinition Events = new(
        "raw_events",
        [
            new("event_id", ColumnType.Text),
            new("user_id", ColumnType.Text),
            new("event_type", ColumnType.Text),
            new("occurred_at", ColumnType.Text),
            new("page", ColumnType.Text, IsNullable: true),
            new("page_load_ms", ColumnType.DoublePrecision, IsNullable: true),
            new("revenue", ColumnType.DoublePrecision, IsNullable: true),
        ],
        "event_id");

    public static readonly TableDefinition Exposures = new(
        "raw_exposures",
        [
            new("exposure_id", ColumnType.Text),
            new("experiment_id", ColumnType.Text),
            new("user_id", ColumnType.Text),
            new("variant", ColumnType.Text),
            new("exposed_at", ColumnType.Text),
        ],
        "exposure_id");

    /// <summary>All tables in the order they are written and hashed.</summary>
    public static readonly IReadOnlyList<TableDefinition> All = [Users, Events, Exposures];
}
