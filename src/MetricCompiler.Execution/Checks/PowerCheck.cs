using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Rendering;
using MetricCompiler.Statistics;

namespace MetricCompiler.Execution.Checks;

/// <summary>
/// Checks, against the warehouse's data, that each experiment can reach its declared minimum detectable effect in its
/// planned window. The sample is an upper bound: every unit active on the metric's source in a period as long as the
/// experiment, just before it starts, split by the smallest variant weight; the alpha is the corrected one the primary
/// metric will face (<see cref="Readout.EngineRequests.PlanningAlpha"/>). If even that is not enough, it warns.
/// </summary>
public static class PowerCheck
{
    public static IReadOnlyList<Diagnostic> Run(BoundProject project, IWarehouseAdapter adapter)
    {
        var diagnostics = new DiagnosticBag();
        var renderer = SqlRenderer.ForReview(adapter.Dialect);
        foreach (var bound in project.Experiments)
        {
            var experiment = bound.Definition;
            if (experiment.Analysis.MinimumDetectableEffect is not { } mde)
                continue;
            foreach (var metric in bound.Metrics.Where(m => m.Role == MetricRole.Primary).Select(m => m.Metric))
            {
                if (Planner.BaselineQuery(project.Time, bound, metric) is not { } baseline || metric is not SimpleMetric simple)
                    continue;
                var staging = NodeNames.Staging(simple.Source.Name);
                if (!adapter.TableExists(staging))
                {
                    diagnostics.Warning(DiagnosticCodes.PowerCheckSkipped, experiment.At("analysis"),
                        $"experiment `{experiment.Id}`: cannot check its minimum_detectable_effect yet: `{staging}` has not been built",
                        $"run `metricc run --select +{staging}` first");
                    continue;
                }

                var row = adapter.Query(renderer.Render(baseline)).Single();
                var n = Convert.ToInt64(row["n"] ?? 0L, CultureInfo.InvariantCulture);
                var sum = Convert.ToDouble(row["value_sum"] ?? 0.0, CultureInfo.InvariantCulture);
                var squares = Convert.ToDouble(row["value_sum_squares"] ?? 0.0, CultureInfo.InvariantCulture);
                if (n < 2)
                {
                    diagnostics.Warning(DiagnosticCodes.PowerCheckSkipped, experiment.At("analysis"),
                        $"experiment `{experiment.Id}`: no baseline data for `{metric.Name}` before {experiment.Start:yyyy-MM-dd}; its power cannot be checked");
                    continue;
                }

                var mean = sum / n;
                var variance = (squares - sum * sum / n) / (n - 1);
                if (!(variance > 0) || mean == 0)
                    continue;
                var perVariant = (long)Math.Floor(n * experiment.Variants.Min(v => v.Weight));
                var alpha = Readout.EngineRequests.PlanningAlpha(bound);
                var reachable = PowerCalculator.MinimumDetectableEffect(variance, mean, Math.Max(1, perVariant), alpha, experiment.Analysis.Power);
                if (reachable > mde)
                {
                    var needed = PowerCalculator.SampleSizePerVariant(variance, mean, mde, alpha, experiment.Analysis.Power);
                    diagnostics.Warning(DiagnosticCodes.MinimumDetectableEffectUnreachable, experiment.At("analysis"),
                        $"experiment `{experiment.Id}` cannot reach its minimum_detectable_effect of {Percent(mde)} on `{metric.Name}` in {experiment.End.DayNumber - experiment.Start.DayNumber + 1} days: " +
                        $"at most {perVariant:N0} units per variant (from {n:N0} units active in as long a period before it starts) reach {Percent(reachable)}; {Percent(mde)} needs {needed:N0}" +
                        (alpha < experiment.Analysis.Alpha ? $" (at alpha {alpha.ToString("0.####", CultureInfo.InvariantCulture)}: {experiment.Analysis.Alpha.ToString(CultureInfo.InvariantCulture)} shared by the corrected comparisons)" : ""),
                        "lengthen the window, raise the traffic share, use CUPED, or declare the MDE you can reach");
                }
            }
        }

        return diagnostics.Sorted();
    }

    private static string Percent(double value) => (value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
