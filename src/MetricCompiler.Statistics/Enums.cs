namespace MetricCompiler.Statistics;

/// <summary>How a metric's per-unit values are summarised.</summary>
public enum MetricKind
{
    /// <summary>Mean of a per-unit value (sum / n).</summary>
    Mean,

    /// <summary>Mean of a per-unit 0/1 value; the same Welch test on 0/1 values (sum_squares = sum).</summary>
    Proportion,

    /// <summary>Ratio of two per-unit sums (numerator sum / denominator sum), delta-method variance.</summary>
    Ratio,

    /// <summary>
    /// A quantile (percentile) of the per-unit values: n, the level p, the sample quantile and two quantiles at
    /// p -/+ z(0.975) sqrt(p(1-p)/n*) from which its variance is estimated (Deng, Knoblich, Lu 2018; gbstats
    /// QuantileStatistic). Added after the other kinds so their numeric values are unchanged.
    /// </summary>
    Quantile,
}

/// <summary>
/// The scale of the test a comparison leads with: its p-value, adjusted p-value, significance (and, for the Bayesian
/// method, chance to win, risks and posterior) come from one test on this scale. Both scales' tests are always
/// reported (<see cref="Comparison.Absolute"/>, <see cref="Comparison.Relative"/>).
/// </summary>
public enum Scale
{
    /// <summary>The relative lift (variant - control) / |control|, delta-method standard error (the default, as gbstats).</summary>
    Relative,

    /// <summary>The absolute difference variant - control.</summary>
    Absolute,
}

/// <summary>Multiple-comparison correction across every (metric, variant) comparison of a request.</summary>
public enum Correction
{
    /// <summary>No correction: the adjusted p-value is the raw p-value.</summary>
    None,

    /// <summary>Holm step-down (family-wise error rate).</summary>
    Holm,

    /// <summary>Benjamini-Hochberg step-up (false discovery rate).</summary>
    BenjaminiHochberg,
}

/// <summary>The inference applied to each comparison.</summary>
public enum InferenceMethod
{
    /// <summary>Fixed-horizon Welch t-test.</summary>
    Frequentist,

    /// <summary>Always-valid asymptotic confidence sequences (Waudby-Smith et al. 2023).</summary>
    Sequential,

    /// <summary>Gaussian posterior on the relative lift (GrowthBook's effect model).</summary>
    Bayesian,
}

/// <summary>Which direction of change hurts a guardrail metric.</summary>
public enum HarmDirection
{
    /// <summary>An increase is harmful (latency, errors, cost).</summary>
    Increase,

    /// <summary>A decrease is harmful (conversion, revenue, retention).</summary>
    Decrease,
}
