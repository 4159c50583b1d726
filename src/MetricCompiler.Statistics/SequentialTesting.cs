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

    /// <summary>
    /// One-sided tuning: rho with 2 alpha in place of alpha (gbstats sequential_rho(..., two_sided=False),
    /// eq. 161 of arXiv:2103.06476v7 for the one-sided boundary).
    /// </summary>
    public static double OneSidedRho(double alpha, double tuning) => Rho(2 * alpha, tuning);

    /// <summary>
    /// Half-width of the one-sided (1 - alpha) always-valid bound: sqrt(s2 * 2 (n rho^2 + 1)/(n rho)^2 *
    /// ln(1 + sqrt(n rho^2 + 1)/(2 alpha))) with s2 = SE^2 n and rho = <see cref="OneSidedRho"/> (eq. 134 of
    /// arXiv:2103.06476v7; gbstats sequential_interval_halfwidth_one_sided). The lower bound is estimate - hw, the
    /// upper bound estimate + hw.
    /// </summary>
    public static double OneSidedHalfWidth(double stdError, long n, double alpha, double tuning)
    {
        var rho = OneSidedRho(alpha, tuning);
        var nr2 = n * rho * rho;
        var nRho = n * rho;
        var s2 = stdError * stdError * n;
        return Math.Sqrt(s2 * 2 * (nr2 + 1) / (nRho * nRho) * Math.Log(1 + (Math.Sqrt(nr2 + 1) / (2 * alpha))));
    }

    /// <summary>
    /// Always-valid one-sided p-value of H0: theta &lt;= theta0 against theta &gt; theta0, where
    /// <paramref name="distance"/> = estimate - theta0 (pass theta0 - estimate for the other direction): the smallest
    /// level a' at which the one-sided bound, with rho held at its value for <paramref name="alpha"/>, excludes
    /// theta0. Solving hw(a') = distance gives the closed form
    /// a' = sqrt(n rho^2 + 1) / (2 (exp(A) - 1)),  A = distance^2 n rho^2 / (2 SE^2 (n rho^2 + 1)),
    /// capped at 1 (and 1 when distance &lt;= 0). gbstats finds the same root by bisection
    /// (SequentialOneSidedTreatmentLesserTTest.compute_p_value, rho fixed). p &lt; alpha exactly when the bound
    /// estimate -/+ <see cref="OneSidedHalfWidth"/> excludes theta0.
    /// </summary>
    public static double OneSidedPValue(double distance, double stdError, long n, double alpha, double tuning)
    {
        if (!(distance > 0))
        {
            return 1.0;
        }

        var rho = OneSidedRho(alpha, tuning);
        var nr2p1 = (n * rho * rho) + 1;
        var a = distance * distance * n * rho * rho / (2 * stdError * stdError * nr2p1);
        // sqrt(nr2p1) e^-A / (2 (1 - e^-A)), stable for small and large A (1 - e^-A by its series when A is tiny:
        // .NET's ExpM1 is exp(x) - 1 and loses everything there).
        var oneMinusExp = a < 1e-5 ? a * (1 - (a / 2) + (a * a / 6)) : -(Math.Exp(-a) - 1);
        var p = Math.Sqrt(nr2p1) * Math.Exp(-a) / (2 * oneMinusExp);
        return double.IsNaN(p) || !(oneMinusExp > 0) ? 1.0 : Math.Min(1.0, p);
    }
}
