using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// dbt's exit codes: 0 success, 1 invalid project or failed run, 2 bad usage; and 3 when the warehouse could not be
/// reached or the connection was lost during the run (nothing was replaced; the same command can simply be retried).
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Warehouse = 3;
}

public sealed record RunRequest(
    string ProjectPath,
    string? Target = null,
    IReadOnlyList<string>? Select = null,
    IReadOnlyList<string>? Exclude = null);

/// <param name="Dropped">Staging only: the raw rows each staging rule dropped (and the duplicates removed), by reason.</param>
public sealed record NodeResult(string Node, string Status, double Seconds, long? Rows, string? Message, IReadOnlyDictionary<string, long>? Dropped = null)
{
    public const string Success = "success";
    public const string Error = "error";
    public const string Skipped = "skipped";
}

/// <summary>What a compile or run produced, and the exit code an orchestrator should see.</summary>
public sealed record RunOutcome(
    int ExitCode,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<CompiledNode> Compiled,
    IReadOnlyList<NodeResult> Results,
    IReadOnlyList<ExperimentReadout> Readouts,
    string? Error)
{
    public static RunOutcome Failed(int exitCode, string error, IReadOnlyList<Diagnostic>? diagnostics = null) =>
        new(exitCode, diagnostics ?? [], [], [], [], error);
}

/// <summary>Receives progress as the DAG runs (the CLI prints it; tests record it).</summary>
public interface IRunObserver
{
    void NodeStarted(int index, int total, PlanNode node);

    void NodeFinished(int index, int total, PlanNode node, NodeResult result);

    void Info(string message);
}

public sealed class SilentObserver : IRunObserver
{
    public static SilentObserver Instance { get; } = new();

    public void NodeStarted(int index, int total, PlanNode node)
    {
    }

    public void NodeFinished(int index, int total, PlanNode node, NodeResult result)
    {
    }

    public void Info(string message)
    {
    }
}
