using System.Data;
using System.Data.Common;
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
    /// Drops and re-creates the raw tables and fills them, all in one transaction, through any ADO.NET provider
    /// (tested with Microsoft.Data.Sqlite; written for Npgsql too). Opens the connection if it is closed (and closes it again).
    /// </summary>
    public static DemoDataSummary Seed(DbConnection connection, DemoDataOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var stopwatch = Stopwatch.StartNew();
        progress?.Report($"Simulating and writing {options.Users:N0} users, seed {options.Seed}, {options.PeriodStart:yyyy-MM-dd}..{options.PeriodEnd:yyyy-MM-dd}");
        var simulation = new DemoDataSimulation(options);
        var openedHere = connection.State == ConnectionState.Closed;
        if (openedHere)
        {
            connection.Open();
        }

        try
        {
            var summary = new DemoDataWriter(connection, progress).Write(simulation);
            progress?.Report(
                $"Done in {stopwatch.Elapsed.TotalSeconds:F1} s: {summary.Users:N0} users, {summary.Events:N0} events " +
                $"({summary.DuplicateEvents:N0} duplicates), {summary.Exposures:N0} exposures ({summary.MultiVariantUsers:N0} multi-variant users)");
            return summary;
        }
        finally
        {
            if (openedHere)
            {
                connection.Close();
            }
        }
    }
}
