namespace MetricCompiler.Statistics;

/// <summary>
/// Guardrail non-inferiority on the relative change of one variant against control: one-sided at level
/// alpha, Welch degrees of freedom, delta-method SE of the relative lift (CUPED-adjusted when the metric
/// has CUPED on). Guardrails are evaluated outside the correction family of <see cref="ExperimentAnalyzer"/>.
/// With r the relative lift, SE its standard error and q = t(1 - alpha, df):
/// <list type="bullet">
/// <item>Increase harmful: bound = r + q SE; non-inferiority p = P(T &lt;= (r - m)/SE) (H0: r &gt;= m);
/// harm p = P(T &gt;= r/SE) (H0: r &lt;= 0).</item>
/// <item>Decrease harmful: bound = r - q SE; non-inferiority p = P(T &gt;= (r + m)/SE) (H0: r &lt;= -m);
/// harm p = P(T &lt;= r/SE) (H0: r &gt;= 0).</item>
/// </list>
/// Status: breached when r is harmful beyond m and harm p &lt; alpha; passed when the bound is within the
/// margin (equivalently non-inferiority p &lt; alpha); otherwise not_proven.
/// <para>
/// Guardrails always test the relative change (margins are relative), whatever the request's
/// <see cref="Scale"/>. With <see cref="InferenceMethod.Sequential"/> the same rule runs on the one-sided
/// always-valid confidence sequence (<see cref="SequentialTesting.OneSidedHalfWidth"/>,
/// <see cref="SequentialTesting.OneSidedPValue"/>, n = n_A + n_B): q SE becomes the one-sided half-width and the two
/// p-values become always-valid one-sided p-values, so a guardrail may be checked at every look without inflating
/// false alarms. Frequentist and Bayesian requests use the fixed-horizon t-test above.
/// </para>
/// </summary>
public static class Guardrails
{
    /// <summary>Evaluates one guardrail with the fixed-horizon one-sided t-test. Throws only for invalid parameters.</summary>
    public static GuardrailResult Evaluate(MetricInput metric, string control, string variant, HarmDirection harm, double margin, double alpha) =>
        Evaluate(metric, control, variant, harm, margin, alpha, InferenceMethod.Frequentist);

    /// <summary>
    /// Evaluates one guardrail; with <see cref="InferenceMethod.Sequential"/> on the one-sided always-valid confidence
    /// sequence tuned by <paramref name="sequentialTuning"/> (N*). Throws only for invalid parameters.
    /// </summary>
    public static GuardrailResult Evaluate(
        MetricInput metric, string control, string variant, HarmDirection harm, double margin, double alpha,
        InferenceMethod method, double sequentialTuning = SequentialTesting.DefaultTuning)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(variant);
        if (!(margin > 0) || double.IsInfinity(margin))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "margin must be a positive relative change");
        }

        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1)");
        }

        if (!(sequentialTuning > 0) || double.IsInfinity(sequentialTuning))
        {
            throw new ArgumentOutOfRangeException(nameof(sequentialTuning), sequentialTuning, "sequential tuning must be a positive number");
        }

        var warnings = new List<string>();
        foreach (var name in new[] { control, variant })
        {
            if (!metric.Variants.ContainsKey(name))
            {
                warnings.Add($"metric '{metric.Name}': variant '{name}' is missing; guardrail not evaluated");
                return new GuardrailResult(metric.Name, variant, null, null, null, GuardrailStatus.NotProven, null, warnings);
            }
        }

        var e = PairEstimator.Estimate(metric, control, variant, warnings);
        if (e.RelativeLift is not { } r || e.RelativeStdError is not { } se || !(se > 0) || e.DegreesOfFreedom is not { } df)
        {
            return new GuardrailResult(metric.Name, variant, e.RelativeLift, null, null, GuardrailStatus.NotProven, null, warnings);
        }

        var sequential = method == InferenceMethod.Sequential;
        var n = e.ControlN + e.VariantN;
        double bound, pNonInferiority, pHarm;
        bool harmfulBeyondMargin, nonInferior;
        if (sequential)
        {
            // One-sided always-valid bound and p-values (rho fixed at alpha, so p < alpha <=> bound excludes).
            var hw = SequentialTesting.OneSidedHalfWidth(se, n, alpha, sequentialTuning);
            double P(double distance) => SequentialTesting.OneSidedPValue(distance, se, n, alpha, sequentialTuning);
            if (harm == HarmDirection.Increase)
            {
                bound = r + hw;
                pNonInferiority = P(margin - r);
                pHarm = P(r);
                harmfulBeyondMargin = r > margin;
                nonInferior = bound < margin;
            }
            else
            {
                bound = r - hw;
                pNonInferiority = P(r + margin);
                pHarm = P(-r);
                harmfulBeyondMargin = r < -margin;
                nonInferior = bound > -margin;
            }
        }
        else
        {
            var q = Distributions.StudentTQuantile(1 - alpha, df);
            if (harm == HarmDirection.Increase)
            {
                bound = r + (q * se);
                pNonInferiority = Distributions.StudentTCdf((r - margin) / se, df);
                pHarm = Distributions.StudentTSf(r / se, df);
                harmfulBeyondMargin = r > margin;
                nonInferior = bound < margin;
            }
            else
            {
                bound = r - (q * se);
                pNonInferiority = Distributions.StudentTSf((r + margin) / se, df);
                pHarm = Distributions.StudentTCdf(r / se, df);
                harmfulBeyondMargin = r < -margin;
                nonInferior = bound > -margin;
            }
        }

        var status = harmfulBeyondMargin && pHarm < alpha ? GuardrailStatus.Breached
            : nonInferior ? GuardrailStatus.Passed
            : GuardrailStatus.NotProven;
        return new GuardrailResult(metric.Name, variant, r, bound, pNonInferiority, status, pHarm, warnings, sequential);
    }
}
