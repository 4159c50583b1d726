using MetricCompiler.Cli.Commands;
using MetricCompiler.Execution.Checks;
using MetricCompiler.Integration.Tests.MetricLayer;

namespace MetricCompiler.Integration.Tests.Checks;

/// <summary>
/// <c>metricc validate --live</c> (issue 9): the target's catalog is read on every engine the suite runs, and a
/// missing table, a missing column and a column whose warehouse type cannot hold the declared type are reported at the
/// YAML line that declares them.
/// </summary>
public sealed class LiveCatalogTests : IDisposable
{
    private readonly EngineProject _project = new("""
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            columns:
              - {name: user_id, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: amount, type: number}
              - {name: coupon, type: string}
              - {name: quantity, type: number}
          - name: refunds
            table: raw_refunds
            entity: user_id
            event_time: refunded_at
            columns:
              - {name: user_id, type: string}
              - {name: refunded_at, type: timestamp}
        """,
        new RawTable("raw_events", [EngineProject.Text("user_id"), EngineProject.Text("occurred_at"), EngineProject.Text("amount"), EngineProject.Number("quantity")],
            [["u1", "2026-01-05 10:00:00", "12.5", 2.0]]));

    [Fact]
    public void Missing_tables_columns_and_incompatible_types_are_reported_at_their_yaml_lines_on_every_engine()
    {
        var yaml = File.ReadAllLines(Path.Combine(_project.Root, "metrics.yml"));
        int Line(string text) => Array.FindIndex(yaml, l => l.Contains(text, StringComparison.Ordinal)) + 1;
        foreach (var engine in EngineProject.Engines)
        {
            using var adapter = _project.Open(engine);
            var found = CatalogCheck.Run(_project.Project, adapter, engine).OrderBy(d => d.Location.Line).ToList();
            Assert.True(found.Count == 3, $"{engine}: {string.Join("\n", found.Select(d => d.Format()))}");
            Assert.Equal(("MC5005", Line("{name: amount")), (found[0].Code, found[0].Location.Line));
            Assert.Contains("`amount` is declared `number`", found[0].Message, StringComparison.Ordinal);
            Assert.Equal(("MC5004", Line("{name: coupon")), (found[1].Code, found[1].Location.Line));
            Assert.Equal(("MC5003", Line("table: raw_refunds")), (found[2].Code, found[2].Location.Line));
            Assert.All(found, d => Assert.True(d.IsError));
        }
    }

    [Theory]
    [InlineData("character varying", "postgres", CatalogCheck.TypeFamily.Text)]
    [InlineData("timestamp with time zone", "postgres", CatalogCheck.TypeFamily.Timestamp)]
    [InlineData("NUMBER(38, 0)", "snowflake", CatalogCheck.TypeFamily.Integer)]
    [InlineData("NUMBER(12,2)", "snowflake", CatalogCheck.TypeFamily.Decimal)]
    [InlineData("TIMESTAMP_NTZ", "snowflake", CatalogCheck.TypeFamily.Timestamp)]
    [InlineData("timestamp(3)", "trino", CatalogCheck.TypeFamily.Timestamp)]
    [InlineData("HUGEINT", "duckdb", CatalogCheck.TypeFamily.Integer)]
    [InlineData("", "sqlite", CatalogCheck.TypeFamily.Text)]
    [InlineData("VARCHAR(20)", "sqlite", CatalogCheck.TypeFamily.Text)]
    [InlineData("map(varchar, bigint)", "trino", CatalogCheck.TypeFamily.Other)]
    public void Engine_type_names_fall_into_families(string type, string dialect, CatalogCheck.TypeFamily family) =>
        Assert.Equal(family, CatalogCheck.Family(type, dialect));

    [Fact]
    public void The_seeded_demo_passes_and_live_with_offline_is_bad_usage()
    {
        var root = Path.Combine(Path.GetTempPath(), "metricc-live", Guid.NewGuid().ToString("N"));
        try
        {
            DemoCopy.To(root);
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.Equal(3, CommandLine.Run(["validate", "--live", "--project-dir", root], output, error));
            Assert.Contains("does not exist", error.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, CommandLine.Run(["seed", "--project-dir", root], new StringWriter(), new StringWriter()));
            error = new StringWriter();
            Assert.True(CommandLine.Run(["validate", "--live", "--offline", "--project-dir", root], new StringWriter(), error) == 2, error.ToString());
            error = new StringWriter();
            Assert.True(CommandLine.Run(["validate", "--live", "--project-dir", root], new StringWriter(), error) == 0, error.ToString());
            Assert.DoesNotContain("MC500", error.ToString().Replace("MC5001", "", StringComparison.Ordinal).Replace("MC5002", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public void Dispose() => _project.Dispose();
}
