namespace MetricCompiler.Execution.Reports;

/// <summary>
/// The relative-lift axis of a forest plot: a range that holds zero, every estimate, interval end and guardrail margin,
/// widened to whole steps of 1, 2, 2.5 or 5 times a power of ten, with at least a little room on both sides.
/// </summary>
internal sealed record LiftScale(double Min, double Max, double Step)
{
    public static LiftScale For(IEnumerable<double> values, int targetTicks = 6)
    {
        var finite = values.Where(double.IsFinite).Append(0.0).ToList();
        double low = finite.Min(), high = finite.Max();
        if (high - low < 1e-9)
        {
            low -= 0.01;
            high += 0.01;
        }

        var step = NiceStep((high - low) / Math.Max(2, targetTicks));
        var min = Math.Floor(low / step + 1e-9) * step;
        var max = Math.Ceiling(high / step - 1e-9) * step;
        // Nothing drawn on the frame: a value sitting exactly on an end gets one more step.
        if (low - min < step * 0.15)
            min -= step;
        if (max - high < step * 0.15)
            max += step;
        return new LiftScale(Math.Round(min, 12), Math.Round(max, 12), step);
    }

    public IReadOnlyList<double> Ticks()
    {
        var count = (int)Math.Round((Max - Min) / Step);
        return Enumerable.Range(0, count + 1).Select(i => Math.Round(Min + i * Step, 12)).ToList();
    }

    /// <summary>Where <paramref name="value"/> falls between <paramref name="left"/> and <paramref name="right"/>.</summary>
    public double Map(double value, double left, double right) => left + (value - Min) / (Max - Min) * (right - left);

    private static double NiceStep(double raw)
    {
        var exponent = Math.Floor(Math.Log10(raw));
        var power = Math.Pow(10, exponent);
        var fraction = raw / power;
        var nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
        return Math.Round(nice * power, 12);
    }
}
