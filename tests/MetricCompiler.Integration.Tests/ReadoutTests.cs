using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Statistics;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The readout from statistics rows shaped exactly like the warehouse tables: every method reachable from YAML, the
/// configurable decision rules, the CUPED balance check, segment corrections and power projections.
/// </summary>
public sealed class ReadoutTests
{
    private static (BoundProject Project, BoundExperiment Experiment) Load(string analysis = "", string decision = "", string guardrails = "- {metric: load_time, harmful_direction: increase, margin: 0.05}")
    {
        var yaml = WarehouseProject.ProjectYaml
            .Replace("    analysis:\n      cuped: {enabled: true, lookback_days: 14}", $"    analysis:\n      cuped: {{enabled: true, lookback_days: 14}}{analysis}{decision}")
            .Replace("- {metric: load_time, harmful_direction: increase, margin: 0.05}", guardrails);
        var root = Path.Combine(Path.GetTempPath(), "metricc-readout", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "metrics.yml"), yaml);
        var load = ProjectLoader.Load(root);
        Directory.Delete(root, recursive: true);
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        return (load.Bound!, load.Bound!.Experiments[0]);
    }

    /// <summary>A statistics row for a metric/variant from a mean, a standard deviation and n (sums reconstructed exactly).</summary>
    private static Dictionary<string, object?> Row(string metric, string variant, long n, double mean, double sd,
        double? covariateMean = null, double covariateSd = 1, double correlation = 0.5, string? dimension = null, string? segment = null)
    {
        var sum = mean * n;
        var squares = sd * sd * (n - 1) + sum * sum / n;
        var row = new Dictionary<string, object?>
        {
            ["metric"] = metric, ["variant"] = variant, ["n"] = n, ["value_sum"] = sum, ["value_sum_squares"] = squares,
            ["denominator_sum"] = null, ["denominator_sum_squares"] = null, ["covariate_sum"] = null, ["covariate_sum_squares"] = null, ["cross_sum"] = null,
            ["dimension"] = dimension, ["segment"] = segment,
        };
        if (covariateMean is { } cm)
        {
            var csum = cm * n;
            row["covariate_sum"] = csum;
            row["covariate_sum_squares"] = covariateSd * covariateSd * (n - 1) + csum * csum / n;
            row["cross_sum"] = correlation * sd * covariateSd * (n - 1) + sum * csum / n;
        }

        return row;
    }

    private static IReadOnlyList<IReadOnlyDictionary<string, object?>> Srm(long control, long treatment) =>
    [
        new Dictionary<string, object?> { ["variant"] = "control", ["assignment_status"] = "analysed", ["units"] = control },
        new Dictionary<string, object?> { ["variant"] = "treatment", ["assignment_status"] = "analysed", ["units"] = treatment },
    ];

    /// <summary>purchased +20% (clearly significant), load_time as given, everything else flat.</summary>
    private static List<IReadOnlyDictionary<string, object?>> Statistics(double loadTimeTreatment, double purchasedTreatment = 0.12, double covariateShift = 0)
    {
        const long n = 20_000;
        return
        [
            Row("purchased", "control", n, 0.10, Math.Sqrt(0.09), covariateMean: 0.10, covariateSd: 0.3),
            Row("purchased", "treatment", n, purchasedTreatment, Math.Sqrt(purchasedTreatment * (1 - purchasedTreatment)), covariateMean: 0.10 + covariateShift, covariateSd: 0.3),
            Row("revenue", "control", n, 5, 20, covariateMean: 5, covariateSd: 20),
            Row("revenue", "treatment", n, 5, 20, covariateMean: 5, covariateSd: 20),
            Row("purchases", "control", n, 0.2, 0.6, covariateMean: 0.2, covariateSd: 0.6),
            Row("purchases", "treatment", n, 0.2, 0.6, covariateMean: 0.2, covariateSd: 0.6),
            Row("load_time", "control", n, 800, 200),
            Row("load_time", "treatment", n, loadTimeTreatment, 200),
        ];
    }

    private static ExperimentReadout Readout(BoundProject project, BoundExperiment experiment,
        List<IReadOnlyDictionary<string, object?>> statistics, long control = 20_000, long treatment = 20_000,
        IReadOnlyList<IReadOnlyDictionary<string, object?>>? segments = null) =>
        ReadoutBuilder.Build(ExperimentLowering.Lower(experiment), new ExperimentTables(statistics, Srm(control, treatment), segments ?? []));

    [Fact]
    public void Primary_win_with_clean_guardrails_ships()
    {
        var (project, experiment) = Load();
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 800));
        Assert.Equal(Decision.Ship, readout.Decision);
        Assert.Contains(readout.Reasons, r => r.Contains("`purchased` significantly better"));
    }

    [Fact]
    public void Guardrail_moving_the_harmful_way_beyond_its_margin_blocks_shipping()
    {
        var (project, experiment) = Load();
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 880)); // +10% load time, margin 5%
        Assert.Equal(Decision.NoShip, readout.Decision);
        Assert.Equal(GuardrailStatus.Breached, readout.Metrics.Single(m => m.Metric == "load_time").Guardrail!.Status);
        Assert.True(readout.Metrics.Single(m => m.Metric == "purchased").IsSignificantlyBetter);
    }

    [Fact]
    public void Harmful_move_within_the_margin_does_not_block()
    {
        var (project, experiment) = Load();
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 816)); // +2%: significant, but within 5%
        Assert.Equal(Decision.Ship, readout.Decision);
        Assert.NotEqual(GuardrailStatus.Breached, readout.Metrics.Single(m => m.Metric == "load_time").Guardrail!.Status);
    }

    [Fact]
    public void Guardrail_direction_matters()
    {
        var (project, experiment) = Load(guardrails: "- {metric: load_time, harmful_direction: decrease, margin: 0.05}");
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 880)); // up 10%, but only a decrease harms
        Assert.Equal(Decision.Ship, readout.Decision);
    }

    [Fact]
    public void Sample_ratio_mismatch_makes_the_experiment_invalid_unless_the_rule_ignores_it()
    {
        var (project, experiment) = Load();
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 800), control: 20_000, treatment: 21_000);
        Assert.True(readout.Srm.Result!.Mismatch);
        Assert.Equal(Decision.Invalid, readout.Decision);
        Assert.Equal("invalid", DecisionPolicy.Name(readout.Decision));

        var (lenientProject, lenient) = Load(decision: "\n    decision: {require_srm_clean: false}");
        Assert.Equal(Decision.Ship, Readout(lenientProject, lenient, Statistics(loadTimeTreatment: 800), control: 20_000, treatment: 21_000).Decision);
    }

    /// <summary>
    /// A breached guardrail on a broken assignment used to read "NO-SHIP, roll back" without a word of the SRM: the
    /// breach itself may be the artefact of the biased split, so the only verdict is that the experiment is invalid.
    /// </summary>
    [Fact]
    public void A_sample_ratio_mismatch_never_gives_a_rollback_order()
    {
        var (project, experiment) = Load();
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 880), control: 20_000, treatment: 21_000);

        Assert.Equal(Decision.Invalid, readout.Decision);
        Assert.DoesNotContain(readout.Reasons, r => r.Contains("roll back", StringComparison.Ordinal) && !r.Contains("nor roll back", StringComparison.Ordinal));
        Assert.Equal("INVALID experiment", readout.Reasons[0]);
        Assert.Contains(readout.Reasons, r => r.Contains("do not trust", StringComparison.Ordinal));
        Assert.Contains(readout.Reasons, r => r.Contains("sample ratio mismatch (SRM", StringComparison.Ordinal));
    }

    [Fact]
    public void Units_in_an_undeclared_variant_make_the_experiment_invalid()
    {
        var (project, experiment) = Load();
        var srm = Srm(20_000, 20_000).Append(new Dictionary<string, object?> { ["variant"] = "treatment_v2", ["assignment_status"] = "undeclared_variant", ["units"] = 1_500L }).ToList();
        var readout = ReadoutBuilder.Build(ExperimentLowering.Lower(experiment), new ExperimentTables(Statistics(loadTimeTreatment: 880), srm, []));

        Assert.Equal(1_500, readout.Srm.UndeclaredVariantUnits);
        Assert.Equal(Decision.Invalid, readout.Decision);
        Assert.Contains(readout.Reasons, r => r.Contains("1,500 exposed unit(s) carry a variant the YAML does not declare", StringComparison.Ordinal));
        Assert.All(readout.Verdicts, v => Assert.Equal(Decision.Invalid, v.Decision));
    }

    [Fact]
    public void Non_inferior_rule_requires_guardrails_to_prove_themselves()
    {
        var (project, experiment) = Load(decision: "\n    decision: {guardrails: non_inferior}");
        // A tiny, noisy guardrail sample cannot prove non-inferiority: inconclusive under the strict rule.
        var statistics = Statistics(loadTimeTreatment: 800);
        statistics.RemoveAll(r => (string?)r["metric"] == "load_time");
        statistics.Add(Row("load_time", "control", 20, 800, 400));
        statistics.Add(Row("load_time", "treatment", 20, 800, 400));
        var readout = Readout(project, experiment, statistics);
        Assert.Equal(Decision.Inconclusive, readout.Decision);
        Assert.Contains(readout.Reasons, r => r.Contains("non-inferiority not shown"));
    }

    [Fact]
    public void Any_rule_ships_when_one_of_several_primaries_wins()
    {
        var yamlWithTwoPrimaries = "\n    decision: {ship_when_primary: any}";
        var (project, experiment) = Load(decision: yamlWithTwoPrimaries);
        // The first secondary metric becomes a second primary.
        var metrics = experiment.Metrics.ToList();
        var firstSecondary = metrics.FindIndex(m => m.Role == MetricRole.Secondary);
        metrics[firstSecondary] = metrics[firstSecondary] with { Role = MetricRole.Primary };
        experiment = experiment with { Metrics = metrics };
        Assert.Equal(Decision.Ship, Readout(project, experiment, Statistics(loadTimeTreatment: 800)).Decision);

        experiment = experiment with { Definition = experiment.Definition with { Decision = DecisionRules.Default } };
        Assert.Equal(Decision.Inconclusive, Readout(project, experiment, Statistics(loadTimeTreatment: 800)).Decision);
    }

    [Fact]
    public void Sequential_method_from_yaml_widens_the_interval()
    {
        var (project, frequentist) = Load();
        var (_, sequential) = Load(analysis: "\n      method: sequential\n      sequential_tuning: 5000");
        var f = Readout(project, frequentist, Statistics(loadTimeTreatment: 800)).Metrics.Single(m => m.Metric == "purchased").Comparison;
        var s = Readout(project, sequential, Statistics(loadTimeTreatment: 800)).Metrics.Single(m => m.Metric == "purchased").Comparison;
        Assert.Equal(f.AbsoluteLift!.Value, s.AbsoluteLift!.Value, 12);
        Assert.True(s.CiHigh - s.CiLow > f.CiHigh - f.CiLow);
        Assert.True(s.PValue > f.PValue);
    }

    [Fact]
    public void Bayesian_method_from_yaml_reports_chance_to_win_and_honours_the_prior()
    {
        var (project, flat) = Load(analysis: "\n      method: bayesian");
        var (_, informative) = Load(analysis: "\n      method: bayesian\n      prior: {mean: 0, variance: 0.0001}");
        var a = Readout(project, flat, Statistics(loadTimeTreatment: 800)).Metrics.Single(m => m.Metric == "purchased").Comparison;
        var b = Readout(project, informative, Statistics(loadTimeTreatment: 800)).Metrics.Single(m => m.Metric == "purchased").Comparison;
        Assert.True(a.ChanceToWin > 0.99);
        Assert.True(b.PosteriorMean < a.PosteriorMean); // a tight prior at 0 shrinks the posterior
        Assert.Equal(a.RelativeLift!.Value, b.RelativeLift!.Value, 12); // the observed lift itself is unchanged
    }

    [Fact]
    public void Imbalanced_cuped_covariate_is_flagged()
    {
        var (project, experiment) = Load();
        var balanced = Readout(project, experiment, Statistics(loadTimeTreatment: 800));
        Assert.DoesNotContain(balanced.Balance, b => b.Imbalanced);
        var biased = Readout(project, experiment, Statistics(loadTimeTreatment: 800, covariateShift: 0.03));
        Assert.Contains(biased.Balance, b => b.Metric == "purchased" && b.Imbalanced);
        Assert.Contains(biased.Warnings, w => w.Contains("pre-exposure imbalance in `purchased`"));
    }

    [Fact]
    public void Segment_p_values_are_corrected_across_the_dimension()
    {
        var (project, experiment) = Load(analysis: "\n      segments: [{name: country, source: events, column: event_type}]");
        var segments = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var segment in new[] { "de", "fr", "us" })
        {
            segments.Add(Row("purchased", "control", 2000, 0.10, 0.3, dimension: "country", segment: segment));
            segments.Add(Row("purchased", "treatment", 2000, segment == "us" ? 0.13 : 0.105, 0.32, dimension: "country", segment: segment));
        }

        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 800), segments: segments);
        Assert.Equal(3, readout.Segments.Count);
        Assert.All(readout.Segments, s => Assert.True(s.Comparison.AdjustedPValue >= s.Comparison.PValue));
        Assert.True(readout.Segments.Single(s => s.Segment == "us").Comparison.Significant);
        Assert.Equal(Decision.Ship, readout.Decision); // segments inform; they do not decide
    }

    [Fact]
    public void Planning_alpha_is_shared_by_the_corrected_family()
    {
        var (_, uncorrected) = Load();
        Assert.Equal(0.05, EngineRequests.PlanningAlpha(uncorrected));
        var (_, holm) = Load(analysis: "\n      correction: holm");
        Assert.Equal(0.05 / 4, EngineRequests.PlanningAlpha(holm), 12); // purchased, revenue, purchases, order_value x 1 variant
    }

    [Fact]
    public void Inconclusive_readout_says_how_long_until_the_mde_is_powered()
    {
        var (project, experiment) = Load(analysis: "\n      minimum_detectable_effect: 0.02");
        var readout = Readout(project, experiment, Statistics(loadTimeTreatment: 800, purchasedTreatment: 0.1005));
        Assert.Equal(Decision.Inconclusive, readout.Decision);
        var power = Assert.Single(readout.Power);
        Assert.True(power.RequiredPerVariant > power.ObservedPerVariant);
        Assert.Contains(readout.Reasons, r => r.Contains("not yet powered") && r.Contains("more day(s)"));
    }
}
