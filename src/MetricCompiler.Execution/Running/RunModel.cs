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
    IReadOnlyList<string>? Exclude = null,
    IReadOnlyDictionary<string, object?>? Vars = null,
    string? StateDirectory = null)
{
    /// <summary><c>--threads</c>: how many independent nodes run at once (1: one after the other).</summary>
    public int Threads { get; init; } = 1;

    /// <summary><c>--now</c>: the reference time (UTC) source freshness is measured at; null: the current time.</summary>
    public DateTime? Now { get; init; }

    /// <summary><c>--full-refresh</c>: incremental models are rebuilt from all their rows.</summary>
    public bool FullRefresh { get; init; }

    /// <summary><c>--no-reuse</c>: every selected table is built, none kept in place because nothing it reads changed.</summary>
    public bool NoReuse { get; init; }

    /// <summary>
    /// <c>metricc compile</c> reuses and updates <c>target/compile_cache/</c> (parsed YAML, rendered SQL) unless
    /// <c>--no-cache</c>; the output is the same either way.
    /// </summary>
    public bool UseCompileCache { get; init; } = true;
}

/// <summary>
/// The outcome of a node or a data test. A test's <see cref="Rows"/> is its number of failing rows, with the first of
/// them in <see cref="FailingRows"/>.
/// </summary>
/// <param name="Dropped">Staging only: the raw rows each staging rule dropped (and the duplicates removed), by reason.</param>
public sealed record NodeResult(string Node, string Status, double Seconds, long? Rows, string? Message, IReadOnlyDictionary<string, long>? Dropped = null)
{
    /// <summary>Staging only: the values it made null in the rows it kept (not a number, negative in a `non_negative` column), by reason.</summary>
    public IReadOnlyDictionary<string, long>? Nulled { get; init; }

    public const string Success = "success";
    public const string Error = "error";
    public const string Skipped = "skipped";

    /// <summary>Not built: its table in place is what a build would give (nothing it reads changed since it was built).</summary>
    public const string Reused = "reused";
    public const string Pass = "pass";
    public const string Fail = "fail";
    public const string Warn = "warn";

    /// <summary><c>node</c> or <c>test</c>.</summary>
    public string ResourceType { get; init; } = "node";

    /// <summary>For a test: the node it ran after, its severity and its first failing rows.</summary>
    public string? AttachedTo { get; init; }

    public string? Severity { get; init; }

    public IReadOnlyList<IReadOnlyDictionary<string, object?>> FailingRows { get; init; } = [];

    /// <summary>For an experiment's SRM counts: the exposed units left out of the analysis, by status.</summary>
    public IReadOnlyDictionary<string, long>? Excluded { get; init; }

    /// <summary>For an incremental model: whether it was built incrementally or in full, and why.</summary>
    public IncrementalBuild? Incremental { get; init; }

    /// <summary>A staging built in full whose rows were those of the table in place, which was kept (downstream tables may then be reused).</summary>
    public bool Unchanged { get; init; }
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

    /// <summary>Each readout's decision next to the one it replaced (empty when the run failed or read out nothing).</summary>
    public IReadOnlyList<Notify.ExperimentDecision> Decisions { get; init; } = [];

    /// <summary>What became of the webhook posts of changed decisions (<c>notify:</c>); a failed one never fails the run.</summary>
    public IReadOnlyList<Notify.NotificationResult> Notifications { get; init; } = [];

    /// <summary>A compile with the cache: what it reused and what it parsed or rendered (null without the cache).</summary>
    public Caching.CacheCounts? Cache { get; init; }

    /// <summary>How many files under <c>target/compiled/</c> the compile wrote (the others already held the same bytes).</summary>
    public int FilesWritten { get; init; }
}

/// <summary>Receives progress as the DAG runs (the CLI prints it; tests record it).</summary>
public interface IRunObserver
{
    /// <summary>The run is about to build <paramref name="total"/> selected nodes on <paramref name="target"/>.</summary>
    void RunStarted(int total, string target, string adapter)
    {
        Info($"Running {total} node(s) on target `{target}` ({adapter})");
    }

    void NodeStarted(int index, int total, PlanNode node);

    void NodeFinished(int index, int total, PlanNode node, NodeResult result);

    void Info(string message);

    /// <summary>A data test ran (or was skipped).</summary>
    void TestFinished(PlannedTest test, NodeResult result)
    {
    }
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
