using System.Globalization;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Output;

/// <summary>dbt-style progress: a line when a node starts and when it finishes, with rows and seconds.</summary>
public sealed class ConsoleRunObserver(TextWriter output) : IRunObserver
{
    private const int Width = 72;

    public void NodeStarted(int index, int total, PlanNode node) =>
        Write($"{index} of {total} START {node.KindName} {node.Name}", "[RUN]");

    public void NodeFinished(int index, int total, PlanNode node, NodeResult result)
    {
        var seconds = result.Seconds.ToString("0.00", CultureInfo.InvariantCulture);
        if (result.Status == NodeResult.Skipped)
        {
            Write($"{index} of {total} SKIP {node.KindName} {node.Name}", "[SKIP]");
        }
        else if (result.Status == NodeResult.Reused)
        {
            Write($"{index} of {total} REUSED {node.KindName} {node.Name}", "[REUSED]");
            output.WriteLine($"{Now()}    {result.Message}");
        }
        else if (result.Status == NodeResult.Success)
        {
            Write($"{index} of {total} OK {node.KindName} {node.Name}", $"[{result.Rows?.ToString("N0", CultureInfo.InvariantCulture) ?? "0"} rows in {seconds}s]");
            if (result.Dropped is { } dropped && dropped.Any(d => d.Value > 0))
                output.WriteLine($"{Now()}    dropped from raw rows: {StagingQuality.Describe(dropped)}");
            if (result.Nulled is { } nulled && nulled.Any(d => d.Value > 0))
                output.WriteLine($"{Now()}    values made null: {StagingQuality.Describe(nulled)}");
            if (result.Incremental is { } build)
                output.WriteLine($"{Now()}    {build.Mode}: {build.Reason}");
            if (result.Unchanged)
                output.WriteLine($"{Now()}    the same rows as the table in place, which stays");
        }
        else
            Write($"{index} of {total} ERROR {node.KindName} {node.Name}", $"[ERROR in {seconds}s]");
    }

    public void TestFinished(PlannedTest test, NodeResult result)
    {
        var label = result.Status switch
        {
            NodeResult.Pass => "PASS",
            NodeResult.Fail => "FAIL",
            NodeResult.Warn => "WARN",
            NodeResult.Skipped => "SKIP",
            _ => "ERROR",
        };
        Write($"{label} test {test.Name}", result.Status == NodeResult.Pass ? "[PASS]" : $"[{label}{(result.Rows is { } n ? $" {n.ToString("N0", CultureInfo.InvariantCulture)}" : "")}]");
        if (result.Message is not null && result.Status != NodeResult.Pass)
            output.WriteLine($"          {result.Message}");
        foreach (var row in result.FailingRows)
            output.WriteLine($"          | {string.Join(", ", row.Select(c => $"{c.Key}={Format(c.Value)}"))}");
    }

    private static string Format(object? value) => value switch
    {
        null or DBNull => "null",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public void Info(string message) => output.WriteLine($"{Now()}  {message}");

    private void Write(string text, string status)
    {
        var dots = Math.Max(3, Width - text.Length - 1);
        output.WriteLine($"{Now()}  {text} {new string('.', dots)} {status}");
        output.Flush();
    }

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
