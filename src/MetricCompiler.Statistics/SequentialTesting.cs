namespace MetricCompiler.Statistics;

/// <summary>
/// Always-valid asymptotic confidence sequences and p-values: Waudby-Smith, Pekis, Arnold, Ramdas,
/// "Time-uniform central limit theory and asymptotic confidence sequences" (Annals of Statistics, 2024;
/// arXiv:2103.06476v7), in the form GrowthBook implements them (growthbook/growthbook,
/// packages/stats/gbstats/frequentist/tests.py: sequential_rho, sequential_interval_halfwidth,
/// SequentialTwoSidedTTest.p_value, "eq. 155"). For a two-sample comparison with standard error SE and
/// n = n_A + n_B units the per-observation variance is s2 = SE^2 * n.
/// Checked against gbstats' published unit-test values (tests/frequentist/test_tests.py,
/// TestSequentialTTest.test_sequential_test_runs) in the test project.
/// </summary>
public static class SequentialTesting
{
    /// <summary>Default tuning parameter N*: the sample size at which the sequence is tightest.</summary>
    public const double DefaultTuning = 5000;

    /// <summary>rho = sqrt((-2 ln(alpha) + ln(-2 ln(alpha) + 1)) / N*).</summary>
    public static double Rho(double alpha, double tuning)
    {
        var logAlpha = Math.Log(alpha);
        return Math.Sqrt(((-2 * logAlpha) + Math.Log((-2 * logAlpha) + 1)) / tuning);
    }

    /// <summary>
    /// Half-width sqrt(s2) * sqrt(2 (n rho^2 + 1) ln(sqrt(n rho^2 + 1)/alpha) / (n rho)^2) with s2 = SE^2 n.
    /// </summary>
    public static double HalfWidth(double stdError, long n, double alpha, double tuning)
    {
        var rho = Rho(alpha, tuning);
        var nr2 = n * rho * rho;
        var s = stdError * Math.Sqrt(n);
        var nRho = n * rho;
        return s * Math.Sqrt(2 * (nr2 + 1) * Math.Log(Math.Sqrt(nr2 + 1) / alpha) / (nRho * nRho));
    }

    /// <summary>
    /// Always-valid p-value min(1, 1/E) with E = exp(rho^2 z2 / (2 (n rho^2 + 1))) / sqrt(n rho^2 + 1) and
    /// z2 = estimate^2 * n / SE^2 (gbstats' reparameterisation of eq. 155). Computed on the log scale.
    /// </summary>
    public static double PValue(double estimate, double stdError, long n, double alpha, double tuning)
    {
        var rho = Rho(alpha, tuning);
        var tr2p1 = (n * rho * rho) + 1;
        var st2 = estimate * estimate * n / (stdError * stdError);
        var logE = (rho * rho * st2 / (2 * tr2p1)) - (0.5 * Math.Log(tr2p1));
        return logE <= 0 ? 1.0 : Math.Exp(-logE);
    }
}
