using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Metrics;

/// <summary>
/// <c>cap:</c> on a metric: a valid cap loads and reaches the statistics SQL; a capped proportion, a cap with both or
/// neither rule, and a percentile outside (0, 1) each get one located diagnostic with a stable code and a hint.
/// </summary>
public sealed class CapDiagnosticsTests
{
    private static TempProject With(string metric, string cap) =>
        new(("metrics.yml", Fixtures.Project.Replace($"  - name: {metric}\n", $"  - name: {metric}\n    cap: {cap}\n", StringComparison.Ordinal)));

    private static (Diagnostic Error, string Text) Single(string metric, string cap, string code)
    {
        using var project = With(metric, cap);
        var result = project.Load();
        var error = Assert.Single(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(error.Code == code, error.Format());
        Assert.EndsWith("metrics.yml", error.Location.File);
        Assert.NotNull(error.Hint);
        var line = File.ReadAllLines(Path.Combine(project.Root, "metrics.yml"))[error.Location.Line - 1];
        return (error, line[(error.Location.Column - 1)..]);
    }

    [Fact]
    public void A_capped_proportion_is_refused_at_the_cap()
    {
        var (error, text) = Single("purchased", "{percentile: 0.99}", "MC3007");
        Assert.Contains("proportion", error.Message);
        Assert.StartsWith("{percentile: 0.99}", text);
    }

    [Fact]
    public void A_cap_takes_exactly_one_rule()
    {
        Assert.StartsWith("{percentile: 0.9, value: 5}", Single("revenue", "{percentile: 0.9, value: 5}", "MC1005").Text);
        Assert.Contains("exactly one", Single("revenue", "{}", "MC1005").Error.Message);
    }

    [Fact]
    public void A_percentile_outside_zero_and_one_points_at_it()
    {
        var (error, text) = Single("revenue", "{percentile: 99}", "MC3004");
        Assert.StartsWith("99}", text);
        Assert.Contains("between 0 and 1", error.Message);
    }

    [Fact]
    public void A_capped_mean_and_ratio_reach_the_statistics_query()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project
            .Replace("  - name: revenue\n", "  - name: revenue\n    cap: {percentile: 0.99}\n", StringComparison.Ordinal)
            .Replace("  - name: order_value\n", "  - name: order_value\n    cap: {value: 250}\n", StringComparison.Ordinal)));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        foreach (var dialectName in new[] { "sqlite", "duckdb", "postgres", "trino", "snowflake" })
        {
            var sql = PlanCompiler.Compile(Planner.Plan(result.Bound!), SqlDialects.ForAdapter(dialectName)).Single(c => c.Node.Name == "exp_checkout__statistics").Sql!;
            Assert.Contains("cap_ranks", sql);
            Assert.Contains("as revenue__cap_p99", sql);
            Assert.Contains("as revenue__cap_v250", sql);
            Assert.Contains("as purchases__cap_v250", sql);
            Assert.Contains(StatisticsColumns.ValueCap, sql);
            var path = Path.Combine(Folder, $"{dialectName}_statistics.sql");
            if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
            {
                Directory.CreateDirectory(Folder);
                File.WriteAllText(path, sql);
            }

            Assert.True(File.Exists(path), $"no golden file {path}; run METRICC_UPDATE_GOLDEN=1");
            Assert.True(File.ReadAllText(path) == sql, $"{path} differs from the golden file");
        }
    }

    private static readonly string Folder = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "capping");
}
