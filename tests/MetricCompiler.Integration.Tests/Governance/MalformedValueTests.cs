using System.Globalization;
using System.Text.Json;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Integration.Tests.MetricLayer;
using MetricCompiler.Planning;

namespace MetricCompiler.Integration.Tests.Governance;

/// <summary>
/// Malformed values in the rows staging keeps (issue 6): a number column holding text that is not a number (`'N/A'`,
/// `''`) is null, not SQLite's 0, and a negative value of a `non_negative` column is null; the run counts both per
/// source, the same on SQLite, DuckDB and PostgreSQL.
/// </summary>
public sealed class MalformedValueTests : IDisposable
{
    /// <summary>(event id, user, revenue, items): raw text, as a loosely typed export delivers it.</summary>
    private static readonly (string Id, string? User, string? Revenue, string? Items)[] Events =
    [
        ("e1", "u1", "10", "2"),
        ("e2", "u2", "N/A", "1"),    // revenue not a number
        ("e3", "u3", "-5", "x"),     // revenue negative, items not a number
        ("e4", "u4", "", "-1"),      // revenue not a number (empty text), items negative
        ("e5", "u1", "7.5", null),   // a null is missing, not malformed
        ("e6", null, "N/A", "x"),    // no entity: dropped, so its values are not counted
    ];

    private readonly EngineProject _project = new("""
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number, non_negative: true}
              - {name: items, type: integer, non_negative: true}
        metrics:
          - {name: order_value, source: events, agg: average, expr: revenue, materialize: {grain: day}}
        """,
        new RawTable("raw_events",
            [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("occurred_at"), EngineProject.Text("revenue"), EngineProject.Text("items")],
            Events.Select(e => new object?[] { e.Id, e.User, "2026-01-08 10:00:00", e.Revenue, e.Items }).ToList()));

    [Fact]
    public void Values_that_are_not_numbers_or_are_negative_are_null_and_counted_on_every_engine()
    {
        foreach (var engine in EngineProject.Engines)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.True(CommandLine.Run(["run", "--project-dir", _project.Root, "--target", engine], output, error) == 0, $"{engine}: {error}");

            // The CLI line under the staging node, and run_results.json.
            Assert.Contains("values made null: 2 negative, 3 not a number", output.ToString());
            using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_project.Root, "target", "run_results.json")));
            var staging = results.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("node").GetString() == "stg_events");
            Assert.Equal(3, staging.GetProperty("nulled").GetProperty(StagingAuditColumns.NotANumber).GetInt64());
            Assert.Equal(2, staging.GetProperty("nulled").GetProperty(StagingAuditColumns.Negative).GetInt64());
            Assert.Equal(1, staging.GetProperty("dropped").GetProperty(StagingAuditColumns.MissingEntity).GetInt64());

            var staged = _project.Rows(engine, "select event_id, revenue, items from stg_events order by event_id");
            Assert.Equal(["e1 10 2", "e2 null 1", "e3 null null", "e4 null null", "e5 7.5 null"],
                staged.Select(r => $"{r["event_id"]} {Text(r["revenue"])} {Text(r["items"])}"));

            // The mean of the values that are numbers: (10 + 7.5) / 2, not (10 + 0 - 5 + 0 + 7.5) / 5.
            var value = _project.Rows(engine, "select metric_value from fct_order_value where metric_value is not null").Single()["metric_value"];
            Assert.Equal(8.75, Convert.ToDouble(value, CultureInfo.InvariantCulture), 9);
        }
    }

    private static string Text(object? value) => value is null or DBNull ? "null" : Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _project.Dispose();
}
