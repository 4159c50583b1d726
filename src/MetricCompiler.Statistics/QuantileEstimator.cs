using System.Globalization;

namespace MetricCompiler.Statistics;

/// <summary>
/// Quantile (percentile) comparisons from per-arm sample quantiles, following gbstats' QuantileStatistic
/// (growthbook/growthbook, packages/stats/gbstats/models/statistics.py) and its sources: Deng, Knoblich, Lu (2018)
/// "Applying the delta method in metric analytics: a practical guide with novel ideas" (KDD), section on quantile
/// metrics, and Yao, Li, Lu (2024, arXiv:2401.14549), Algorithm 1, without its clustering adjustment (the units
/// are the randomisation units); both as cited by GrowthBook's quantile-testing documentation.
/// <para>
/// Per arm: n values, level p, sample quantile q, and the sample quantiles l, u at the levels
/// p -/+ z sqrt(p(1-p)/n*) with z = z(0.975) fixed (independent of the analysis alpha, as in gbstats) and n* the
/// sample size those levels were computed for (n* = n for the exact levels; a smaller grid value when the levels
/// come from a fixed grid, as GrowthBook's SQL does). [l, u] is the distribution-free (Woodruff 1952) 95% interval
/// of the quantile at size n*, so (u - l)/(2z) estimates its standard error sqrt(p(1-p)/n*)/f(q) there, and
/// </para>
/// <code>Var(q) = (n*/n) * ((n - 1)/n) * ((u - l) / (2z))^2</code>
/// <para>
/// (the (n - 1)/n is gbstats': its per-unit "variance" is (n*/n)(n - 1)((u - l)/(2z))^2, divided by n in the test).
/// The comparison is then the engine's usual Welch machinery with s2 = n Var(q) per arm (so the Welch df is
/// gbstats' TTest.dof), and the relative lift (q_B - q_A)/|q_A| has the delta-method variance
/// Var(q_B)/q_A^2 + Var(q_A) q_B^2/q_A^4. gbstats' floor of the per-unit variance at 1e-5 (n &gt;= 100) is not
/// applied; as in gbstats, the test is undefined when u = l or when a bound level falls outside (0, 1)
/// (n* &lt;= z^2 p/(1-p) or n* &lt;= z^2 (1-p)/p).
/// </para>
/// </summary>
internal static class QuantileEstimator
{
    /// <summary>z(0.975): the fixed multiplier of the bound levels p -/+ z sqrt(p(1-p)/n*).</summary>
    public static readonly double BoundZ = Distributions.NormalQuantile(0.975);

    public static PairEstimate Estimate(
        VariantStatistics a, VariantStatistics b, string control, string variant, string tag, List<string> warnings, PairEstimate empty)
    {
        if (!HasQuantile(a) || !HasQuantile(b))
        {
            warnings.Add($"{tag}: a quantile metric needs quantile_level, quantile, quantile_lower and quantile_upper in '{(HasQuantile(a) ? variant : control)}'; statistics are invalid");
            return empty;
        }

        if (a.N == 0 || b.N == 0)
        {
            warnings.Add($"{tag}: no units in '{(a.N == 0 ? control : variant)}'; nothing to compare");
            return empty;
        }

        double pa = a.QuantileLevel!.Value, pb = b.QuantileLevel!.Value;
        if (!(pa > 0 && pa < 1) || !(pb > 0 && pb < 1) || pa != pb)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{tag}: quantile levels must be equal and in (0, 1) (got {pa} and {pb}); statistics are invalid"));
            return empty;
        }

        foreach (var (s, arm) in new[] { (a, control), (b, variant) })
        {
            if (!(s.QuantileLower <= s.Quantile && s.Quantile <= s.QuantileUpper) || s.QuantileNStar is <= 0)
            {
                warnings.Add($"{tag}: quantile_lower <= quantile <= quantile_upper and n* > 0 must hold in '{arm}'; statistics are invalid");
                return empty;
            }
        }

        var qa = a.Quantile!.Value;
        var qb = b.Quantile!.Value;
        var result = empty with { ControlMean = qa, VariantMean = qb, AbsoluteLift = qb - qa };
        if (a.N < 2 || b.N < 2)
        {
            warnings.Add($"{tag}: fewer than 2 units in '{(a.N < 2 ? control : variant)}'; variance and test are undefined");
            return PairEstimator.Relative(result, null, tag, warnings);
        }

        var z2 = BoundZ * BoundZ;
        foreach (var (s, arm) in new[] { (a, control), (b, variant) })
        {
            var nStar = (double)(s.QuantileNStar ?? s.N);
            if (nStar <= z2 * pa / (1 - pa) || nStar <= z2 * (1 - pa) / pa)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{tag}: n* = {nStar} in '{arm}' is too small for quantile level {pa} (a bound level p -/+ z sqrt(p(1-p)/n*) leaves (0, 1)); variance and test are undefined"));
                return PairEstimator.Relative(result, null, tag, warnings);
            }

            if (s.QuantileUpper!.Value == s.QuantileLower!.Value)
            {
                warnings.Add($"{tag}: quantile_lower equals quantile_upper in '{arm}' (an atom at the quantile or too coarse a sketch); variance and test are undefined");
                return PairEstimator.Relative(result, null, tag, warnings);
            }
        }

        var va = Variance(a);
        var vb = Variance(b);
        result = PairEstimator.Welch(result, a.N * va, a.N, b.N * vb, b.N, tag, warnings);
        double? relVar = qa == 0 ? null : (vb / (qa * qa)) + (va * qb * qb / (qa * qa * qa * qa));
        return PairEstimator.Relative(result, relVar, tag, warnings);
    }

    /// <summary>Var(q) = (n*/n)((n - 1)/n)((u - l)/(2z))^2 (gbstats QuantileStatistic.variance_init / n).</summary>
    internal static double Variance(VariantStatistics s)
    {
        var n = (double)s.N;
        var nStar = (double)(s.QuantileNStar ?? s.N);
        var halfWidth = (s.QuantileUpper!.Value - s.QuantileLower!.Value) / (2 * BoundZ);
        return nStar / n * ((n - 1) / n) * halfWidth * halfWidth;
    }

    private static bool HasQuantile(VariantStatistics s) =>
        s.QuantileLevel is not null && s.Quantile is not null && s.QuantileLower is not null && s.QuantileUpper is not null;
}
