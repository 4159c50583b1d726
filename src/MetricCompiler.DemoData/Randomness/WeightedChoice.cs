namespace MetricCompiler.DemoData.Randomness;

/// <summary>A fixed categorical distribution over <typeparamref name="T"/> values, sampled by cumulative weight.</summary>
internal sealed class WeightedChoice<T>
{
    private readonly T[] _values;
    private readonly double[] _cumulativeShares;

    public WeightedChoice(IReadOnlyList<(T Value, double Weight)> entries)
    {
        ArgumentOutOfRangeException.ThrowIfZero(entries.Count);
        _values = new T[entries.Count];
        _cumulativeShares = new double[entries.Count];
        var total = 0.0;
        foreach (var (_, weight) in entries)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(weight);
            total += weight;
        }

        var running = 0.0;
        for (var i = 0; i < entries.Count; i++)
        {
            running += entries[i].Weight;
            _values[i] = entries[i].Value;
            _cumulativeShares[i] = running / total;
        }
    }

    public T Sample(Xoshiro256StarStar random)
    {
        var u = random.NextDouble();
        for (var i = 0; i < _cumulativeShares.Length - 1; i++)
        {
            if (u < _cumulativeShares[i])
            {
                return _values[i];
            }
        }

        return _values[^1];
    }
}
