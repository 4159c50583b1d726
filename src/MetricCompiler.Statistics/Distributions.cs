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
    /// <summary>
    /// Above this many degrees of freedom x = df/(df + t^2) is too close to 1 for the incomplete beta
    /// (MathNet loses about 1e-8 relative at 1e8 and 1e-3 at 1e12), so the first-order expansion
    /// F(t) = Phi(t) - phi(t) (t^3 + t) / (4 df) is used instead: the first term of Fisher's (1925)
    /// expansion of Student's t in powers of 1/df. Checked against scipy.stats.t.cdf (NumericsTests):
    /// the neglected terms are below 2e-9 relative for |t| &lt;= 12 at this df.
    /// </summary>
    private const double LargeDf = 1e8;

    /// <summary>P(T &lt;= x) for Student's t with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTCdf(double x, double df)
    {
        if (double.IsPositiveInfinity(df))
        {
            return NormalCdf(x);
        }

        var a = Math.Abs(x);
        double tail;
        if (df >= LargeDf)
        {
            tail = NormalCdf(-a) + (NormalPdf(a) * ((a * a * a) + a) / (4 * df));
        }
        else
        {
            // MathNet's form: 0.5 * I_{df/(df+x^2)}(df/2, 1/2) is the lower tail at -|x|.
            tail = 0.5 * SpecialFunctions.BetaRegularized(df / 2.0, 0.5, df / (df + (a * a)));
        }

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
        double x;
        if (df >= LargeDf)
        {
            // Cornish-Fisher start z + (z^3 + z)/(4 df); Newton below with the normal density.
            var z = NormalQuantile(q);
            x = z + (((z * z * z) + z) / (4 * df));
        }
        else
        {
            x = StudentT.InvCDF(0, 1, df, q);
        }

        for (var i = 0; i < 6; i++)
        {
            var pdf = df >= LargeDf ? NormalPdf(x) : StudentT.PDF(0, 1, df, x);
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
