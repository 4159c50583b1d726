namespace MetricCompiler.DemoData.Tests;

internal static class Statistics
{
    public static double Mean(IReadOnlyList<double> values) => values.Sum() / values.Count;

    public static double Variance(IReadOnlyList<double> values)
    {
        var mean = Mean(values);
        return values.Sum(value => (value - mean) * (value - mean)) / (values.Count - 1);
    }

    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var meanX = Mean(x);
        var meanY = Mean(y);
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (var i = 0; i < x.Count; i++)
        {
            covariance += (x[i] - meanX) * (y[i] - meanY);
            varianceX += (x[i] - meanX) * (x[i] - meanX);
            varianceY += (y[i] - meanY) * (y[i] - meanY);
        }

        return covariance / Math.Sqrt(varianceX * varianceY);
    }
}
