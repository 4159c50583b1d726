using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MetricCompiler.Execution.Running;
using MetricCompiler.Integration.Tests.MetricLayer;
using MetricCompiler.Planning;

namespace MetricCompiler.Integration.Tests.Governance;

/// <summary>
/// Governance in staging (issue 13), on every engine the suite runs: a <c>pii: true</c> column is a salted SHA-256 of
/// its value in staging and in nothing downstream is the raw value found; rows without consent and rows older than
/// <c>retention_days</c> never leave staging, and the run reports how many each rule dropped. The reference is a plain
/// computation over the same rows (.NET's SHA-256).
/// </summary>
public sealed class StagingGovernanceTests : IDisposable
{
    private static readonly string SaltVariable = "METRICC_TEST_SALT_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private const string Salt = "s3cr3t-salt-for-tests";

    /// <summary>(event id, user, email, consent, days ago or an unparsable time). Times are relative to now, so retention is exercised.</summary>
    private static readonly (string Id, string? User, string Email, string? Consent, object When)[] Events =
    [
        ("e1", "u1", "ann@example.com", "granted", 2),
        ("e2", "u1", "ann@example.com", "granted", 3),
        ("e2", "u1", "ann@example.com", "granted", 3),       // duplicate delivery
        ("e3", "u2", "bob@example.com", "denied", 2),        // no consent
        ("e4", "u3", "cyd@example.com", null, 2),            // no consent recorded
        ("e5", "u4", "dee@example.com", "granted", 45),      // outside the 30-day retention
        ("e6", null, "eve@example.com", "granted", 1),       // no entity
        ("e7", "u5", "fay@example.com", "granted", "not a time"),
        ("e8", "u6", "gus@example.com", "granted", 29),
    ];

    private readonly EngineProject _project = new($"""
        pii_salt_env: {SaltVariable}
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            retention_days: 30
            consent: {"{column: consent, value: granted}"}
            columns:
              - {"{name: event_id, type: string}"}
              - {"{name: user_id, type: string}"}
              - {"{name: email, type: string, pii: true}"}
              - {"{name: consent, type: string}"}
              - {"{name: occurred_at, type: timestamp}"}
        metrics:
          - {"{name: events_count, source: events, agg: count, materialize: {grain: day}}"}
          - {"{name: emails, source: events, agg: count_distinct, expr: email, materialize: {grain: day}}"}
        """,
        new RawTable("raw_events",
            [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Text("email"), EngineProject.Text("consent"), EngineProject.Text("occurred_at")],
            Events.Select(e => new object?[] { e.Id, e.User, e.Email, e.Consent, e.When is int days ? Ago(days) : e.When }).ToList()));

    private static string Ago(int days) => DateTime.UtcNow.AddDays(-days).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Salt + value)));

    [Fact]
    public void Staging_hashes_pii_and_keeps_only_consented_rows_inside_retention_on_every_engine()
    {
        Environment.SetEnvironmentVariable(SaltVariable, Salt);
        // The reference: the rules applied to the rows in C#.
        var kept = Events.Where(e => e.User is not null && e.When is int days && days <= 30 && e.Consent == "granted")
            .DistinctBy(e => e.Id).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(["e1", "e2", "e8"], kept.Select(e => e.Id));

        foreach (var engine in EngineProject.Engines)
        {
            var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root, engine));
            Assert.True(outcome.ExitCode == 0, $"{engine}: {outcome.Error}");

            var staged = _project.Rows(engine, "select event_id, email from stg_events order by event_id");
            Assert.Equal(kept.Select(e => $"{e.Id} {Hash(e.Email)}"), staged.Select(r => $"{r["event_id"]} {r["email"]}"));

            // The run's account of what staging dropped, rule by rule.
            var dropped = outcome.Results.Single(r => r.Node == "stg_events").Dropped;
            Assert.NotNull(dropped);
            Assert.Equal(1, dropped[StagingAuditColumns.MissingEntity]);
            Assert.Equal(1, dropped[StagingAuditColumns.MissingTime]);
            Assert.Equal(1, dropped[StagingAuditColumns.OutsideRetention]);
            Assert.Equal(2, dropped[StagingAuditColumns.WithoutConsent]);
            Assert.Equal(1, dropped[StagingAuditColumns.Duplicates]);

            // No raw email in any table the run built, and the salt table is gone.
            var raw = Events.Select(e => e.Email).ToHashSet(StringComparer.Ordinal);
            foreach (var node in new[] { "stg_events", "fct_events_count", "fct_emails" })
            {
                foreach (var row in _project.Rows(engine, $"select * from {node}"))
                    Assert.DoesNotContain(row.Values, v => v is string text && (raw.Contains(text) || text.Contains(Salt, StringComparison.Ordinal)));
            }

            using (var adapter = _project.Open(engine))
                Assert.False(adapter.TableExists(NodeNames.PiiSalt), $"{engine}: the salt table outlived the run");
            // Distinct hashed emails per day still count people: one on each of the three days with kept rows.
            var perDay = _project.Rows(engine, "select metric_value from fct_emails order by metric_date").Select(r => Convert.ToDouble(r["metric_value"], CultureInfo.InvariantCulture));
            Assert.Equal([1.0, 1.0, 1.0], perDay.Where(v => v != 0));
        }

        // Neither the salt nor a raw value is in any artifact of the runs.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_project.Root, "target"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".db", StringComparison.Ordinal) && !f.EndsWith(".duckdb", StringComparison.Ordinal) && !f.EndsWith(".wal", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(Salt, text, StringComparison.Ordinal);
            Assert.DoesNotContain("ann@example.com", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_run_without_the_salt_stops_before_touching_the_warehouse()
    {
        var variable = "METRICC_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        File.WriteAllText(Path.Combine(_project.Root, "metrics.yml"),
            File.ReadAllText(Path.Combine(_project.Root, "metrics.yml")).Replace(SaltVariable, variable, StringComparison.Ordinal));
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root, "duckdb"));
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(variable, outcome.Error, StringComparison.Ordinal);
        using var adapter = _project.Open("duckdb");
        Assert.False(adapter.TableExists("stg_events"));
    }

    public void Dispose() => _project.Dispose();
}
