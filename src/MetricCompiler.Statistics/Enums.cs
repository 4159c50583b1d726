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
