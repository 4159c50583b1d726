using System.Text.Json.Nodes;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// Source freshness (dbt's warn_after / error_after) at a fixed reference time, on DuckDB and SQLite: the latest event
/// is 2026-01-08 12:00 UTC, so at 2026-01-08 20:00 it is 8 hours old (pass), at 2026-01-09 06:00 18 hours (warn), at
/// 2026-01-10 00:00 36 hours (fail).
/// </summary>
public sealed class SourceFreshnessTests : IDisposable
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
            freshness:
              warn_after: {count: 12, period: hour}
              error_after: {count: 1, period: day}
            columns:
              - {name: user_id, type: string}
              - {name: occurred_at, type: timestamp}
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-freshness", Guid.NewGuid().ToString("N"));

    public SourceFreshnessTests()
    {
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_root, "metrics.yml"), Yaml);
    }

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

    private void Seed(string target)
    {
        using var adapter = AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, target), _root);
        adapter.Execute("drop table if exists raw_events");
        adapter.Execute("create table raw_events (user_id varchar(20), occurred_at varchar(30))");
        adapter.Execute("insert into raw_events values ('u1', '2026-01-07 09:00:00'), ('u2', '2026-01-08 12:00:00'), ('u3', 'not a time')");
    }

    private RunOutcome Run(string target, string now) =>
        new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root, target) { Now = DateTime.Parse(now, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal) });

    private static NodeResult Freshness(RunOutcome outcome) => outcome.Results.Single(r => r.Node == "source_freshness_events");

    [Theory]
    [InlineData("duckdb")]
    [InlineData("sqlite")]
    public void Freshness_passes_warns_and_fails_by_the_age_of_the_latest_event(string target)
    {
        Seed(target);
        var fresh = Run(target, "2026-01-08T20:00:00Z");
        Assert.True(fresh.ExitCode == 0, fresh.Error);
        Assert.Equal(NodeResult.Pass, Freshness(fresh).Status);

        var stale = Run(target, "2026-01-09T06:00:00Z");
        Assert.Equal(0, stale.ExitCode);
        Assert.Equal(NodeResult.Warn, Freshness(stale).Status);
        Assert.Contains("18 hours", Freshness(stale).Message);
        Assert.Contains("`warn_after` (12 hours)", Freshness(stale).Message);
        Assert.Equal(18.0, (double)Freshness(stale).FailingRows.Single()["age_hours"]!);

        var late = Run(target, "2026-01-10T00:00:00Z");
        Assert.Equal(ExitCodes.Failure, late.ExitCode);
        Assert.Equal(NodeResult.Fail, Freshness(late).Status);
        Assert.Contains("`error_after` (1 day)", Freshness(late).Message);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!["results"]!.AsArray()
            .Single(r => (string?)r!["node"] == "source_freshness_events")!;
        Assert.Equal("fail", (string?)json["status"]);
        Assert.Equal("stg_events", (string?)json["attached_to"]);
        Assert.Equal(36.0, (double)json["failing_rows"]![0]!["age_hours"]!);
    }

    [Fact]
    public void Metricc_test_checks_freshness_at_the_now_it_is_given_and_prints_the_outcome()
    {
        Seed("duckdb");
        Assert.Equal(0, Run("duckdb", "2026-01-08T20:00:00Z").ExitCode);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["test", "--project-dir", _root, "--target", "duckdb", "--now", "2026-01-12T12:00:00Z"], output, error);
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("source_freshness_events", output.ToString());
        Assert.Contains("4 days before the reference time 2026-01-12 12:00:00 UTC", output.ToString() + error.ToString());

        Assert.Equal(ExitCodes.Usage, CommandLine.Run(["test", "--project-dir", _root, "--target", "duckdb", "--now", "yesterday"], new StringWriter(), error));
        Assert.Contains("--now `yesterday` is not a date and time", error.ToString());
    }
}
