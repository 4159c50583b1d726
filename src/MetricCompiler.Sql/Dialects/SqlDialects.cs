namespace MetricCompiler.Sql.Dialects;

/// <summary>The one place dialects are registered; everything that needs the list of engines asks here.</summary>
public static class SqlDialects
{
    public static IReadOnlyList<SqlDialect> All { get; } =
    [
        SqliteDialect.Instance,
        PostgresDialect.Instance,
        TrinoDialect.Instance,
        SnowflakeDialect.Instance,
        DuckDbDialect.Instance,
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToList();

    public static SqlDialect? Find(string name) => All.FirstOrDefault(d => d.Name == name);

    public static SqlDialect ForAdapter(string adapter) =>
        Find(adapter) ?? throw new ArgumentException($"unknown adapter `{adapter}`; adapters: {string.Join(", ", Names)}", nameof(adapter));
}
