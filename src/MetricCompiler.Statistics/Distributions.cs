using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace MetricCompiler.Statistics;

/// <summary>
/// Distribution functions used by the engine, on top of MathNet.Numerics. Lower tails are evaluated
/// directly (never as 1 - cdf) so tiny p-values keep their relative precision, and the Student t
/// quantile is polished with Newton steps on the CDF (MathNet's InvCDF is a bracketing root search).
/// </summary>
internal static class Distributions
{
    /// <summary>P(T &lt;= x) for Student's t with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTCdf(double x, double df)
    {
        if (double.IsPositiveInfinity(df))
        {
            return NormalCdf(x);
        }

        // MathNet: 0.5 * I_{df/(df+x^2)}(df/2, 1/2) for the lower tail; mirror it for x > 0.
        var h = df / (df + (x * x));
        var tail = 0.5 * SpecialFunctions.BetaRegularized(df / 2.0, 0.5, h);
        return x <= 0 ? tail : 1.0 - tail;
    }

    /// <summary>P(T &gt; x).</summary>
    public static double StudentTSf(double x, double df) => StudentTCdf(-x, df);

    /// <summary>Two-sided p-value 2 * P(T &gt; |t|).</summary>
    public static double StudentTTwoSidedP(double t, double df) => Math.Min(1.0, 2.0 * StudentTCdf(-Math.Abs(t), df));

    /// <summary>The <paramref name="p"/> quantile of Student's t.</summary>
    public static double StudentTQuantile(double p, double df)
    {
        if (double.IsPositiveInfinity(df))
        {
            return NormalQuantile(p);
        }

        if (p == 0.5)
        {
            return 0;
        }

        // Work in the lower tail for precision, then mirror.
        var lower = p < 0.5;
        var q = lower ? p : 1.0 - p;
        var x = StudentT.InvCDF(0, 1, df, q);
        for (var i = 0; i < 6; i++)
        {
            var pdf = StudentT.PDF(0, 1, df, x);
            if (pdf <= 0 || double.IsNaN(pdf))
            {
                break;
            }

            var step = (StudentTCdf(x, df) - q) / pdf;
            x -= step;
            if (Math.Abs(step) <= 1e-15 * Math.Max(1.0, Math.Abs(x)))
            {
                break;
            }
        }

        return lower ? x : -x;
    }

    /// <summary>Standard normal CDF.</summary>
    public static double NormalCdf(double x) => Normal.CDF(0, 1, x);

    /// <summary>Standard normal survival function, computed as the CDF of -x.</summary>
    public static double NormalSf(double x) => Normal.CDF(0, 1, -x);

    /// <summary>Standard normal density.</summary>
    public static double NormalPdf(double x) => Normal.PDF(0, 1, x);

    /// <summary>Standard normal quantile.</summary>
    public static double NormalQuantile(double p) => Normal.InvCDF(0, 1, p);

    /// <summary>Upper tail of the chi-square distribution, Q(k/2, x/2).</summary>
    public static double ChiSquareSf(double x, int degreesOfFreedom)
    {
        if (x <= 0)
        {
            return 1.0;
        }

        return SpecialFunctions.GammaUpperRegularized(degreesOfFreedom / 2.0, x / 2.0);
    }
}
