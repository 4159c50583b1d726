namespace MetricCompiler.DemoData.Randomness;

/// <summary>
/// <c>exp</c> and <c>log</c> built only from IEEE-754 +, -, *, / (which are correctly rounded everywhere).
/// <see cref="Math.Exp"/> and <see cref="Math.Log"/> call the platform C runtime, whose last-bit results differ
/// between operating systems and CPUs; one differing bit can flip a sampling decision and change the data.
/// Accuracy is within a few ulps, far more than the simulation needs.
/// </summary>
internal static class PortableMath
{
    private const double Ln2High = 6.93147180369123816490e-01;
    private const double Ln2Low = 1.90821492927058770002e-10;
    private const double Ln2 = 0.69314718055994530942;
    private const double InverseLn2 = 1.44269504088896338700;
    private const double Sqrt2 = 1.41421356237309504880;
    private const double SmallestNormal = 2.2250738585072014E-308;

    /// <summary>1/n! for n = 0..14.</summary>
    private static readonly double[] ExpCoefficients = Enumerable.Range(0, 15).Select(InverseFactorial).ToArray();

    /// <summary>1/(2k+1) for k = 0..11: the series 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ...).</summary>
    private static readonly double[] LogCoefficients = Enumerable.Range(0, 12).Select(k => 1.0 / ((2 * k) + 1)).ToArray();

    public static double Exp(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x > 709.0)
        {
            return double.PositiveInfinity;
        }

        if (x < -745.0)
        {
            return 0.0;
        }

        // x = k ln2 + r with |r| <= ln2 / 2, then e^x = 2^k e^r.
        var k = Math.Round(x * InverseLn2);
        var r = (x - (k * Ln2High)) - (k * Ln2Low);

        // Taylor series of e^r by Horner's rule: terms up to r^14/14! exceed double precision for |r| <= 0.35.
        var sum = ExpCoefficients[^1];
        for (var n = ExpCoefficients.Length - 2; n >= 0; n--)
        {
            sum = (sum * r) + ExpCoefficients[n];
        }

        return Math.ScaleB(sum, (int)k);
    }

    public static double Log(double x)
    {
        if (double.IsNaN(x) || x < 0.0)
        {
            return double.NaN;
        }

        if (x == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (double.IsPositiveInfinity(x))
        {
            return double.PositiveInfinity;
        }

        var exponent = 0;
        if (x < SmallestNormal)
        {
            // Subnormal: scale into the normal range first (exact power-of-two scaling).
            x *= 18014398509481984.0; // 2^54
            exponent = -54;
        }

        var bits = BitConverter.DoubleToInt64Bits(x);
        exponent += (int)((bits >> 52) & 0x7FF) - 1023;
        var mantissa = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (mantissa > Sqrt2)
        {
            mantissa *= 0.5;
            exponent++;
        }

        // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716 for m in [sqrt(1/2), sqrt(2)].
        var s = (mantissa - 1.0) / (mantissa + 1.0);
        var s2 = s * s;
        var series = LogCoefficients[^1];
        for (var n = LogCoefficients.Length - 2; n >= 0; n--)
        {
            series = (series * s2) + LogCoefficients[n];
        }

        return (exponent * Ln2) + (2.0 * s * series);
    }

    private static double InverseFactorial(int n)
    {
        var factorial = 1.0;
        for (var i = 2; i <= n; i++)
        {
            factorial *= i;
        }

        return 1.0 / factorial;
    }
}
