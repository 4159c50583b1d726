namespace MetricCompiler.Statistics;

/// <summary>Posterior summary of a Gaussian effect.</summary>
public sealed record PosteriorSummary(
    double Mean,
    double StdDev,
    double ChanceToWin,
    double CredibleLow,
    double CredibleHigh,
    double RiskControl,
    double RiskVariant);

/// <summary>
/// GrowthBook's effect-based Bayesian model (growthbook/growthbook, packages/stats/gbstats/bayesian/tests.py,
/// EffectBayesianABTest): the data likelihood of the effect is N(estimate, SE^2) with the frequentist
/// delta-method SE; with a normal prior N(m, v) the posterior precision is 1/SE^2 + 1/v and the posterior
/// mean (estimate/SE^2 + m/v)/precision; a flat (improper) prior leaves N(estimate, SE^2).
/// Chance to win = P(effect &gt; 0); the credible interval is the central (1 - alpha) normal interval
/// (gbstats utils.gaussian_credible_interval); risks are expected losses (gbstats get_risk):
/// choosing control loses E[max(effect, 0)], choosing the variant loses E[max(-effect, 0)].
/// Checked against gbstats' published values (tests/bayesian/test_tests.py, TestNorm) in the test project.
/// </summary>
public static class BayesianEffect
{
    /// <summary>Posterior mean and standard deviation of the effect.</summary>
    public static (double Mean, double StdDev) Posterior(double estimate, double stdError, BayesianPrior? prior)
    {
        var dataVariance = stdError * stdError;
        if (prior is null)
        {
            return (estimate, stdError);
        }

        var precision = (1 / dataVariance) + (1 / prior.Variance);
        var mean = ((estimate / dataVariance) + (prior.Mean / prior.Variance)) / precision;
        return (mean, Math.Sqrt(1 / precision));
    }

    /// <summary>Chance to win, credible interval and risks of a N(mean, sd^2) posterior.</summary>
    public static PosteriorSummary Summarize(double mean, double stdDev, double alpha)
    {
        var z = mean / stdDev;
        var chanceToWin = Distributions.NormalCdf(z);
        var q = Distributions.NormalQuantile(1 - (alpha / 2));
        var density = Distributions.NormalPdf(z);

        // E[X 1{X>0}] = mu Phi(mu/sd) + sd phi(mu/sd);  E[-X 1{X<0}] = sd phi(mu/sd) - mu Phi(-mu/sd).
        // (Closed forms of gbstats' (1 - P(X<0)) E[X | X>0] and -P(X<0) E[X | X<0].)
        var riskControl = Math.Max(0.0, (mean * chanceToWin) + (stdDev * density));
        var riskVariant = Math.Max(0.0, (stdDev * density) - (mean * Distributions.NormalCdf(-z)));
        return new PosteriorSummary(mean, stdDev, chanceToWin, mean - (q * stdDev), mean + (q * stdDev), riskControl, riskVariant);
    }
}
