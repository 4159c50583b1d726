using System.Text.Json;

namespace MetricCompiler.Statistics.Tests;

/// <summary>The `metricc stats` JSON contract: parse errors name the path; output is stable and round-trips.</summary>
public sealed class StatsJsonTests
{
    private const string Example = """
        { "control": "control", "alpha": 0.05, "correction": "holm", "method": "frequentist",
          "sequential_tuning": 5000, "prior": {"mean": 0, "variance": 1},
          "srm": {"counts": {"control": 10012, "treatment": 9904}, "weights": {"control": 0.5, "treatment": 0.5}, "threshold": 0.001},
          "metrics": [
            {"name": "revenue", "kind": "mean", "variants": {"control": {"n": 1000, "sum": 5120.5, "sum_squares": 90210.2}, "treatment": {"n": 990, "sum": 5301.0, "sum_squares": 95123.9}}},
            {"name": "converted", "kind": "proportion", "variants": {"control": {"n": 1000, "sum": 230}, "treatment": {"n": 990, "sum": 251}}},
            {"name": "revenue_cuped", "kind": "mean", "cuped": true, "variants": {"control": {"n":1000,"sum":5120.5,"sum_squares":90210.2,"covariate_sum":4000,"covariate_sum_squares":52000,"cross_sum":60000}, "treatment": {"n":990,"sum":5301.0,"sum_squares":95123.9,"covariate_sum":3950,"covariate_sum_squares":51000,"cross_sum":61000}}},
            {"name": "aov", "kind": "ratio", "variants": {"control": {"n":1000,"numerator_sum":5120.5,"numerator_sum_squares":90210.2,"denominator_sum":1500,"denominator_sum_squares":3100,"cross_sum":12000}, "treatment": {"n":990,"numerator_sum":5301.0,"numerator_sum_squares":95123.9,"denominator_sum":1480,"denominator_sum_squares":3000,"cross_sum":12500}}}
          ] }
        """;

    private const string Mean2 = """{"control": {"n": 10, "sum": 1, "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""";

    private static string Request(string metrics, string extra = "") =>
        $$"""{"control": "control"{{extra}}, "metrics": [{{metrics}}]}""";

    private static string MeanMetric(string name, string variants = Mean2) =>
        $$"""{"name": "{{name}}", "kind": "mean", "variants": {{variants}}}""";

    [Fact]
    public void ParsesTheDocumentedExample()
    {
        var request = StatsJson.ParseRequest(Example);

        Assert.Equal("control", request.Control);
        Assert.Equal(Correction.Holm, request.Correction);
        Assert.Equal(InferenceMethod.Frequentist, request.Method);
        Assert.Equal(new BayesianPrior(0, 1), request.Prior);
        Assert.Equal(10012, request.Srm!.Counts["control"]);
        Assert.Equal(4, request.Metrics.Count);
        Assert.Equal(MetricKind.Proportion, request.Metrics[1].Kind);
        Assert.True(request.Metrics[2].Cuped);
        Assert.Equal(61000, request.Metrics[2].Variants["treatment"].CrossSum);
        Assert.Equal(1480, request.Metrics[3].Variants["treatment"].DenominatorSum);
        Assert.Equal(["control", "treatment"], request.Metrics[0].Variants.Keys);

        var result = ExperimentAnalyzer.Analyze(request);
        Assert.Equal(4, result.Comparisons.Count);
        Assert.All(result.Comparisons, c => Assert.NotNull(c.AdjustedPValue));
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { Request(MeanMetric("a") + "," + MeanMetric("b") + "," + MeanMetric("c", """{"control": {"n": 10, "sum": 1, "sum_squares": 2}, "treatment": {"n": "ten", "sum": 1, "sum_squares": 2}}""")), "metrics[2].variants.treatment.n: expected a number" },
        { Request(MeanMetric("a", """{"control": {"n": -1, "sum": 1, "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.n: expected a non-negative integer" },
        { Request(MeanMetric("a", """{"control": {"n": 2.5, "sum": 1, "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.n: expected a non-negative integer" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": 1}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.sum_squares: required for kind 'mean'" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": 1, "sum_sqares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.sum_sqares: unknown field" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": "1", "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.sum: expected a number" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": null, "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control.sum: required for kind 'mean'" },
        { Request(MeanMetric("a", """{"control": [1, 2], "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control: expected an object" },
        { Request(MeanMetric("a", """{"baseline": {"n": 10, "sum": 1, "sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants: control variant 'control' is missing" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants: needs at least one variant besides the control 'control'" },
        { Request(MeanMetric("a", """{"control": {"n": 10, "sum": 1, "sum_squares": 2}, "control": {"n": 10, "sum": 1, "sum_squares": 2}}""")), "metrics[0].variants.control: duplicate variant" },
        { Request(MeanMetric("a") + "," + MeanMetric("a")), "metrics[1].name: duplicate metric name 'a'" },
        { Request("""{"name": "a", "kind": "median", "variants": {}}"""), "metrics[0].kind: expected one of mean, proportion, ratio, quantile" },
        { Request("""{"kind": "mean", "variants": {}}"""), "metrics[0].name: required field is missing" },
        { Request("""{"name": "cr", "kind": "proportion", "variants": {"control": {"n": 10, "sum": 11}, "treatment": {"n": 10, "sum": 1}}}"""), "metrics[0].variants.control.sum: a proportion's sum must be between 0 and n" },
        { Request("""{"name": "r", "kind": "mean", "cuped": true, "variants": {"control": {"n": 10, "sum": 1, "sum_squares": 2, "covariate_sum": 1, "covariate_sum_squares": 2}, "treatment": {"n": 10, "sum": 1, "sum_squares": 2}}}"""), "metrics[0].variants.control.cross_sum: required when cuped is true" },
        { Request("""{"name": "r", "kind": "ratio", "variants": {"control": {"n": 10, "numerator_sum": 1, "numerator_sum_squares": 2, "denominator_sum": 3, "denominator_sum_squares": 4}, "treatment": {}}}"""), "metrics[0].variants.control.cross_sum: required for kind 'ratio'" },
        { Request("""{"name": "r", "kind": "ratio", "cuped": true, "variants": {}}"""), "metrics[0].cuped: CUPED is not supported for ratio metrics" },
        { Request("""{"name": "r", "kind": "mean", "cuped": "yes", "variants": {}}"""), "metrics[0].cuped: expected a boolean" },
        { Request(MeanMetric("a"), ", \"correction\": \"bonferroni\""), "correction: expected one of none, holm, bh" },
        { Request(MeanMetric("a"), ", \"method\": \"magic\""), "method: expected one of frequentist, sequential, bayesian" },
        { Request(MeanMetric("a"), ", \"scale\": \"log\""), "scale: expected one of relative, absolute" },
        { Request(MeanMetric("a"), ", \"scale\": 1"), "scale: expected a string" },
        { Request(MeanMetric("a"), ", \"alpha\": 1.5"), "alpha: expected a number in (0, 1)" },
        { Request(MeanMetric("a"), ", \"alpha\": \"0.05\""), "alpha: expected a number" },
        { Request(MeanMetric("a"), ", \"sequential_tuning\": 0"), "sequential_tuning: expected a positive number" },
        { Request(MeanMetric("a"), ", \"prior\": {\"mean\": 0, \"variance\": 0}"), "prior.variance: expected a positive number" },
        { Request(MeanMetric("a"), ", \"prior\": {\"mean\": 0}"), "prior.variance: required field is missing" },
        { Request(MeanMetric("a"), ", \"srm\": {\"counts\": {\"control\": 1, \"treatment\": 2}, \"weights\": {\"control\": 0.5}}"), "srm.weights.treatment: required" },
        { Request(MeanMetric("a"), ", \"srm\": {\"counts\": {\"control\": 1, \"treatment\": 2}, \"weights\": {\"control\": 0.5, \"treatment\": 0.5, \"v2\": 0.1}}"), "srm.weights.v2: no count is given" },
        { Request(MeanMetric("a"), ", \"srm\": {\"counts\": {\"control\": 1, \"treatment\": 2}, \"weights\": {\"control\": 0.5, \"treatment\": -1}}"), "srm.weights.treatment: expected a positive number" },
        { Request(MeanMetric("a"), ", \"srm\": {\"counts\": {\"control\": 1, \"treatment\": 2}, \"weights\": {\"control\": 1, \"treatment\": 1}, \"threshold\": 0}"), "srm.threshold: expected a number in (0, 1)" },
        { Request(MeanMetric("a"), ", \"srm\": {\"counts\": {\"control\": 1.5, \"treatment\": 2}, \"weights\": {\"control\": 1, \"treatment\": 1}}"), "srm.counts.control: expected a non-negative integer" },
        { Request(MeanMetric("a"), ", \"extra\": 1"), "extra: unknown field" },
        { """{"metrics": []}""", "control: required field is missing" },
        { """{"control": "", "metrics": []}""", "control: expected a non-empty string" },
        { """{"control": "control", "metrics": {}}""", "metrics: expected an array" },
        { """{"control": "control"}""", "metrics: required field is missing" },
        { """[1, 2]""", "(root): expected an object" },
        { """{"control": "control", "metrics": [}""", "(root): invalid JSON at line 1" },
        { """{"control": "control", "control": "x", "metrics": []}""", "control: duplicate field" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadInputNamesTheJsonPath(string json, string expectedMessageStart)
    {
        var ex = Assert.Throws<StatsInputException>(() => StatsJson.ParseRequest(json));

        Assert.StartsWith(expectedMessageStart, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(ex.Path + ": ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultIsSnakeCaseWithEveryFieldInFixedOrder()
    {
        var result = ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(Example));
        using var doc = JsonDocument.Parse(StatsJson.WriteResult(result));
        var root = doc.RootElement;

        Assert.Equal(["srm", "comparisons", "warnings"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["chi_square", "p_value", "mismatch", "degrees_of_freedom"], root.GetProperty("srm").EnumerateObject().Select(p => p.Name));
        string[] fields =
        [
            "metric", "variant", "control_mean", "variant_mean", "absolute_lift", "relative_lift", "std_error",
            "relative_std_error", "degrees_of_freedom", "p_value", "adjusted_p_value", "ci_low", "ci_high",
            "relative_ci_low", "relative_ci_high", "significant", "control_n", "variant_n", "cuped_theta",
            "chance_to_win", "risk_control", "risk_variant", "posterior_mean", "posterior_std_dev",
            "scale", "absolute", "relative", "variance_reduction", "regression",
        ];
        string[] scaleFields = ["estimate", "std_error", "p_value", "ci_low", "ci_high"];
        foreach (var c in root.GetProperty("comparisons").EnumerateArray())
        {
            Assert.Equal(fields, c.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.Null, c.GetProperty("chance_to_win").ValueKind);
            Assert.Equal("relative", c.GetProperty("scale").GetString());
            Assert.Equal(scaleFields, c.GetProperty("absolute").EnumerateObject().Select(p => p.Name));
            Assert.Equal(scaleFields, c.GetProperty("relative").EnumerateObject().Select(p => p.Name));

            // The leading fields are the relative test's; the absolute test is reported alongside.
            Assert.Equal(c.GetProperty("relative").GetProperty("p_value").GetDouble(), c.GetProperty("p_value").GetDouble());
            Assert.Equal(c.GetProperty("relative").GetProperty("ci_low").GetDouble(), c.GetProperty("relative_ci_low").GetDouble());
            Assert.Equal(c.GetProperty("absolute").GetProperty("ci_high").GetDouble(), c.GetProperty("ci_high").GetDouble());
            Assert.NotEqual(c.GetProperty("absolute").GetProperty("p_value").GetDouble(), c.GetProperty("p_value").GetDouble());
        }

        var cuped = root.GetProperty("comparisons")[2];
        Assert.True(cuped.GetProperty("variance_reduction").GetDouble() is > 0 and < 1);
        Assert.Equal(["covariates", "theta", "rank", "control_adjusted_mean", "variant_adjusted_mean", "control_adjusted_mean_variance", "variant_adjusted_mean_variance"],
            cuped.GetProperty("regression").EnumerateObject().Select(p => p.Name));
        Assert.Equal(cuped.GetProperty("cuped_theta").GetDouble(), cuped.GetProperty("regression").GetProperty("theta")[0].GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("comparisons")[0].GetProperty("regression").ValueKind);

        Assert.Equal(JsonValueKind.Number, root.GetProperty("comparisons")[2].GetProperty("cuped_theta").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("comparisons")[0].GetProperty("cuped_theta").ValueKind);
    }

    [Fact]
    public void OutputIsDeterministicIndentedAndUsesLf()
    {
        var request = StatsJson.ParseRequest(Example);

        var first = StatsJson.WriteResult(ExperimentAnalyzer.Analyze(request));
        var second = StatsJson.WriteResult(ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(Example)));

        Assert.Equal(first, second);
        Assert.Contains("\n  \"comparisons\": [", first, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", first, StringComparison.Ordinal);
        Assert.Contains("\"srm\": null", StatsJson.WriteResult(new AnalysisResult(null, [], [])), StringComparison.Ordinal);
    }

    [Fact]
    public void NullsAreWrittenAsNull()
    {
        var c = new Comparison("m", "v", null, null, null, null, null, null, null, null, null, null, null, false, 0, 0);

        var json = StatsJson.WriteResult(new AnalysisResult(null, [c], ["metric 'm': it's \"odd\" — ünïcode"]));

        Assert.Contains("\"control_mean\": null", json, StringComparison.Ordinal);
        Assert.Contains("\"posterior_std_dev\": null", json, StringComparison.Ordinal);
        Assert.Contains("metric 'm': it's \\\"odd\\\" — ünïcode", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ResultRoundTripsExactly()
    {
        var doubles = new[] { 0.1 + 0.2, 1.0 / 3.0, 1e-300, 5e-324, -123456789.123456789, double.MaxValue, 0.0, 2.5e-17 };
        var comparisons = doubles.Select((d, i) => new Comparison(
            "metric " + i, "v", d, -d, d / 7, d / 3, Math.Abs(d), 0.05, 0.1, d - 1, d + 1, null, d, i % 2 == 0, i, 1000 + i,
            RelativeStdError: d, DegreesOfFreedom: 12.345, CupedTheta: 0.3, ChanceToWin: 0.9, RiskControl: 1e-9, RiskVariant: 0, PosteriorMean: d, PosteriorStdDev: 0.2))
            .ToList();
        var result = new AnalysisResult(new SrmResult(3.3, 0.069, false, 2), comparisons, ["a", "metric 'x', variant 'y': b"]);

        var json = StatsJson.WriteResult(result);
        var back = StatsJson.ParseResult(json);

        Assert.Equal(result.Srm, back.Srm);
        Assert.Equal(result.Comparisons, back.Comparisons);
        Assert.Equal(result.Warnings, back.Warnings);
        Assert.Equal(json, StatsJson.WriteResult(back));
    }

    [Fact]
    public void AnalysisResultRoundTripsThroughJson()
    {
        foreach (var method in new[] { InferenceMethod.Frequentist, InferenceMethod.Sequential, InferenceMethod.Bayesian })
        {
            var result = ExperimentAnalyzer.Analyze(StatsJson.ParseRequest(Example) with { Method = method });
            var back = StatsJson.ParseResult(StatsJson.WriteResult(result));

            Assert.Equal(result.Comparisons, back.Comparisons);
            Assert.Equal(result.Srm, back.Srm);
        }
    }

    [Fact]
    public void RequestRoundTripsThroughJson()
    {
        var request = StatsJson.ParseRequest(Example) with { Method = InferenceMethod.Sequential, SequentialTuning = 1234.5, Scale = Scale.Absolute };

        var written = StatsJson.WriteRequest(request);
        var back = StatsJson.ParseRequest(written);

        Assert.Equal(written, StatsJson.WriteRequest(back));
        Assert.Contains("\"scale\": \"absolute\"", written, StringComparison.Ordinal);
        Assert.Equal(Scale.Absolute, back.Scale);
        Assert.Equal(InferenceMethod.Sequential, back.Method);
        Assert.Equal(1234.5, back.SequentialTuning);
        Assert.Equal(ExperimentAnalyzer.Analyze(request).Comparisons, ExperimentAnalyzer.Analyze(back).Comparisons);
    }

    [Fact]
    public void DefaultsApplyWhenOptionalFieldsAreAbsentOrNull()
    {
        var request = StatsJson.ParseRequest(Request(MeanMetric("a"), ", \"prior\": null, \"srm\": null, \"alpha\": null"));

        Assert.Equal(0.05, request.Alpha);
        Assert.Equal(Correction.None, request.Correction);
        Assert.Equal(InferenceMethod.Frequentist, request.Method);
        Assert.Equal(Scale.Relative, request.Scale);
        Assert.Equal(5000, request.SequentialTuning);
        Assert.Null(request.Prior);
        Assert.Null(request.Srm);
        Assert.False(request.Metrics[0].Cuped);
    }

    [Fact]
    public void IntegralFloatCountsAreAccepted()
    {
        var request = StatsJson.ParseRequest(Request(MeanMetric("a", """{"control": {"n": 10.0, "sum": 1, "sum_squares": 2}, "treatment": {"n": 1e1, "sum": 1, "sum_squares": 2}}""")));

        Assert.Equal(10, request.Metrics[0].Variants["control"].N);
        Assert.Equal(10, request.Metrics[0].Variants["treatment"].N);
    }
}
