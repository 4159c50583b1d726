namespace MetricCompiler.DemoData.Randomness;

/// <summary>Continuous and discrete distributions drawn from a <see cref="Xoshiro256StarStar"/> using only <see cref="PortableMath"/>.</summary>
internal static class DistributionSampler
{
    /// <summary>Standard normal by Marsaglia's polar method (no trigonometry).</summary>
    public static double NextStandardNormal(this Xoshiro256StarStar random)
    {
        while (true)
        {
            var u = (2.0 * random.NextDouble()) - 1.0;
            var v = (2.0 * random.NextDouble()) - 1.0;
            var s = (u * u) + (v * v);
            if (s > 0.0 && s < 1.0)
            {
                return u * Math.Sqrt(-2.0 * PortableMath.Log(s) / s);
            }
        }
    }

    /// <summary>Log-normal variable whose underlying normal has location <paramref name="mu"/> and scale <paramref name="sigma"/>.</summary>
    public static double NextLogNormal(this Xoshiro256StarStar random, double mu, double sigma) =>
        PortableMath.Exp(mu + (sigma * random.NextStandardNormal()));

    /// <summary>Log-normal variable with the given mean (not median).</summary>
    public static double NextLogNormalWithMean(this Xoshiro256StarStar random, double mean, double sigma) =>
        random.NextLogNormal(PortableMath.Log(mean) - (0.5 * sigma * sigma), sigma);

    /// <summary>Gamma(shape, scale) by Marsaglia and Tsang (2000); mean = shape * scale.</summary>
    public static double NextGamma(this Xoshiro256StarStar random, double shape, double scale)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape);
        if (shape < 1.0)
        {
            // Gamma(a) = Gamma(a + 1) * U^(1/a).
            var boost = PortableMath.Exp(PortableMath.Log(random.NextDoubleExcludingZero()) / shape);
            return random.NextGamma(shape + 1.0, scale) * boost;
        }

        var d = shape - (1.0 / 3.0);
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            var x = random.NextStandardNormal();
            var v = 1.0 + (c * x);
            if (v <= 0.0)
            {
                continue;
            }

            v = v * v * v;
            var u = random.NextDoubleExcludingZero();
            var x2 = x * x;
            if (u < 1.0 - (0.0331 * x2 * x2) ||
                PortableMath.Log(u) < (0.5 * x2) + (d * (1.0 - v + PortableMath.Log(v))))
            {
                return d * v * scale;
            }
        }
    }

    /// <summary>Gamma variable parameterised by its mean and shape (smaller shape = more heterogeneous).</summary>
    public static double NextGammaWithMean(this Xoshiro256StarStar random, double mean, double shape) =>
        random.NextGamma(shape, mean / shape);

    /// <summary>Poisson count by Knuth's multiplication method; meant for small means (a few per day).</summary>
    public static int NextPoisson(this Xoshiro256StarStar random, double mean)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mean);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mean, 50.0);
        return random.NextPoissonWithLimit(PortableMath.Exp(-mean));
    }

    /// <summary>Poisson count when <c>exp(-mean)</c> is already known (saves an exponential per draw).</summary>
    public static int NextPoissonWithLimit(this Xoshiro256StarStar random, double expOfNegativeMean)
    {
        var limit = expOfNegativeMean;
        var count = 0;
        var product = random.NextDouble();
        while (product > limit)
        {
            count++;
            product *= random.NextDouble();
        }

        return count;
    }

    /// <summary>Exponential variable with the given mean.</summary>
    public static double NextExponential(this Xoshiro256StarStar random, double mean) =>
        -mean * PortableMath.Log(random.NextDoubleExcludingZero());
}
