using MetricCompiler.Adapters;
using System.Diagnostics;
using MetricCompiler.DemoData.Simulation;
using MetricCompiler.DemoData.Writing;

namespace MetricCompiler.DemoData;

/// <summary>
/// Seeds a warehouse with deterministic, realistic product-analytics raw data (raw_users, raw_events, raw_exposures)
/// for the demo project, with planted experiment effects and data-quality faults. See README.md.
/// </summary>
public static class DemoDataGenerator
{
    /// <summary>
    /// Drops and re-creates the raw tables and fills them through the adapter's bulk load (appender on DuckDB, COPY on
    /// PostgreSQL, multi-row INSERTs elsewhere), on any target the adapters open.
    /// </summary>
    public static DemoDataSummary Seed(IWarehouseAdapter adapter, DemoDataOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var stopwatch = Stopwatch.StartNew();
        progress?.Report($"Simulating and writing {options.Users:N0} users, seed {options.Seed}, {options.PeriodStart:yyyy-MM-dd}..{options.PeriodEnd:yyyy-MM-dd}");
        var simulation = new DemoDataSimulation(options);
        var summary = new DemoDataWriter(adapter, progress).Write(simulation);
        progress?.Report(
            $"Done in {stopwatch.Elapsed.TotalSeconds:F1} s: {summary.Users:N0} users, {summary.Events:N0} events " +
            $"({summary.DuplicateEvents:N0} duplicates), {summary.Exposures:N0} exposures ({summary.MultiVariantUsers:N0} multi-variant users)");
        return summary;
    }
}
