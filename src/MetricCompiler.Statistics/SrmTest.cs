namespace MetricCompiler.Statistics;

/// <summary>
/// Sample-ratio mismatch: Pearson chi-square of the observed unit counts against total * normalised
/// weight, with (variants - 1) degrees of freedom (gbstats utils.check_srm; scipy.stats.chisquare).
/// </summary>
public static class SrmTest
{
    /// <summary>Runs the check; returns null (with a warning) when the input cannot be tested.</summary>
    public static SrmResult? Evaluate(SrmInput srm, List<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(srm);
        ArgumentNullException.ThrowIfNull(warnings);
        var names = srm.Counts.Keys.ToList();
        if (names.Count < 2)
        {
            warnings.Add("srm: at least 2 variants are needed; check skipped");
            return null;
        }

        foreach (var name in names)
        {
            if (!srm.Weights.TryGetValue(name, out var w) || !(w > 0) || double.IsInfinity(w))
            {
                warnings.Add($"srm: variant '{name}' needs a positive weight; check skipped");
                return null;
            }

            if (srm.Counts[name] < 0)
            {
                warnings.Add($"srm: variant '{name}' has a negative count; check skipped");
                return null;
            }
        }

        foreach (var name in srm.Weights.Keys)
        {
            if (!srm.Counts.ContainsKey(name))
            {
                warnings.Add($"srm: weight given for '{name}' but no count; check skipped");
                return null;
            }
        }

        var df = names.Count - 1;
        double total = names.Sum(n => (double)srm.Counts[n]);
        if (total == 0)
        {
            warnings.Add("srm: no units observed; check not informative");
            return new SrmResult(0, 1, false, df);
        }

        var weightTotal = names.Sum(n => srm.Weights[n]);
        var chi = 0.0;
        foreach (var name in names)
        {
            var expected = total * srm.Weights[name] / weightTotal;
            var diff = srm.Counts[name] - expected;
            chi += diff * diff / expected;
        }

        var p = Distributions.ChiSquareSf(chi, df);
        return new SrmResult(chi, p, p < srm.Threshold, df);
    }
}
