using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Simulation;

/// <summary>
/// Precomputed per-unit terms (value, value squared, covariate, cross products, non-null indicators) of every metric of
/// an experiment, each distinct term once. A split is a 0/1 mask (1 = arm B); the B half's sums of the statistics SQL are
/// dot products of the mask with the terms, and the A half's are the totals minus them. Nothing is allocated per unit.
/// </summary>
internal sealed class SplitPlan
{
    private readonly BoundExperiment _experiment;
    private readonly List<double[]> _terms;
    private readonly double[] _totals;

    private SplitPlan(BoundExperiment experiment, int units, List<double[]> terms, IReadOnlyList<SplitMetric> metrics)
    {
        _experiment = experiment;
        Units = units;
        _terms = terms;
        Metrics = metrics;
        _totals = new double[terms.Count];
        var ones = new double[units];
        Array.Fill(ones, 1.0);
        SumB(ones, _totals);
    }

    public int Units { get; }

    public int TermCount => _terms.Count;

    public IReadOnlyList<SplitMetric> Metrics { get; }

    public static SplitPlan Build(LoweredExperiment lowered, UnitMetricsData data, double lift, IReadOnlySet<string> lifted)
    {
        var builder = new TermBuilder(data);
        var metrics = new List<SplitMetric>();
        var factor = 1 + lift;
        foreach (var entry in lowered.Experiment.Metrics)
        {
            var name = entry.Metric.Name;
            var statistics = lowered.Of(entry.Metric);
            var isLifted = lifted.Contains(name);
            var f = isLifted ? factor : 1.0;
            // a capped metric's unit columns are capped first, as the statistics SQL caps them before its sums
            string C(string column) => statistics.Cap is { } cap ? builder.Capped(column, cap) : column;
            switch (statistics)
            {
                case RatioStatistics ratio:
                {
                    var num = C(ratio.Numerator);
                    var den = C(ratio.Denominator);
                    int[] terms = [builder.Ones(), builder.Value(num), builder.Square(num), builder.Value(den), builder.Square(den), builder.Product(num, den)];
                    int[]? presence = builder.HasNulls(num) || builder.HasNulls(den)
                        ? [builder.Present(num), builder.Present(den), builder.BothPresent(num, den)]
                        : null;
                    metrics.Add(new SplitMetric(name, statistics, entry.Role, false, isLifted, terms, [1, f, f * f, 1, 1, f], presence));
                    break;
                }

                case MeanStatistics { Covariates.Count: > 0 } adjusted:
                {
                    // several covariates: n, sum and squares of y, then the matrix columns in StatisticsColumns.MatrixColumns order
                    var value = C(adjusted.Value);
                    var x = adjusted.Covariates.Select(C).ToList();
                    var k = x.Count;
                    var terms = new List<int> { builder.Present(value), builder.Value(value), builder.Square(value) };
                    var scale = new List<double> { 1, f, f * f };
                    terms.AddRange(x.Select(builder.Value));
                    scale.AddRange(Enumerable.Repeat(1.0, k));
                    for (var i = 0; i < k; i++)
                    {
                        for (var j = i; j < k; j++)
                        {
                            terms.Add(builder.Product(x[i], x[j]));
                            scale.Add(1);
                        }
                    }

                    terms.AddRange(x.Select(xi => builder.Product(xi, value)));
                    scale.AddRange(Enumerable.Repeat(f, k));
                    metrics.Add(new SplitMetric(name, statistics, entry.Role, true, isLifted, [.. terms], [.. scale], null) { CovariateCount = k });
                    break;
                }

                case MeanStatistics mean:
                {
                    var value = C(mean.Value);
                    int[] terms = mean.Covariate is { } uncapped && C(uncapped) is var covariate
                        ? [builder.Present(value), builder.Value(value), builder.Square(value), builder.Value(covariate), builder.Square(covariate), builder.Product(value, covariate)]
                        : [builder.Present(value), builder.Value(value), builder.Square(value)];
                    double[] scale = mean.Cuped ? [1, f, f * f, 1, 1, f] : [1, f, f * f];
                    metrics.Add(new SplitMetric(name, statistics, entry.Role, mean.Cuped, isLifted, terms, scale, null));
                    break;
                }

                case QuantileStatistics quantile:
                    // Order statistics are no sums: each split sorts the arm's values (lifted: B's times 1 + lift).
                    metrics.Add(new SplitMetric(name, statistics, entry.Role, false, isLifted, [builder.Present(C(quantile.Value))], [1], null)
                    {
                        Values = builder.Column(C(quantile.Value)),
                        LiftFactor = f,
                    });
                    break;

                default:
                    throw new SimulationDataException($"metric `{name}`: the simulation cannot re-split {statistics.GetType().Name} statistics");
            }
        }

        return new SplitPlan(lowered.Experiment, data.Units, builder.Terms, metrics);
    }

    /// <summary>The unscaled B-half sum of every term: <paramref name="sums"/>[t] = sum over units of mask * term t.</summary>
    public void SumB(double[] mask, double[] sums)
    {
        for (var t = 0; t < _terms.Count; t++)
            sums[t] = Dot(mask, _terms[t]);
    }

    /// <summary>
    /// Cumulative sums per look for daily monitoring: unit i arrives at look <paramref name="look"/>[i] (0-based), and
    /// <paramref name="sumsB"/>[k] / <paramref name="sumsAll"/>[k] hold the B-half and both-arm sums of every term over the
    /// units arrived by look k.
    /// </summary>
    public void SumByLook(double[] mask, int[] look, double[][] sumsB, double[][] sumsAll)
    {
        foreach (var row in sumsB.Concat(sumsAll))
            Array.Clear(row);
        for (var t = 0; t < _terms.Count; t++)
        {
            var term = _terms[t];
            for (var i = 0; i < term.Length; i++)
            {
                sumsAll[look[i]][t] += term[i];
                sumsB[look[i]][t] += mask[i] * term[i];
            }
        }

        for (var k = 1; k < sumsB.Length; k++)
        {
            for (var t = 0; t < _terms.Count; t++)
            {
                sumsB[k][t] += sumsB[k - 1][t];
                sumsAll[k][t] += sumsAll[k - 1][t];
            }
        }
    }

    /// <summary>A sum-based metric's input over a subset of units whose B-half and both-arm sums are given.</summary>
    public MetricInput InputOf(SplitMetric metric, double[] sumsB, double[] sumsAll) =>
        SimulationInputs.Input(metric.Name, metric.Statistics,
            [(CalibrationSimulator.ArmA, Row(metric, sumsB, sumsAll, armB: false)), (CalibrationSimulator.ArmB, Row(metric, sumsB, sumsAll, armB: true))]);

    /// <summary>The metric's engine input for the split whose B-half sums are <paramref name="sumsB"/>: arms A (control) and B.</summary>
    public MetricInput Input(SplitMetric metric, double[] sumsB, double[] mask) =>
        SimulationInputs.Input(metric.Name, metric.Statistics, metric.Statistics is QuantileStatistics quantile
            ? [(CalibrationSimulator.ArmA, QuantileRow(metric, quantile, mask, armB: false)), (CalibrationSimulator.ArmB, QuantileRow(metric, quantile, mask, armB: true))]
            : [(CalibrationSimulator.ArmA, Row(metric, sumsB, _totals, armB: false)), (CalibrationSimulator.ArmB, Row(metric, sumsB, _totals, armB: true))]);

    /// <summary>An arm's quantile row: its non-null values sorted, the quantile and bounds as the statistics SQL computes them.</summary>
    private static StatisticsRow QuantileRow(SplitMetric metric, QuantileStatistics quantile, double[] mask, bool armB)
    {
        var values = metric.Values!;
        var arm = new List<double>(values.Length);
        var side = armB ? 1.0 : 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            if (mask[i] == side && !double.IsNaN(values[i]))
                arm.Add(armB ? values[i] * metric.LiftFactor : values[i]);
        }

        if (arm.Count == 0)
            return new StatisticsRow(0, null, null);
        var sorted = CollectionsMarshal.AsSpan(arm);
        sorted.Sort();
        var (q, lower, upper) = quantile.FromSorted(sorted);
        return new StatisticsRow(arm.Count, null, null, Quantile: q, QuantileLower: lower, QuantileUpper: upper);
    }

    private static StatisticsRow Row(SplitMetric metric, double[] sumsB, double[] totals, bool armB)
    {
        double Sum(int k)
        {
            var t = metric.Terms[k];
            return armB ? sumsB[t] * metric.BScale[k] : totals[t] - sumsB[t];
        }

        double Count(int t) => armB ? sumsB[t] : totals[t] - sumsB[t];

        var n = (long)Math.Round(Sum(0));
        if (metric.Statistics is RatioStatistics)
        {
            // SQL sum() over no non-null value is null (what the readout makes of a null is the readout's business).
            var numerator = metric.Presence is null || Count(metric.Presence[0]) > 0;
            var denominator = metric.Presence is null || Count(metric.Presence[1]) > 0;
            var both = metric.Presence is null || Count(metric.Presence[2]) > 0;
            return new StatisticsRow(n,
                numerator ? Sum(1) : null, numerator ? Sum(2) : null,
                denominator ? Sum(3) : null, denominator ? Sum(4) : null,
                CrossSum: both ? Sum(5) : null);
        }

        double? Value(int k) => n > 0 ? Sum(k) : null;
        if (metric.CovariateCount > 0)
            return new StatisticsRow(n, Value(1), Value(2)) { Matrix = [.. Enumerable.Range(3, metric.Terms.Length - 3).Select(Sum)] };
        return metric.Cuped
            ? new StatisticsRow(n, Value(1), Value(2), CovariateSum: Sum(3), CovariateSumSquares: Sum(4), CrossSum: Value(5))
            : new StatisticsRow(n, Value(1), Value(2));
    }

    /// <summary>Fixed-width vectors and a fixed reduction order: the same sums on every machine.</summary>
    private static double Dot(double[] mask, double[] column)
    {
        var n = mask.Length;
        ref var m = ref MemoryMarshal.GetArrayDataReference(mask);
        ref var c = ref MemoryMarshal.GetArrayDataReference(column);
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            acc0 += Vector256.LoadUnsafe(ref m, (nuint)i) * Vector256.LoadUnsafe(ref c, (nuint)i);
            acc1 += Vector256.LoadUnsafe(ref m, (nuint)(i + 4)) * Vector256.LoadUnsafe(ref c, (nuint)(i + 4));
        }

        var acc = acc0 + acc1;
        var sum = (acc.GetElement(0) + acc.GetElement(1)) + (acc.GetElement(2) + acc.GetElement(3));
        for (; i < n; i++)
            sum += mask[i] * column[i];
        return sum;
    }

    /// <summary>Builds each distinct per-unit term once (a SQL null contributes nothing, as in sum()).</summary>
    private sealed class TermBuilder(UnitMetricsData data)
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double[]> _capped = new(StringComparer.Ordinal);

        /// <summary>A unit column as read, or a capped copy registered by <see cref="Capped"/>.</summary>
        public double[] Column(string column) => _capped.TryGetValue(column, out var values) ? values : data.Column(column);

        /// <summary>
        /// Registers <paramref name="column"/> capped by <paramref name="cap"/> (values above the cap count as the cap; a
        /// null stays null) and returns its name. A percentile cap is taken over every analysed unit's non-null value,
        /// pooled across variants, with numpy's linear interpolation, as the statistics SQL's <c>caps</c> CTE computes it;
        /// every split of the simulation uses the same cap, as the units are the same.
        /// </summary>
        public string Capped(string column, Core.Model.MetricCap cap)
        {
            var name = StatisticsColumns.CapColumn(column, cap);
            if (!_capped.ContainsKey(name))
            {
                var values = data.Column(column);
                var limit = cap.Value ?? CapPercentile(values, cap.Percentile!.Value);
                _capped[name] = Array.ConvertAll(values, v => v > limit ? limit : v);
            }

            return name;
        }

        /// <summary>numpy's default percentile: h = p (n - 1) over the sorted non-null values, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).</summary>
        internal static double CapPercentile(double[] values, double p)
        {
            var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
            if (sorted.Length == 0)
                return double.NaN;
            var h = p * (sorted.Length - 1);
            var low = (int)Math.Floor(h);
            var high = Math.Min(low + 1, sorted.Length - 1);
            return sorted[low] + ((h - low) * (sorted[high] - sorted[low]));
        }

        public List<double[]> Terms { get; } = [];

        public bool HasNulls(string column) => Array.Exists(Column(column), double.IsNaN);

        public int Ones() => Term("1", () => Enumerable.Repeat(1.0, data.Units).ToArray());

        public int Present(string column) =>
            HasNulls(column) ? Term($"present:{column}", () => Map(column, v => double.IsNaN(v) ? 0 : 1)) : Ones();

        public int Value(string column) => Term($"value:{column}", () => Map(column, v => double.IsNaN(v) ? 0 : v));

        public int Square(string column) => Term($"square:{column}", () => Map(column, v => double.IsNaN(v) ? 0 : v * v));

        public int Product(string a, string b) => Term($"product:{a}|{b}", () => Zip(a, b, (x, y) => double.IsNaN(x) || double.IsNaN(y) ? 0 : x * y));

        public int BothPresent(string a, string b) => Term($"both:{a}|{b}", () => Zip(a, b, (x, y) => double.IsNaN(x) || double.IsNaN(y) ? 0 : 1));

        private int Term(string key, Func<double[]> create)
        {
            if (!_index.TryGetValue(key, out var index))
            {
                index = Terms.Count;
                Terms.Add(create());
                _index[key] = index;
            }

            return index;
        }

        private double[] Map(string column, Func<double, double> f) => Array.ConvertAll(Column(column), v => f(v));

        private double[] Zip(string a, string b, Func<double, double, double> f)
        {
            var x = Column(a);
            var y = Column(b);
            var result = new double[x.Length];
            for (var i = 0; i < x.Length; i++)
                result[i] = f(x[i], y[i]);
            return result;
        }
    }
}
