using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Metrics;

/// <summary>
/// A percentile metric used as an experiment guardrail compiles, on every dialect, to the rank-based quantile columns
/// of the statistics table (golden SQL per dialect: Trino and Snowflake are not executed by the suite, so their text
/// is pinned here; SQLite, DuckDB and PostgreSQL are also checked against numpy in QuantileExperimentTests).
/// </summary>
public sealed class QuantileCompileTests
{
    private static readonly string Folder = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden", "quantile");

    [Fact]
    public void A_percentile_guardrail_reaches_the_statistics_query_as_quantile_columns()
    {
        using var project = new TempProject(("metrics.yml", Fixtures.Project
            .Replace("  - name: order_value\n", """
                  - name: revenue_p95
                    source: events
                    agg: percentile
                    percentile: 0.95
                    expr: revenue
                    filter: event_type = 'purchase'
                  - name: order_value

                """.Replace("\r\n", "\n"), StringComparison.Ordinal)
            .Replace("- {metric: purchases, harmful_direction: decrease, margin: 0.1}",
                "- {metric: purchases, harmful_direction: decrease, margin: 0.1}\n        - {metric: revenue_p95, harmful_direction: decrease, margin: 0.05}", StringComparison.Ordinal)));
        var result = project.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics.Select(d => d.Format())));
        foreach (var dialectName in new[] { "sqlite", "duckdb", "postgres", "trino", "snowflake" })
        {
            var compiled = PlanCompiler.Compile(Planner.Plan(result.Bound!), SqlDialects.ForAdapter(dialectName));
            var sql = compiled.Single(c => c.Node.Name == "exp_checkout__statistics").Sql!;
            Assert.Contains("revenue_p95__quantile_ranks", sql);
            Assert.Contains("revenue_p95__quantile_positions", sql);
            Assert.Contains(StatisticsColumns.QuantileUpper, sql);
            Assert.DoesNotContain("percentile_cont", sql);
            Assert.DoesNotContain("approx_percentile", sql);
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
}
