using System.Text.Json;
using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The demo project end to end, as `./metricc build` runs it: seed the generated data, build the DAG, read out both
/// experiments. The demo is designed so that one experiment ships and the other is stopped by its guardrails.
/// </summary>
public sealed class DemoProjectTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-demo", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Build_seeds_runs_and_decides_both_experiments()
    {
        DemoCopy.To(_root);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(["build", "--project-dir", _root], output, error);

        Assert.True(exit == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("Experiment homepage_cta", text);
        Assert.Contains("Experiment onboarding_flow", text);

        using var cta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "target", "results", "homepage_cta.json")));
        Assert.Equal("ship", cta.RootElement.GetProperty("decision").GetString());
        Assert.False(cta.RootElement.GetProperty("srm").GetProperty("mismatch").GetBoolean());
        Assert.True(cta.RootElement.GetProperty("srm").GetProperty("excluded_multiple_variant_units").GetInt64() > 0);

        using var onboarding = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "target", "results", "onboarding_flow.json")));
        Assert.Equal("no_ship", onboarding.RootElement.GetProperty("decision").GetString());
        var breached = onboarding.RootElement.GetProperty("metrics").EnumerateArray()
            .Where(m => m.GetProperty("guardrail").ValueKind == JsonValueKind.Object && m.GetProperty("guardrail").GetProperty("status").GetString() == "breached")
            .Select(m => m.GetProperty("metric").GetString())
            .ToList();
        Assert.Contains("page_load_time", breached);
        // The primary metric alone would have shipped: the guardrail is what blocks it.
        var primary = onboarding.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "primary");
        Assert.True(primary.GetProperty("significant").GetBoolean());
        Assert.True(primary.GetProperty("relative_lift").GetDouble() > 0);

        // Both declared MDEs are out of reach once alpha is shared by the corrected comparisons (Holm over 4 metrics for
        // homepage_cta, 2 for onboarding_flow): validate warns, and says at which alpha.
        var validateErrors = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["validate", "--project-dir", _root], new StringWriter(), validateErrors));
        Assert.Contains("warning MC5001: experiment `onboarding_flow` cannot reach its minimum_detectable_effect", validateErrors.ToString());
        Assert.Contains("(at alpha 0.025:", validateErrors.ToString());
        Assert.Contains("(at alpha 0.0125:", validateErrors.ToString());

        // The README's two query examples are what `metricc query` prints on the demo.
        var readme = File.ReadAllText(Path.Combine(DemoCopy.RepositoryRoot(), "README.md"));
        foreach (var args in new[]
        {
            new[] { "--metrics", "dau,wau,mau,stickiness", "--group-by", "metric_time", "--start", "2026-01-12", "--end", "2026-01-18" },
            ["--metrics", "revenue,purchases,average_order_value", "--group-by", "metric_time__week,country", "--where", "country in ('DE', 'FR')", "--start", "2026-01-05", "--end", "2026-01-18"],
        })
        {
            var queryOutput = new StringWriter();
            Assert.Equal(0, CommandLine.Run(["query", "--project-dir", _root, .. args], queryOutput, new StringWriter()));
            Assert.Contains(queryOutput.ToString().Replace("\r\n", "\n"), readme);
        }

        // The catalog dashboards read: every metric answers for December in one query (rates are shares), and two of them
        // equal hand-written SQL over the staged rows.
        string[] catalog = ["dau", "wau", "mau", "stickiness", "activation", "d1_retention", "d7_retention", "d30_retention", "sessions_per_user",
            "bounce_rate", "signup_to_purchase", "revenue", "average_order_value", "errors", "p95_page_load"];
        var catalogOutput = new StringWriter();
        Assert.True(CommandLine.Run(["query", "--project-dir", _root, "--metrics", string.Join(",", catalog), "--group-by", "metric_time__month", "--format", "json"],
            catalogOutput, new StringWriter()) == 0);
        using var catalogJson = JsonDocument.Parse(catalogOutput.ToString());
        var december = catalogJson.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("metric_time__month").GetString() == "2025-12-01");
        foreach (var metric in catalog)
        {
            Assert.True(december.GetProperty(metric).ValueKind == JsonValueKind.Number, $"`{metric}` has no December value");
            // (stickiness is a share at the day grain only: a month's distinct users over the last day's 28-day MAU can pass 1)
            if (metric is "activation" or "bounce_rate" or "signup_to_purchase" || metric.EndsWith("_retention", StringComparison.Ordinal))
                Assert.InRange(december.GetProperty(metric).GetDouble(), 0.0, 1.0);
        }

        using (var warehouse = Adapters.AdapterFactory.Open(Adapters.AdapterFactory.Resolve(Core.Loading.ProjectLoader.Load(_root).Project!, null), _root))
        {
            var reference = Adapters.WarehouseAdapterExtensions.Query(warehouse,
                "select count(distinct user_id) as users, sum(case when event_type = 'purchase' then revenue else 0 end) as revenue " +
                "from stg_events where occurred_at >= timestamp '2025-12-01' and occurred_at < timestamp '2026-01-01'").Single();
            Assert.Equal(Convert.ToDouble(reference["users"], System.Globalization.CultureInfo.InvariantCulture), december.GetProperty("dau").GetDouble());
            Assert.Equal(Convert.ToDouble(reference["revenue"], System.Globalization.CultureInfo.InvariantCulture), december.GetProperty("revenue").GetDouble(), 6);
        }

        // onboarding_flow declares its assignment: the audit finds the planted stale-cache fault (streamlined users served
        // control on 2026-01-19..20) and nothing else; `metricc assign` gives the SDK hash's variant.
        var audit = onboarding.RootElement.GetProperty("assignment_audit");
        Assert.True(audit.GetProperty("units_checked").GetInt64() > 10_000);
        var mismatch = Assert.Single(audit.GetProperty("mismatches").EnumerateArray());
        Assert.Equal(("streamlined", "control"), (mismatch.GetProperty("assigned").GetString(), mismatch.GetProperty("logged").GetString()));
        Assert.Equal(audit.GetProperty("mismatched").GetInt64(), mismatch.GetProperty("units").GetInt64());
        Assert.All(audit.GetProperty("days").EnumerateArray().Where(d => d.GetProperty("mismatched").GetInt64() > 0),
            d => Assert.Contains(d.GetProperty("day").GetString(), new[] { "2026-01-19", "2026-01-20" }));
        var assignOutput = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["assign", "--project-dir", _root, "--experiment", "onboarding_flow", "--unit", "u000042"], assignOutput, new StringWriter()));
        var expected = MetricCompiler.Assignment.UnitHash.Bucket("onboarding_flow", "u000042", 2) < 0.5 ? "control" : "streamlined";
        Assert.StartsWith(expected + " ", assignOutput.ToString());

        // A second build reuses the seeded data and gives the same decisions.
        Assert.Equal(0, CommandLine.Run(["build", "--project-dir", _root], new StringWriter(), new StringWriter()));
        Assert.Equal("ship", JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "target", "results", "homepage_cta.json"))).RootElement.GetProperty("decision").GetString());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
