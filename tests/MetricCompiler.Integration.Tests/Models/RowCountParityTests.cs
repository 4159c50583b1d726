using System.Text.Json.Nodes;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// Row-count parity between a source and its staging, on DuckDB and SQLite: 10 raw rows, of which staging drops one
/// without a user, one with a time that does not parse and one duplicate delivery (30%); the thresholds decide
/// pass, warn or fail, and every count is in run_results.json.
/// </summary>
public sealed class RowCountParityTests : IDisposable
{
    private const string Yaml = """
        version: 1
        name: shop
        targets:
          duckdb:
            adapter: duckdb
            path: target/warehouse.duckdb
          sqlite:
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
              - {name: occurred_at, type: timestamp}
            tests:
              - row_count_parity: THRESHOLDS
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-parity", Guid.NewGuid().ToString("N"));

    public RowCountParityTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private RunOutcome Run(string target, string thresholds)
    {
        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("THRESHOLDS", thresholds));
        using (var adapter = AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, target), _root))
        {
            adapter.Execute("drop table if exists raw_events");
            adapter.Execute("create table raw_events (event_id varchar(20), user_id varchar(20), occurred_at varchar(30))");
            adapter.Execute("""
                insert into raw_events values
                  ('e1', 'u1', '2026-01-05 10:00:00'), ('e2', 'u2', '2026-01-05 11:00:00'), ('e3', 'u3', '2026-01-05 12:00:00'),
                  ('e4', 'u1', '2026-01-06 10:00:00'), ('e5', 'u2', '2026-01-06 11:00:00'), ('e6', 'u3', '2026-01-06 12:00:00'),
                  ('e7', 'u1', '2026-01-07 10:00:00'), ('e7', 'u1', '2026-01-07 10:00:00'),
                  ('e8', null, '2026-01-07 11:00:00'), ('e9', 'u2', 'yesterday')
                """);
        }

        return new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target));
    }

    private static NodeResult Parity(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "row_count_parity_source_events");

    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    public void Parity_reports_what_staging_dropped_and_why_against_its_thresholds(string target)
    {
        var pass = Run(target, "{max_dropped_share: 0.5}");
        Assert.True(pass.ExitCode == 0, pass.Error);
        Assert.Equal(NodeResult.Pass, Parity(pass).Status);
        Assert.Equal("staging dropped 3 of 10 raw rows (30%): 1 duplicates, 1 missing entity, 1 missing or unparsable time", Parity(pass).Message);
        var counts = Parity(pass).FailingRows.Single();
        Assert.Equal((10L, 7L, 3L, 0.3), ((long)counts["raw_rows"]!, (long)counts["staged_rows"]!, (long)counts["dropped_rows"]!, (double)counts["dropped_share"]!));
        Assert.Equal((1L, 1L, 1L), ((long)counts["missing_entity"]!, (long)counts["missing_or_unparsable_time"]!, (long)counts["duplicates"]!));

        var warn = Run(target, "{warn_dropped_share: 0.1, max_dropped_share: 0.5}");
        Assert.Equal(0, warn.ExitCode);
        Assert.Equal(NodeResult.Warn, Parity(warn).Status);
        Assert.EndsWith("more than `warn_dropped_share` (10%)", Parity(warn).Message);

        var fail = Run(target, "{max_dropped_share: 0.2}");
        Assert.Equal(ExitCodes.Failure, fail.ExitCode);
        Assert.Equal(NodeResult.Fail, Parity(fail).Status);
        Assert.Equal(3, Parity(fail).Rows);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!["results"]!.AsArray();
        var json = results.Single(r => (string?)r!["node"] == "row_count_parity_source_events")!;
        Assert.Equal("fail", (string?)json["status"]);
        Assert.Equal(1, (long)json["failing_rows"]![0]!["missing_or_unparsable_time"]!);
        // The staging node reports the same counts per reason, as every run does.
        var staging = results.Single(r => (string?)r!["node"] == "stg_events")!["dropped"]!;
        Assert.Equal((1L, 1L, 1L), ((long)staging["missing_entity"]!, (long)staging["missing_or_unparsable_time"]!, (long)staging["duplicates"]!));

        // With severity warn, the same breach only warns.
        var lenient = Run(target, "{max_dropped_share: 0.2, severity: warn}");
        Assert.Equal(0, lenient.ExitCode);
        Assert.Equal(NodeResult.Warn, Parity(lenient).Status);
    }

    [Fact]
    public void Parity_needs_a_threshold_and_sits_on_the_source()
    {
        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("THRESHOLDS", "{severity: warn}"));
        var load = ProjectLoader.Load(_root);
        Assert.Contains(load.Diagnostics, d => d.Code == "MC6007" && d.Message.Contains("needs `max_dropped_share` or `warn_dropped_share`", StringComparison.Ordinal));

        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml.Replace("      - {name: user_id, type: string}", "      - {name: user_id, type: string, tests: [{row_count_parity: {max_dropped_share: 0.1}}]}")
            .Replace("THRESHOLDS", "{max_dropped_share: 0.1}"));
        load = ProjectLoader.Load(_root);
        Assert.Contains(load.Diagnostics, d => d.Code == "MC6007" && d.Message.Contains("goes under the source's own `tests:`", StringComparison.Ordinal));
    }
}
