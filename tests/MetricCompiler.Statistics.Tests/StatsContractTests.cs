using System.Text.Json;
using MetricCompiler.Statistics;

namespace MetricCompiler.Statistics.Tests;

/// <summary>`metricc stats` with guardrails: kept out of the correction family and checked one-sided.</summary>
public sealed class StatsContractTests
{
    private const string Request = """
        {"control": "control", "correction": "holm", "metrics": [
          {"name": "converted", "kind": "proportion", "variants": {"control": {"n": 10000, "sum": 1000}, "treatment": {"n": 10000, "sum": 1120}}},
          {"name": "latency", "kind": "mean", "variants": {
            "control": {"n": 10000, "sum": 8000000, "sum_squares": 6800000000},
            "treatment": {"n": 10000, "sum": 8800000, "sum_squares": 8144000000}}}],
         "guardrails": [{"metric": "latency", "harmful_direction": "increase", "margin": 0.05}]}
        """;

    [Fact]
    public void Guardrail_metrics_stay_out_of_the_correction_family()
    {
        using var output = JsonDocument.Parse(StatsContract.Execute(Request));
        var converted = output.RootElement.GetProperty("comparisons").EnumerateArray().Single(c => c.GetProperty("metric").GetString() == "converted");
        // With latency outside the family, Holm over one comparison leaves the p-value unadjusted.
        Assert.Equal(converted.GetProperty("p_value").GetDouble(), converted.GetProperty("adjusted_p_value").GetDouble(), 12);
        Assert.Equal(2, output.RootElement.GetProperty("comparisons").GetArrayLength()); // guardrails are still reported
    }

    [Fact]
    public void A_ten_percent_latency_rise_breaches_a_five_percent_margin()
    {
        using var output = JsonDocument.Parse(StatsContract.Execute(Request));
        var guardrail = Assert.Single(output.RootElement.GetProperty("guardrails").EnumerateArray());
        Assert.Equal("breached", guardrail.GetProperty("status").GetString());
        Assert.Equal(0.10, guardrail.GetProperty("relative_lift").GetDouble(), 9);

        var decreasing = StatsContract.Execute(Request.Replace("\"harmful_direction\": \"increase\"", "\"harmful_direction\": \"decrease\""));
        Assert.Contains("\"status\": \"passed\"", decreasing);
    }

    [Fact]
    public void Guardrail_naming_an_unknown_metric_is_an_input_error_with_its_path()
    {
        var error = Assert.Throws<StatsInputException>(() => StatsContract.Execute(Request.Replace("{\"metric\": \"latency\"", "{\"metric\": \"latncy\"")));
        Assert.StartsWith("guardrails[0].metric", error.Message);
    }

    [Theory]
    [InlineData("\"margin\": 0.05", "\"margin\": 0")]
    [InlineData(", \"margin\": 0.05", "")]
    [InlineData("\"margin\": 0.05", "\"margin\": -0.1")]
    public void A_guardrail_margin_must_be_positive(string find, string replace)
    {
        var error = Assert.Throws<StatsInputException>(() => StatsContract.Execute(Request.Replace(find, replace, StringComparison.Ordinal)));
        Assert.StartsWith("guardrails[0].margin: expected a positive number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_guardrails_the_output_is_the_plain_engine_result()
    {
        var plain = """{"control": "control", "metrics": [{"name": "converted", "kind": "proportion", "variants": {"control": {"n": 10000, "sum": 1000}, "treatment": {"n": 10000, "sum": 1120}}}]}""";
        Assert.Equal(StatsJson.WriteResult(ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(plain))), StatsContract.Execute(plain));
    }
}
