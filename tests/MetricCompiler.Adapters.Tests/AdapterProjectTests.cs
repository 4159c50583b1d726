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
