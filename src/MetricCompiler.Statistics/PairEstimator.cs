namespace MetricCompiler.Statistics;

/// <summary>
/// Point estimates and standard errors of one (control, variant) pair, before any inference method.
/// <see cref="StdError"/> and <see cref="DegreesOfFreedom"/> are for the absolute difference (Welch);
/// <see cref="RelativeStdError"/> is the delta-method standard error of the relative lift.
/// </summary>
internal sealed record PairEstimate(
    long ControlN,
    long VariantN,
    double? ControlMean,
    double? VariantMean,
    double? AbsoluteLift,
    double? StdError,
    double? DegreesOfFreedom,
    double? RelativeLift,
    double? RelativeStdError,
    double? Theta,
    double? VarianceReduction = null,
    RegressionSummary? Regression = null)
{
    /// <summary>True when the standard error is positive and the Welch degrees of freedom are defined.</summary>
    public bool Testable => StdError is > 0 && DegreesOfFreedom is not null;
}

/// <summary>
/// Turns sufficient statistics into the moments of a comparison. Conventions follow GrowthBook's
/// gbstats engine (growthbook/growthbook, packages/stats/gbstats/models/statistics.py and
/// frequentist/tests.py) except where a comment says otherwise. Sources:
/// Welch (1947) "The generalization of Student's problem when several different population variances
/// are involved" and Satterthwaite (1946) for the unequal-variance test and its degrees of freedom;
/// Deng, Xu, Kohavi, Walker (2013) "Improving the sensitivity of online controlled experiments by
/// utilizing pre-experiment data" (WSDM) for CUPED; Deng, Knoblich, Lu (2018) "Applying the delta method
/// in metric analytics" (KDD) for ratio metrics and the relative lift.
/// One deliberate difference from gbstats: proportions use the n-1 sample variance of the 0/1 values
/// (sum_squares = sum), i.e. exactly Welch's test on 0/1 data; gbstats' ProportionStatistic uses
/// p(1-p) (divisor n). The two differ by the factor n/(n-1).
/// </summary>
internal static class PairEstimator
{
    /// <summary>
    /// A centred sum of squares (sum_squares - sum^2/n) no larger than this fraction of sum_squares is
    /// indistinguishable from rounding error and is treated as exactly zero variance.
    /// </summary>
    internal const double ZeroVarianceRelative = 1e-13;

    /// <summary>Below this (negative) fraction of sum_squares the statistics are inconsistent.</summary>
    private const double InconsistentRelative = 1e-9;

    public static PairEstimate Estimate(MetricInput metric, string control, string variant, List<string> warnings)
    {
        var a = metric.Variants[control];
        var b = metric.Variants[variant];
        var tag = $"metric '{metric.Name}', variant '{variant}'";
        var empty = new PairEstimate(a.N, b.N, null, null, null, null, null, null, null, null);

        if (a.N < 0 || b.N < 0)
        {
            warnings.Add($"{tag}: negative n in '{(a.N < 0 ? control : variant)}'; statistics are invalid");
            return empty;
        }

        if (metric.Kind == MetricKind.Ratio)
        {
            if (metric.Cuped)
            {
                warnings.Add($"{tag}: CUPED is not supported for ratio metrics; analysed without CUPED");
            }

            return EstimateRatio(a, b, control, variant, tag, warnings, empty);
        }

        if (metric.Kind == MetricKind.Quantile)
        {
            if (metric.Cuped || a.Covariates is not null || b.Covariates is not null)
            {
                warnings.Add($"{tag}: regression adjustment is not supported for quantile metrics; analysed without it");
            }

            return QuantileEstimator.Estimate(a, b, control, variant, tag, warnings, empty);
        }

        var proportion = metric.Kind == MetricKind.Proportion;
        if (a.N == 0 || b.N == 0)
        {
            warnings.Add($"{tag}: no units in '{(a.N == 0 ? control : variant)}'; nothing to compare");
            return empty with
            {
                ControlMean = a.N > 0 ? a.Mean : null,
                VariantMean = b.N > 0 ? b.Mean : null,
            };
        }

        if (proportion && (a.Shift != 0 || b.Shift != 0))
        {
            warnings.Add($"{tag}: a proportion's sums are counts of units and cannot be shifted (shift {(a.Shift != 0 ? a.Shift : b.Shift)}); statistics are invalid");
            return empty;
        }

        if (a.Shift != b.Shift)
        {
            warnings.Add($"{tag}: the arms' sums are centred about different shifts ({a.Shift} and {b.Shift}); statistics are invalid");
            return empty;
        }

        if (proportion && (!ValidProportion(a) || !ValidProportion(b)))
        {
            warnings.Add($"{tag}: a proportion's sum must be between 0 and n (in '{(ValidProportion(a) ? variant : control)}'); statistics are invalid");
            return empty;
        }

        if (a.Covariates is not null && b.Covariates is not null)
        {
            return RegressionAdjustment.Estimate(metric, a, b, proportion, control, variant, tag, warnings, empty);
        }

        if (a.Covariates is not null || b.Covariates is not null)
        {
            warnings.Add($"{tag}: covariates are given in '{(a.Covariates is null ? variant : control)}' only; analysed without them");
        }

        if (metric.Cuped)
        {
            var missing = !HasCovariate(a) ? control : !HasCovariate(b) ? variant : null;
            if (missing is null)
            {
                return EstimateCuped(a, b, proportion, control, variant, tag, warnings, empty);
            }

            warnings.Add($"{tag}: CUPED requested but covariate_sum, covariate_sum_squares or cross_sum is missing in '{missing}'; analysed without CUPED");
        }

        return EstimateMean(a, b, proportion, control, variant, tag, warnings, empty);
    }

    private static bool ValidProportion(VariantStatistics s) => s.Sum >= 0 && s.Sum <= s.N;

    private static bool HasCovariate(VariantStatistics s) =>
        s.CovariateSum is not null && s.CovariateSumSquares is not null && s.CrossSum is not null;

    /// <summary>Sum of squares of a 0/1 metric equals its sum (gbstats ProportionStatistic.sum_squares).</summary>
    internal static double SquaresOf(VariantStatistics s, bool proportion) => proportion ? s.Sum : s.SumSquares;

    private static PairEstimate EstimateMean(
        VariantStatistics a, VariantStatistics b, bool proportion, string control, string variant,
        string tag, List<string> warnings, PairEstimate empty)
    {
        var ma = a.Mean;
        var mb = b.Mean;
        var result = empty with { ControlMean = ma, VariantMean = mb, AbsoluteLift = (b.Sum / b.N) - (a.Sum / a.N) };

        var va = SampleVariance(a.N, a.Sum, SquaresOf(a, proportion), out var badA);
        var vb = SampleVariance(b.N, b.Sum, SquaresOf(b, proportion), out var badB);
        if (badA || badB)
        {
            warnings.Add($"{tag}: sum_squares is smaller than sum^2/n in '{(badA ? control : variant)}'; statistics are invalid");
            return result;
        }

        if (va is null || vb is null)
        {
            warnings.Add($"{tag}: fewer than 2 units in '{(va is null ? control : variant)}'; variance and test are undefined");
            return Relative(result, null, tag, warnings);
        }

        result = Welch(result, va.Value, a.N, vb.Value, b.N, tag, warnings);

        // Relative lift (mean_B - mean_A) / |mean_A|; delta method with independent arms:
        // Var = (s2_B/n_B)/mean_A^2 + (s2_A/n_A) mean_B^2/mean_A^4
        // (gbstats frequentist_variance -> utils.variance_of_ratios with zero covariance).
        double? relVar = ma == 0 ? null
            : (vb.Value / b.N / (ma * ma)) + (va.Value / a.N * mb * mb / (ma * ma * ma * ma));
        return Relative(result, relVar, tag, warnings);
    }

    private static PairEstimate EstimateCuped(
        VariantStatistics a, VariantStatistics b, bool proportion, string control, string variant,
        string tag, List<string> warnings, PairEstimate empty)
    {
        double xa = a.CovariateSum!.Value, xxa = a.CovariateSumSquares!.Value, xya = a.CrossSum!.Value;
        double xb = b.CovariateSum!.Value, xxb = b.CovariateSumSquares!.Value, xyb = b.CrossSum!.Value;
        double yya = SquaresOf(a, proportion), yyb = SquaresOf(b, proportion);

        // theta = Cov(Y, X) / Var(X) on the pooled control + variant units (recomputed for each pair),
        // as gbstats compute_theta does with the joint statistic; 0 when either pooled variance is 0
        // (gbstats then reverts to the unadjusted analysis).
        var n = a.N + b.N;
        var varX = SampleVariance(n, xa + xb, xxa + xxb, out _);
        var varY = SampleVariance(n, a.Sum + b.Sum, yya + yyb, out _);
        var theta = 0.0;
        if (varX is > 0 && varY is > 0)
        {
            var cov = ((xya + xyb) - ((xa + xb) * (a.Sum + b.Sum) / n)) / (n - 1);
            theta = cov / varX.Value;
        }
        else if (varX is not > 0)
        {
            warnings.Add($"{tag}: covariate has zero variance; CUPED adjustment not applied (theta = 0)");
        }

        double mya = a.Mean, myb = b.Mean, mxa = xa / a.N, mxb = xb / b.N;
        var adjustedLift = ((b.Sum / b.N) - (a.Sum / a.N)) - (theta * (mxb - mxa));
        var pooledX = (xa + xb) / n;
        var summary = new RegressionSummary(
            new ValueList<string>(["covariate"]), new ValueList<double>([theta]), varX is > 0 ? 1 : 0,
            mya - (theta * (mxa - pooledX)), myb - (theta * (mxb - pooledX)), null, null);
        var result = empty with { ControlMean = mya, VariantMean = myb, AbsoluteLift = adjustedLift, Theta = theta, Regression = summary };

        if (a.N < 2 || b.N < 2)
        {
            warnings.Add($"{tag}: fewer than 2 units in '{(a.N < 2 ? control : variant)}'; variance and test are undefined");
            return Relative(result, null, tag, warnings);
        }

        var vya = SampleVariance(a.N, a.Sum, yya, out var badYa);
        var vyb = SampleVariance(b.N, b.Sum, yyb, out var badYb);
        var vxa = SampleVariance(a.N, xa, xxa, out var badXa);
        var vxb = SampleVariance(b.N, xb, xxb, out var badXb);
        if (badYa || badYb || badXa || badXb)
        {
            warnings.Add($"{tag}: a sum of squares is smaller than sum^2/n; statistics are invalid");
            return result with { AbsoluteLift = null, Theta = null, Regression = null };
        }

        var cxya = (xya - (a.Sum * xa / a.N)) / (a.N - 1);
        var cxyb = (xyb - (b.Sum * xb / b.N)) / (b.N - 1);

        // Per-unit variance of y - theta*x: s2_Y + theta^2 s2_X - 2 theta s_XY
        // (gbstats RegressionAdjustedStatistic.variance).
        var adjA = Math.Max(0.0, vya!.Value + (theta * theta * vxa!.Value) - (2 * theta * cxya));
        var adjB = Math.Max(0.0, vyb!.Value + (theta * theta * vxb!.Value) - (2 * theta * cxyb));
        result = Welch(result, adjA, a.N, adjB, b.N, tag, warnings);
        result = result with
        {
            VarianceReduction = VarianceReductionOf(adjA, adjB, vya.Value, vyb.Value, a.N, b.N),
            Regression = summary with { ControlAdjustedMeanVariance = adjA / a.N, VariantAdjustedMeanVariance = adjB / b.N },
        };

        // Relative lift: adjusted difference over |unadjusted control mean|. Its variance is gbstats'
        // frequentist_variance_relative_cuped (gbstats/frequentist/tests.py):
        //   s2_adj,B / (n_B YA^2) + [s2_YA YB^2/YA^2 - 2 theta s_XYA YB/YA + theta^2 s2_XA] / (n_A YA^2).
        // That is the delta method with theta held fixed and the control-mean derivative taken as
        // -YB/YA^2 (the exact derivative of the adjusted ratio has an extra theta*(XA - XB)/YA^2 term,
        // which is zero in expectation under randomisation); we keep gbstats' form so results match it.
        double? relVar = null;
        if (mya != 0)
        {
            var ya2 = mya * mya;
            var controlTerm = ((vya.Value * myb * myb / ya2) - (2 * theta * cxya * myb / mya) + (theta * theta * vxa.Value)) / (a.N * ya2);
            relVar = (adjB / (b.N * ya2)) + controlTerm;
        }

        return Relative(result, relVar, tag, warnings);
    }

    private static PairEstimate EstimateRatio(
        VariantStatistics a, VariantStatistics b, string control, string variant, string tag,
        List<string> warnings, PairEstimate empty)
    {
        if (!HasRatioSums(a) || !HasRatioSums(b))
        {
            warnings.Add($"{tag}: a ratio metric needs numerator_sum, numerator_sum_squares, denominator_sum, denominator_sum_squares and cross_sum in '{(HasRatioSums(a) ? variant : control)}'; statistics are invalid");
            return empty;
        }

        if (a.N == 0 || b.N == 0)
        {
            warnings.Add($"{tag}: no units in '{(a.N == 0 ? control : variant)}'; nothing to compare");
            return empty;
        }

        if (a.Shift != b.Shift || a.DenominatorShift != b.DenominatorShift)
        {
            warnings.Add($"{tag}: the arms' sums are centred about different shifts; statistics are invalid");
            return empty;
        }

        double ma = a.NumeratorTotal, da = a.DenominatorTotal;
        double mb = b.NumeratorTotal, db = b.DenominatorTotal;
        if (da == 0 || db == 0)
        {
            warnings.Add($"{tag}: denominator sum is 0 in '{(da == 0 ? control : variant)}'; ratio is undefined");
            return empty with { ControlMean = da != 0 ? ma / da : null, VariantMean = db != 0 ? mb / db : null };
        }

        var ra = ma / da;
        var rb = mb / db;
        var result = empty with { ControlMean = ra, VariantMean = rb, AbsoluteLift = rb - ra };

        if (a.N < 2 || b.N < 2)
        {
            warnings.Add($"{tag}: fewer than 2 units in '{(a.N < 2 ? control : variant)}'; variance and test are undefined");
            return Relative(result, null, tag, warnings);
        }

        var va = RatioUnitVariance(a, out var badA);
        var vb = RatioUnitVariance(b, out var badB);
        if (badA || badB)
        {
            warnings.Add($"{tag}: a sum of squares is smaller than sum^2/n in '{(badA ? control : variant)}'; statistics are invalid");
            return result;
        }

        result = Welch(result, va, a.N, vb, b.N, tag, warnings);

        // Relative lift of ratios: the same delta method as for means, with the ratio's per-unit
        // variance in place of s2 (gbstats frequentist_variance on RatioStatistic).
        var relVar = (vb / b.N / (ra * ra)) + (va / a.N * rb * rb / (ra * ra * ra * ra));
        return Relative(result, relVar, tag, warnings);
    }

    private static bool HasRatioSums(VariantStatistics s) =>
        s.NumeratorSum is not null && s.NumeratorSumSquares is not null && s.DenominatorSum is not null &&
        s.DenominatorSumSquares is not null && s.CrossSum is not null;

    /// <summary>
    /// Delta-method per-unit variance of M/D (gbstats utils.variance_of_ratios on per-unit moments):
    /// s2_M/mu_D^2 - 2 s_MD mu_M/mu_D^3 + s2_D mu_M^2/mu_D^4, with n-1 sample (co)variances
    /// (gbstats models/statistics.py compute_covariance for SampleMeanStatistic).
    /// </summary>
    private static double RatioUnitVariance(VariantStatistics s, out bool inconsistent)
    {
        var n = s.N;
        var sm = s.NumeratorSum!.Value;
        var sd = s.DenominatorSum!.Value;
        var vm = SampleVariance(n, sm, s.NumeratorSumSquares!.Value, out var badM) ?? 0;
        var vd = SampleVariance(n, sd, s.DenominatorSumSquares!.Value, out var badD) ?? 0;
        inconsistent = badM || badD;
        var cov = (s.CrossSum!.Value - (sm * sd / n)) / (n - 1);
        var muM = s.NumeratorTotal / n;
        var muD = s.DenominatorTotal / n;
        var muD2 = muD * muD;
        var v = (vm / muD2) - (2 * cov * muM / (muD2 * muD)) + (vd * muM * muM / (muD2 * muD2));
        return Math.Max(0.0, v);
    }

    /// <summary>
    /// 1 - Var(adjusted lift) / Var(unadjusted lift), both Welch variances s2_A/n_A + s2_B/n_B; null when the
    /// unadjusted variance is 0.
    /// </summary>
    internal static double? VarianceReductionOf(double adjA, double adjB, double rawA, double rawB, long na, long nb)
    {
        var raw = (rawA / na) + (rawB / nb);
        return raw > 0 ? 1 - (((adjA / na) + (adjB / nb)) / raw) : null;
    }

    /// <summary>
    /// Sample variance with n-1 from sufficient statistics: (sum_squares - sum^2/n)/(n-1)
    /// (gbstats SampleMeanStatistic.variance). Null when n &lt; 2.
    /// </summary>
    internal static double? SampleVariance(long n, double sum, double sumSquares, out bool inconsistent)
    {
        inconsistent = false;
        if (n < 2)
        {
            return null;
        }

        var centred = sumSquares - (sum * sum / n);
        var scale = Math.Abs(sumSquares);
        if (centred < -InconsistentRelative * scale || double.IsNaN(centred))
        {
            inconsistent = true;
            return null;
        }

        if (centred <= ZeroVarianceRelative * scale)
        {
            return 0.0;
        }

        return centred / (n - 1);
    }

    /// <summary>
    /// Welch: SE = sqrt(s2_B/n_B + s2_A/n_A) and the Welch-Satterthwaite degrees of freedom
    /// (gbstats TTest.dof). SE = 0 leaves the test undefined.
    /// </summary>
    internal static PairEstimate Welch(PairEstimate result, double va, long na, double vb, long nb, string tag, List<string> warnings)
    {
        var ua = va / na;
        var ub = vb / nb;
        var se = Math.Sqrt(ua + ub);
        if (se == 0)
        {
            warnings.Add($"{tag}: zero variance in both arms; standard error is 0 and the test is undefined");
            return result with { StdError = 0.0 };
        }

        var df = (ua + ub) * (ua + ub) / ((ub * ub / (nb - 1)) + (ua * ua / (na - 1)));
        return result with { StdError = se, DegreesOfFreedom = df };
    }

    /// <summary>
    /// Relative lift = absolute lift / |unadjusted control mean|. gbstats divides by the signed control
    /// mean (frequentist_diff); dividing by its absolute value keeps the sign of the lift meaningful
    /// for negative-valued metrics and is identical whenever the control mean is positive.
    /// </summary>
    internal static PairEstimate Relative(PairEstimate result, double? relativeVariance, string tag, List<string> warnings)
    {
        if (result.ControlMean is not { } controlMean || result.AbsoluteLift is not { } lift)
        {
            return result;
        }

        if (controlMean == 0)
        {
            warnings.Add($"{tag}: control mean is 0; relative lift is undefined");
            return result;
        }

        double? relSe = relativeVariance is { } v && result.StdError is not null ? Math.Sqrt(Math.Max(0.0, v)) : null;
        return result with { RelativeLift = lift / Math.Abs(controlMean), RelativeStdError = relSe };
    }
}
