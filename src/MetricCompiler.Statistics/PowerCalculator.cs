namespace MetricCompiler.Statistics;

/// <summary>A power-analysis question. <paramref name="StdDev"/> is the per-unit standard deviation
/// (required for means and ratios; proportions use M(1 - M)).</summary>
public sealed record PowerRequest(
    MetricKind Kind,
    double BaselineMean,
    double RelativeMde,
    double? StdDev = null,
    double Alpha = 0.05,
    double Power = 0.8,
    int Variants = 2,
    double? DailyUnits = null);

/// <summary>The answer to a <see cref="PowerRequest"/>.</summary>
public sealed record PowerResult(
    double Variance,
    double ExactSampleSizePerVariant,
    long SampleSizePerVariant,
    long TotalSampleSize,
    long? Days);

/// <summary>
/// Fixed-horizon two-sided power analysis under the normal approximation with equal allocation:
/// n per variant = ceil(2 (z(1 - alpha/2) + z(power))^2 var / (M R)^2) with var = S^2 (means, ratios)
/// or M(1 - M) (proportions), M the baseline mean and R the relative MDE; days = ceil(n K / U) for K
/// variants and U eligible units a day; the inverse gives the relative MDE for a given n. Only the
/// rejection tail in the direction of the effect is counted, which is statsmodels' NormalIndPower
/// with alternative='larger' at alpha/2 (its two-sided solve adds the negligible far tail).
/// </summary>
public static class PowerCalculator
{
    /// <summary>Per-unit variance of the metric: M(1 - M) for proportions, otherwise S^2.</summary>
    public static double MetricVariance(MetricKind kind, double baselineMean, double? stdDev)
    {
        if (kind == MetricKind.Proportion)
        {
            if (!(baselineMean > 0 && baselineMean < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(baselineMean), baselineMean, "a baseline proportion must be in (0, 1)");
            }

            return baselineMean * (1 - baselineMean);
        }

        if (stdDev is not { } s || !(s > 0) || double.IsInfinity(s))
        {
            throw new ArgumentOutOfRangeException(nameof(stdDev), stdDev, "a positive standard deviation is required for mean and ratio metrics");
        }

        return s * s;
    }

    /// <summary>Unrounded sample size per variant.</summary>
    public static double ExactSampleSizePerVariant(double variance, double baselineMean, double relativeMde, double alpha = 0.05, double power = 0.8)
    {
        CheckCommon(variance, baselineMean, alpha, power);
        if (!(relativeMde > 0) || double.IsInfinity(relativeMde))
        {
            throw new ArgumentOutOfRangeException(nameof(relativeMde), relativeMde, "the relative MDE must be positive");
        }

        var z = Z(alpha, power);
        var effect = baselineMean * relativeMde;
        return 2 * z * z * variance / (effect * effect);
    }

    /// <summary>Sample size per variant, rounded up.</summary>
    public static long SampleSizePerVariant(double variance, double baselineMean, double relativeMde, double alpha = 0.05, double power = 0.8) =>
        (long)Math.Ceiling(ExactSampleSizePerVariant(variance, baselineMean, relativeMde, alpha, power));

    /// <summary>Days needed: ceil(n per variant * variants / daily units).</summary>
    public static long Days(long sampleSizePerVariant, int variants, double dailyUnits)
    {
        if (sampleSizePerVariant < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleSizePerVariant), sampleSizePerVariant, "must not be negative");
        }

        if (variants < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(variants), variants, "an experiment has at least 2 variants");
        }

        if (!(dailyUnits > 0) || double.IsInfinity(dailyUnits))
        {
            throw new ArgumentOutOfRangeException(nameof(dailyUnits), dailyUnits, "daily units must be positive");
        }

        return (long)Math.Ceiling(sampleSizePerVariant * (double)variants / dailyUnits);
    }

    /// <summary>Relative MDE detectable with <paramref name="sampleSizePerVariant"/> units per variant:
    /// (z(1 - alpha/2) + z(power)) sqrt(2 var / n) / |M|.</summary>
    public static double MinimumDetectableEffect(double variance, double baselineMean, long sampleSizePerVariant, double alpha = 0.05, double power = 0.8)
    {
        CheckCommon(variance, baselineMean, alpha, power);
        if (sampleSizePerVariant < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleSizePerVariant), sampleSizePerVariant, "must be at least 1");
        }

        return Z(alpha, power) * Math.Sqrt(2 * variance / sampleSizePerVariant) / Math.Abs(baselineMean);
    }

    /// <summary>Sample size, total and (when daily units are given) days for a request.</summary>
    public static PowerResult Plan(PowerRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var variance = MetricVariance(request.Kind, request.BaselineMean, request.StdDev);
        var exact = ExactSampleSizePerVariant(variance, request.BaselineMean, request.RelativeMde, request.Alpha, request.Power);
        var n = (long)Math.Ceiling(exact);
        if (request.Variants < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Variants, "an experiment has at least 2 variants");
        }

        long? days = request.DailyUnits is { } u ? Days(n, request.Variants, u) : null;
        return new PowerResult(variance, exact, n, n * request.Variants, days);
    }

    private static double Z(double alpha, double power) =>
        Distributions.NormalQuantile(1 - (alpha / 2)) + Distributions.NormalQuantile(power);

    private static void CheckCommon(double variance, double baselineMean, double alpha, double power)
    {
        if (!(variance > 0) || double.IsInfinity(variance))
        {
            throw new ArgumentOutOfRangeException(nameof(variance), variance, "variance must be positive");
        }

        if (baselineMean == 0 || !double.IsFinite(baselineMean))
        {
            throw new ArgumentOutOfRangeException(nameof(baselineMean), baselineMean, "the baseline mean must be finite and non-zero");
        }

        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1)");
        }

        if (!(power > 0 && power < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(power), power, "power must be in (0, 1)");
        }
    }
}
