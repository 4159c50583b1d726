using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Governance;

/// <summary>
/// Governance keys of a source (<c>pii</c>, <c>consent</c>, <c>retention_days</c>): every bad value is reported at its
/// line, and the governed staging SQL of each dialect matches the committed golden file (regenerate with
/// <c>METRICC_UPDATE_GOLDEN=1</c>).
/// </summary>
public sealed class GovernanceCompileTests
{
    private const string Governed = """
        version: 1
        name: governed
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            retention_days: 90
            consent: {column: analytics_consent, value: "true"}
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: email, type: string, pii: true}
              - {name: analytics_consent, type: boolean}
              - {name: occurred_at, type: timestamp}
        """;

    public static TheoryData<string> Dialects => new() { "duckdb", "sqlite", "postgres", "trino", "snowflake" };

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Governed_staging_compiles_to_the_committed_sql(string dialect)
    {
        using var project = new TempProject(("metrics.yml", Governed));
        var load = project.Load();
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        var sql = PlanCompiler.Compile(Planner.Plan(load.Bound!), SqlDialects.ForAdapter(dialect)).Single(c => c.Node.Name == "stg_events").Sql!;
        var golden = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "governance", dialect + ".sql");
        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
            File.WriteAllText(golden, sql);
        }

        Assert.True(File.Exists(golden), $"no golden file {golden}; run METRICC_UPDATE_GOLDEN=1");
        Assert.True(File.ReadAllText(golden) == sql, $"governance/{dialect}.sql differs from the golden file");
        Assert.DoesNotContain("METRICC_PII_SALT", sql, StringComparison.Ordinal);
        Assert.Contains(NodeNames.PiiSalt, sql, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{name: email, type: number, pii: true}", "{column: analytics_consent, value: \"true\"}", "MC4002", "pii column `email` is declared as number")]
    [InlineData("{name: email, type: string, pii: true}", "{column: consnt, value: \"true\"}", "MC2004", "consent column `consnt` is not declared")]
    [InlineData("{name: email, type: string, pii: true}", "{column: analytics_consent, value: granted}", "MC4002", "consent value `granted` is not a boolean value")]
    [InlineData("{name: email, type: string, pii: true}", "{column: email, value: x}", "MC3007", "consent column `email` is pii")]
    [InlineData("{name: email, type: string, non_negative: true}", "{column: analytics_consent, value: \"true\"}", "MC4002", "column `email` is declared as string; `non_negative` applies to numbers")]
    public void Bad_governance_is_reported_at_its_line(string emailColumn, string consent, string code, string message)
    {
        var yaml = Governed.Replace("{name: email, type: string, pii: true}", emailColumn, StringComparison.Ordinal)
            .Replace("{column: analytics_consent, value: \"true\"}", consent, StringComparison.Ordinal);
        using var project = new TempProject(("metrics.yml", yaml));
        var result = project.Load();
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Diagnostics, d => d.Code == code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line is 10 or 14, $"located at the consent or email line: {error.Format()}");
    }

    [Fact]
    public void Retention_days_out_of_range_is_reported_at_its_line()
    {
        using var project = new TempProject(("metrics.yml", Governed.Replace("retention_days: 90", "retention_days: 0", StringComparison.Ordinal)));
        var error = Assert.Single(project.Load().Diagnostics, d => d.Code == "MC3004");
        Assert.Equal(9, error.Location.Line);
    }

    [Fact]
    public void A_pii_hash_attribute_is_refused_because_the_audit_needs_the_raw_id()
    {
        var yaml = Fixtures.Project.Replace("      - {name: user_id, type: string}\n      - {name: experiment_id, type: string}",
            "      - {name: user_id, type: string, pii: true}\n      - {name: experiment_id, type: string}", StringComparison.Ordinal) + "\n    assignment:\n      seed: s\n";
        Assert.NotEqual(Fixtures.Project + "\n    assignment:\n      seed: s\n", yaml);
        using var project = new TempProject(("metrics.yml", yaml));
        var error = Assert.Single(project.Load().Diagnostics, d => d.Code == "MC3007");
        Assert.Contains("hash attribute `user_id` is pii", error.Message, StringComparison.Ordinal);
    }
}
