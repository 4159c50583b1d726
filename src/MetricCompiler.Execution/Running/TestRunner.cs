using System.Diagnostics;
using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Model;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Execution.Running;

/// <summary>Runs one data test: counts its failing rows and keeps the first of them for the report.</summary>
internal static class TestRunner
{
    /// <summary>How many failing rows a result keeps (and the console prints).</summary>
    public const int PreviewRows = 5;

    public static NodeResult Run(IWarehouseAdapter adapter, SqlRenderer renderer, PlannedTest test)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var sql = renderer.Render(test.FailingRows).TrimEnd();
            var counted = adapter.Query($"select count(*) as failures from ({Environment.NewLine}{sql}{Environment.NewLine}) as failing_rows");
            var failures = Convert.ToInt64(counted[0].Values.First(), CultureInfo.InvariantCulture);
            var preview = failures == 0 ? [] : adapter.Query($"select * from ({Environment.NewLine}{sql}{Environment.NewLine}) as failing_rows limit {PreviewRows}");
            var status = failures == 0 ? NodeResult.Pass : test.Severity == TestSeverity.Warn ? NodeResult.Warn : NodeResult.Fail;
            return Result(test, status, clock.Elapsed.TotalSeconds, failures,
                failures == 0 ? null : $"{failures:N0} failing row(s): expected {test.Description}") with { FailingRows = preview };
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            return Result(test, NodeResult.Error, clock.Elapsed.TotalSeconds, null, $"the test's query failed: {e.Message}");
        }
    }

    public static NodeResult Skip(PlannedTest test, string why) => Result(test, NodeResult.Skipped, 0, null, why);

    private static NodeResult Result(PlannedTest test, string status, double seconds, long? failures, string? message) =>
        new(test.Name, status, seconds, failures, message) { ResourceType = "test", AttachedTo = test.AttachedTo, Severity = test.SeverityName };
}
