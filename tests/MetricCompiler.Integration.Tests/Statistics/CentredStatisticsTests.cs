using System.Globalization;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Integration.Tests.MetricLayer;
using MetricCompiler.Statistics;

namespace MetricCompiler.Integration.Tests.Statistics;

/// <summary>
/// Precision of the warehouse's sufficient statistics (issue 9): for a metric whose mean (1e6) is far above its spread
/// (standard deviation 0.087), raw sums of squares lose the variance to cancellation. The statistics SQL centres every
/// sum about the metric's mean, so on every engine the variance, mean and CUPED covariance from the statistics table
/// match a two-pass computation over the same values (the reference) to 1e-6, and the engines agree with each other.
/// </summary>
public sealed class CentredStatisticsTests : IDisposable
{
    private const int UnitsPerArm = 3000;

    private static readonly (string User, string Variant, double Amount, double Before)[] Units = MakeUnits();

    private readonly EngineProject _project = new("""
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: amount, type: number}
              - {name: occurred_at, type: timestamp}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - {name: balance, source: events, agg: sum, expr: amount}
        experiments:
          - id: precise
            exposure: {source: exposures}
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-18
            analysis: {cuped: {enabled: true, lookback_days: 3}}
            metrics:
              primary: [balance]
        """,
        new RawTable("raw_exposures", [EngineProject.Text("user_id"), EngineProject.Text("variant"), EngineProject.Text("exposed_at")],
            Units.Select(u => new object?[] { u.User, u.Variant, "2026-01-06 10:00:00" }).ToList()),
        new RawTable("raw_events", [EngineProject.Text("event_id"), EngineProject.Text("user_id"), EngineProject.Number("amount"), EngineProject.Text("occurred_at")],
            Units.SelectMany(u => new[]
            {
                new object?[] { u.User + "-after", u.User, u.Amount, "2026-01-07 10:00:00" },
                new object?[] { u.User + "-before", u.User, u.Before, "2026-01-05 10:00:00" },
            }).ToList()));

    /// <summary>Deterministic values: mean 1e6, standard deviation about 0.087; the pre-period value correlates with the later one.</summary>
    private static (string, string, double, double)[] MakeUnits()
    {
        var random = new Random(20261203);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Enumerable.Range(0, 2 * UnitsPerArm).Select(i =>
        {
            var before = 1e6 + (0.087 * Normal());
            var after = 1e6 + (0.6 * (before - 1e6)) + (0.07 * Normal()) + (i % 2 == 1 ? 0.001 : 0);
            return ($"u{i:D5}", i % 2 == 0 ? "control" : "treatment", Math.Round(after, 6), Math.Round(before, 6));
        }).ToArray();
    }

    /// <summary>The reference: two-pass sample variance and covariance (means first, then centred sums).</summary>
    private static (double Mean, double Variance, double Covariance) Reference(string variant)
    {
        var arm = Units.Where(u => u.Variant == variant).ToList();
        var my = arm.Average(u => u.Amount);
        var mx = arm.Average(u => u.Before);
        var variance = arm.Sum(u => (u.Amount - my) * (u.Amount - my)) / (arm.Count - 1);
        var covariance = arm.Sum(u => (u.Amount - my) * (u.Before - mx)) / (arm.Count - 1);
        return (my, variance, covariance);
    }

    [Fact]
    public void Variance_of_a_metric_with_a_large_mean_survives_on_every_engine()
    {
        var statistics = new MeanStatistics("balance", "balance__pre", MetricKind.Mean);
        foreach (var engine in EngineProject.Engines)
        {
            _project.Build(engine);
            foreach (var variant in new[] { "control", "treatment" })
            {
                var row = _project.Rows(engine, $"select * from exp_precise__statistics where metric = 'balance' and variant = '{variant}'").Single();
                var s = statistics.Read(row);
                var (mean, variance, covariance) = Reference(variant);
                var where = $"{engine}/{variant}";
                Assert.Equal(UnitsPerArm, s.N);
                Assert.True(Math.Abs(s.Mean - mean) <= 1e-9 * mean, $"{where}: mean {s.Mean}, expected {mean}");
                var actualVariance = (s.SumSquares - (s.Sum * s.Sum / s.N)) / (s.N - 1);
                Assert.True(Math.Abs(actualVariance - variance) <= 1e-6 * variance, $"{where}: variance {actualVariance.ToString("R", CultureInfo.InvariantCulture)}, expected {variance.ToString("R", CultureInfo.InvariantCulture)}");
                var actualCovariance = (s.CrossSum!.Value - (s.Sum * s.CovariateSum!.Value / s.N)) / (s.N - 1);
                Assert.True(Math.Abs(actualCovariance - covariance) <= 1e-6 * Math.Abs(covariance), $"{where}: covariance {actualCovariance}, expected {covariance}");
            }
        }
    }

    public void Dispose() => _project.Dispose();
}
