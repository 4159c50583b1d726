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
                comparisons.Add(Infer(metric.Name, variant, estimate, request));
            }
        }

        if (request.Method != InferenceMethod.Bayesian)
        {
            ApplyCorrection(comparisons, request.Correction, request.Alpha);
        }

        return new AnalysisResult(srm, comparisons, warnings);
    }

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
    }

    private static Comparison Infer(string metric, string variant, PairEstimate e, AnalysisRequest request)
    {
        var c = new Comparison(
            metric, variant, Finite(e.ControlMean), Finite(e.VariantMean), Finite(e.AbsoluteLift), Finite(e.RelativeLift),
            Finite(e.StdError), null, null, null, null, null, null, false, e.ControlN, e.VariantN,
            RelativeStdError: Finite(e.RelativeStdError), DegreesOfFreedom: Finite(e.DegreesOfFreedom), CupedTheta: Finite(e.Theta));
        if (!e.Testable)
        {
            return c;
        }

        var alpha = request.Alpha;
        var lift = e.AbsoluteLift!.Value;
        var se = e.StdError!.Value;
        var df = e.DegreesOfFreedom!.Value;
        switch (request.Method)
        {
            case InferenceMethod.Sequential:
            {
                var n = e.ControlN + e.VariantN;
                var tuning = request.SequentialTuning;
                var hw = SequentialTesting.HalfWidth(se, n, alpha, tuning);
                c = c with { PValue = Finite(SequentialTesting.PValue(lift, se, n, alpha, tuning)), CiLow = Finite(lift - hw), CiHigh = Finite(lift + hw) };
                if (e.RelativeLift is { } rel && e.RelativeStdError is { } relSe)
                {
                    var hwRel = SequentialTesting.HalfWidth(relSe, n, alpha, tuning);
                    c = c with { RelativeCiLow = Finite(rel - hwRel), RelativeCiHigh = Finite(rel + hwRel) };
                }

                return c;
            }

            case InferenceMethod.Bayesian:
                return Bayesian(c, e, request);

            default:
            {
                // Welch two-sided p-value and CI: lift +- t(1 - alpha/2, df) * SE (gbstats TwoSidedTTest).
                var q = Distributions.StudentTQuantile(1 - (alpha / 2), df);
                var p = Distributions.StudentTTwoSidedP(lift / se, df);
                c = c with { PValue = Finite(p), CiLow = Finite(lift - (q * se)), CiHigh = Finite(lift + (q * se)) };
                if (e.RelativeLift is { } rel && e.RelativeStdError is { } relSe)
                {
                    c = c with { RelativeCiLow = Finite(rel - (q * relSe)), RelativeCiHigh = Finite(rel + (q * relSe)) };
                }

                return c;
            }
        }
    }

    private static Comparison Bayesian(Comparison c, PairEstimate e, AnalysisRequest request)
    {
        var alpha = request.Alpha;
        var prior = request.Prior;
        if (e.RelativeLift is { } rel && e.RelativeStdError is > 0)
        {
            var (mean, sd) = BayesianEffect.Posterior(rel, e.RelativeStdError.Value, prior);
            var post = BayesianEffect.Summarize(mean, sd, alpha);
            c = c with
            {
                ChanceToWin = Finite(post.ChanceToWin),
                RiskControl = Finite(post.RiskControl),
                RiskVariant = Finite(post.RiskVariant),
                PosteriorMean = Finite(post.Mean),
                PosteriorStdDev = Finite(post.StdDev),
                RelativeCiLow = Finite(post.CredibleLow),
                RelativeCiHigh = Finite(post.CredibleHigh),
                Significant = post.ChanceToWin > 1 - (alpha / 2) || post.ChanceToWin < alpha / 2,
            };
        }

        // Absolute credible interval: the relative prior rescaled by |control mean| (gbstats rescales a
        // relative prior for an absolute analysis the same way); undefined when that mean is 0.
        BayesianPrior? absolutePrior = null;
        if (prior is not null)
        {
            var cm = e.ControlMean!.Value;
            if (cm == 0)
            {
                return c;
            }

            absolutePrior = new BayesianPrior(prior.Mean * Math.Abs(cm), prior.Variance * cm * cm);
        }

        var (absMean, absSd) = BayesianEffect.Posterior(e.AbsoluteLift!.Value, e.StdError!.Value, absolutePrior);
        var z = Distributions.NormalQuantile(1 - (alpha / 2));
        return c with { CiLow = Finite(absMean - (z * absSd)), CiHigh = Finite(absMean + (z * absSd)) };
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
