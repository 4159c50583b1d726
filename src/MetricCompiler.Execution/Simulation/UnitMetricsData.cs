namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// An experiment's per-unit table held in memory column by column: one array per column of
/// <c>exp_&lt;id&gt;__unit_metrics</c>, all of the same length, in unit_id order; a SQL null is <see cref="double.NaN"/>.
/// </summary>
public sealed class UnitMetricsData
{
    private readonly Dictionary<string, double[]> _columns;

    public UnitMetricsData(int units, IReadOnlyDictionary<string, double[]> columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var (name, values) in columns)
        {
            if (values.Length != units)
                throw new ArgumentException($"column `{name}` has {values.Length} values, expected {units}", nameof(columns));
        }

        Units = units;
        _columns = new Dictionary<string, double[]>(columns, StringComparer.Ordinal);
    }

    /// <summary>Number of analysed units (rows).</summary>
    public int Units { get; }

    public IReadOnlyCollection<string> ColumnNames => _columns.Keys;

    public double[] Column(string name) =>
        _columns.TryGetValue(name, out var values)
            ? values
            : throw new KeyNotFoundException($"the unit metrics hold no column `{name}`");
}
