namespace MetricCompiler.Statistics;

/// <summary>
/// Adjusted p-values as statsmodels.stats.multitest.multipletests computes them (statsmodels 0.13):
/// Holm: sorted p_(i) * (m - i + 1), running maximum, capped at 1;
/// Benjamini-Hochberg ('fdr_bh'): sorted p_(i) / (i/m), running minimum from the largest, capped at 1.
/// </summary>
public static class MultipleTesting
{
    /// <summary>Adjusted p-values in the order of <paramref name="pValues"/>.</summary>
    public static double[] Adjust(IReadOnlyList<double> pValues, Correction correction)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        var m = pValues.Count;
        var adjusted = new double[m];
        if (correction == Correction.None || m == 0)
        {
            for (var i = 0; i < m; i++)
            {
                adjusted[i] = pValues[i];
            }

            return adjusted;
        }

        // Stable ascending order (ties give identical adjusted values either way).
        var order = Enumerable.Range(0, m).OrderBy(i => pValues[i]).ToArray();
        var sorted = new double[m];
        if (correction == Correction.Holm)
        {
            var running = 0.0;
            for (var k = 0; k < m; k++)
            {
                running = Math.Max(running, pValues[order[k]] * (m - k));
                sorted[k] = Math.Min(1.0, running);
            }
        }
        else
        {
            var running = double.PositiveInfinity;
            for (var k = m - 1; k >= 0; k--)
            {
                running = Math.Min(running, pValues[order[k]] / ((k + 1) / (double)m));
                sorted[k] = Math.Min(1.0, running);
            }
        }

        for (var k = 0; k < m; k++)
        {
            adjusted[order[k]] = sorted[k];
        }

        return adjusted;
    }
}
