namespace MetricCompiler.Adapters.Tests;

public sealed class DuckDbLoadsTests
{
    [Fact]
    public void The_embedded_duckdb_native_library_loads_and_answers()
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "select 40 + 2";
        Assert.Equal(42, Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>A DuckDB target's <c>memory_limit</c> setting reaches the engine; a value that is not an amount of memory is a target error.</summary>
public sealed class DuckDbMemoryLimitTests
{
    private static Core.Model.TargetDefinition Target(params (string Key, string Value)[] settings) =>
        new("dev", "duckdb", settings.ToDictionary(s => s.Key, s => s.Value), new Core.Diagnostics.SourceLocation("metrics.yml", 1, 1));

    [Fact]
    public void The_memory_limit_setting_bounds_duckdb_and_a_malformed_one_is_refused()
    {
        using (var adapter = AdapterFactory.Open(Target(("path", ":memory:"), ("memory_limit", "300MB")), Path.GetTempPath()))
        {
            var limit = (string)adapter.Query("select current_setting('memory_limit') as l").Single()["l"]!;
            Assert.StartsWith("286", limit, StringComparison.Ordinal); // 300 MB as DuckDB prints it: 286.1 MiB
        }

        var error = Assert.Throws<TargetException>(() => AdapterFactory.Open(Target(("path", ":memory:"), ("memory_limit", "lots'; drop table x; --")), Path.GetTempPath()));
        Assert.Contains("is not an amount of memory", error.Message, StringComparison.Ordinal);
    }
}
