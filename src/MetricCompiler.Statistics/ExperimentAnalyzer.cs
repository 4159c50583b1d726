namespace MetricCompiler.Statistics;

/// <summary>
/// Compares every non-control variant of every metric with the control. Undefined figures (control
/// mean 0, zero variance, n &lt; 2, zero denominator) are null with a warning naming the metric and
/// variant; degenerate data never throws. Invalid request parameters (alpha outside (0, 1), a
/// non-positive tuning parameter or prior variance) throw <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
public static class ExperimentAnalyzer
{
    /// <summary>Runs the analysis.</summary>
    public static AnalysisResult Analyze(AnalysisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);
        var warnings = new List<string>();
        var srm = request.Srm is null ? null : SrmTest.Evaluate(request.Srm, warnings);

        if (request.Method == InferenceMethod.Bayesian && request.Correction != Correction.None)
        {
            warnings.Add($"correction '{CorrectionName(request.Correction)}' does not apply to the Bayesian method; ignored");
        }

        var comparisons = new List<Comparison>();
        foreach (var metric in request.Metrics)
        {
            if (!metric.Variants.ContainsKey(request.Control))
            {
                warnings.Add($"metric '{metric.Name}': control variant '{request.Control}' is missing; metric skipped");
                continue;
            }

            if (metric.Variants.Count < 2)
            {
                warnings.Add($"metric '{metric.Name}': no variant other than the control; nothing to compare");
                continue;
            }

            foreach (var variant in metric.Variants.Keys)
            {
                if (variant == request.Control)
                {
                    continue;
                }

                var estimate = PairEstimator.Estimate(metric, request.Control, variant, warnings);
                comparisons.Add(Infer(metric.Name, variant, estimate, request, warnings));
            }
        }

        if (request.Method != InferenceMethod.Bayesian)
        {
            ApplyCorrection(comparisons, request.Correction, request.Alpha);
        }

        return new AnalysisResult(srm, comparisons, warnings);
    }

    internal static string ScaleName(Scale scale) => scale == Scale.Absolute ? "absolute" : "relative";

    internal static string CorrectionName(Correction correction) => correction switch
    {
        Correction.Holm => "holm",
        Correction.BenjaminiHochberg => "bh",
        _ => "none",
    };

    private static void Validate(AnalysisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Control);
        ArgumentNullException.ThrowIfNull(request.Metrics);
        if (!(request.Alpha > 0 && request.Alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Alpha, "alpha must be in (0, 1)");
        }

        if (!(request.SequentialTuning > 0) || double.IsInfinity(request.SequentialTuning))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.SequentialTuning, "sequential tuning must be a positive number");
        }

        if (request.Prior is { } prior && (!(prior.Variance > 0) || double.IsInfinity(prior.Variance) || !double.IsFinite(prior.Mean)))
        {
            throw new ArgumentOutOfRangeException(nameof(request), prior.Variance, "prior variance must be a positive number and the mean finite");
        }

        if (request.Srm is { } srm && !(srm.Threshold > 0 && srm.Threshold < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(request), srm.Threshold, "srm threshold must be in (0, 1)");
        }

        if (!Enum.IsDefined(request.Scale))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Scale, "scale must be relative or absolute");
        }
    }

    private static Comparison Infer(string metric, string variant, PairEstimate e, AnalysisRequest request, List<string> warnings)
    {
        var c = new Comparison(
            metric, variant, Finite(e.ControlMean), Finite(e.VariantMean), Finite(e.AbsoluteLift), Finite(e.RelativeLift),
            Finite(e.StdError), null, null, null, null, null, null, false, e.ControlN, e.VariantN,
            RelativeStdError: Finite(e.RelativeStdError), DegreesOfFreedom: Finite(e.DegreesOfFreedom), CupedTheta: Finite(e.Theta),
            Scale: request.Scale, VarianceReduction: Finite(e.VarianceReduction), Regression: e.Regression);
        var absolute = new ScaleTest(c.AbsoluteLift, c.StdError, null, null, null);
        var relative = new ScaleTest(c.RelativeLift, c.RelativeStdError, null, null, null);
        if (!e.Testable)
        {
            return c with { Absolute = absolute, Relative = relative };
        }

        // The relative test needs a defined lift and a positive delta-method SE; with SE 0 (e.g. a variant whose
        // values are all 0) the delta method says nothing, so the relative test is undefined rather than certain.
        var relativeTestable = e.RelativeLift is not null && e.RelativeStdError is > 0;
        if (e.RelativeLift is not null && e.RelativeStdError is not > 0)
        {
            warnings.Add($"metric '{metric}', variant '{variant}': the relative lift's standard error is 0; the relative test is undefined");
        }

        if (request.Scale == Scale.Relative && e.RelativeLift is null)
        {
            warnings.Add($"metric '{metric}', variant '{variant}': the relative lift is undefined, so the test on the request's scale (relative) is undefined; the absolute test is reported under 'absolute'");
        }

        if (request.Method == InferenceMethod.Bayesian)
        {
            return Bayesian(c, e, request, relativeTestable);
        }

        var n = e.ControlN + e.VariantN;
        var df = e.DegreesOfFreedom!.Value;
        absolute = Test(e.AbsoluteLift!.Value, e.StdError!.Value, df, n, request);
        if (relativeTestable)
        {
            relative = Test(e.RelativeLift!.Value, e.RelativeStdError!.Value, df, n, request);
        }

        var lead = request.Scale == Scale.Absolute ? absolute : relative;
        return c with
        {
            PValue = lead.PValue,
            CiLow = absolute.CiLow,
            CiHigh = absolute.CiHigh,
            RelativeCiLow = relative.CiLow,
            RelativeCiHigh = relative.CiHigh,
            Absolute = absolute,
            Relative = relative,
        };
    }

    /// <summary>
    /// One scale's test of an estimate with standard error <paramref name="se"/>: frequentist, two-sided Student t with
    /// the Welch df and CI estimate -/+ t(1 - alpha/2; df) SE (gbstats TwoSidedTTest, which uses the same df for the
    /// relative test); sequential, the always-valid p-value and confidence sequence (gbstats SequentialTwoSidedTTest).
    /// Either way p &lt; alpha exactly when the interval excludes 0.
    /// </summary>
    private static ScaleTest Test(double estimate, double se, double df, long n, AnalysisRequest request)
    {
        var alpha = request.Alpha;
        if (request.Method == InferenceMethod.Sequential)
        {
            var hw = SequentialTesting.HalfWidth(se, n, alpha, request.SequentialTuning);
            var p = SequentialTesting.PValue(estimate, se, n, alpha, request.SequentialTuning);
            return new ScaleTest(estimate, se, Finite(p), Finite(estimate - hw), Finite(estimate + hw));
        }

        var q = Distributions.StudentTQuantile(1 - (alpha / 2), df);
        var pValue = Distributions.StudentTTwoSidedP(estimate / se, df);
        return new ScaleTest(estimate, se, Finite(pValue), Finite(estimate - (q * se)), Finite(estimate + (q * se)));
    }

    private static Comparison Bayesian(Comparison c, PairEstimate e, AnalysisRequest request, bool relativeTestable)
    {
        var alpha = request.Alpha;
        var prior = request.Prior;
        var absolute = new ScaleTest(c.AbsoluteLift, c.StdError, null, null, null);
        var relative = new ScaleTest(c.RelativeLift, c.RelativeStdError, null, null, null);
        PosteriorSummary? relativePosterior = null;
        PosteriorSummary? absolutePosterior = null;
        if (relativeTestable)
        {
            var (mean, sd) = BayesianEffect.Posterior(e.RelativeLift!.Value, e.RelativeStdError!.Value, prior);
            relativePosterior = BayesianEffect.Summarize(mean, sd, alpha);
            relative = relative with { CiLow = Finite(relativePosterior.CredibleLow), CiHigh = Finite(relativePosterior.CredibleHigh) };
        }

        // Absolute posterior: the relative prior rescaled by |control mean| (gbstats rescales a relative prior for
        // an absolute analysis the same way); undefined when that mean is 0 and a prior is given.
        var cm = e.ControlMean!.Value;
        if (prior is null || cm != 0)
        {
            var absolutePrior = prior is null ? null : new BayesianPrior(prior.Mean * Math.Abs(cm), prior.Variance * cm * cm);
            var (absMean, absSd) = BayesianEffect.Posterior(e.AbsoluteLift!.Value, e.StdError!.Value, absolutePrior);
            absolutePosterior = BayesianEffect.Summarize(absMean, absSd, alpha);
            absolute = absolute with { CiLow = Finite(absolutePosterior.CredibleLow), CiHigh = Finite(absolutePosterior.CredibleHigh) };
        }

        c = c with
        {
            CiLow = absolute.CiLow,
            CiHigh = absolute.CiHigh,
            RelativeCiLow = relative.CiLow,
            RelativeCiHigh = relative.CiHigh,
            Absolute = absolute,
            Relative = relative,
        };
        var lead = request.Scale == Scale.Absolute ? absolutePosterior : relativePosterior;
        if (lead is null)
        {
            return c;
        }

        return c with
        {
            ChanceToWin = Finite(lead.ChanceToWin),
            RiskControl = Finite(lead.RiskControl),
            RiskVariant = Finite(lead.RiskVariant),
            PosteriorMean = Finite(lead.Mean),
            PosteriorStdDev = Finite(lead.StdDev),
            Significant = lead.ChanceToWin > 1 - (alpha / 2) || lead.ChanceToWin < alpha / 2,
        };
    }

    private static void ApplyCorrection(List<Comparison> comparisons, Correction correction, double alpha)
    {
        var family = new List<int>();
        for (var i = 0; i < comparisons.Count; i++)
        {
            if (comparisons[i].PValue is not null)
            {
                family.Add(i);
            }
        }

        var adjusted = MultipleTesting.Adjust(family.Select(i => comparisons[i].PValue!.Value).ToList(), correction);
        for (var k = 0; k < family.Count; k++)
        {
            var i = family[k];
            comparisons[i] = comparisons[i] with { AdjustedPValue = adjusted[k], Significant = adjusted[k] < alpha };
        }
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
