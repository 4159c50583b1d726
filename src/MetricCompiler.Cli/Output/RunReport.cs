using System.Globalization;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Output;

/// <summary>How <c>run</c> and <c>build</c> report: <c>--log-format text</c> (the default) or <c>json</c>.</summary>
public enum LogFormat
{
    Text,
    Json,
}

/// <summary>
/// What <c>run</c> and <c>build</c> print, in one of four modes: plain lines (stdout is not a terminal), a live display
/// (stdout is a terminal), <c>--quiet</c> (errors and the final summary and decisions only) and <c>--log-format json</c>
/// (one event per line, docs/orchestration.md). Errors and diagnostics always go to stderr as text.
/// </summary>
public abstract class RunReport : IRunObserver, IDisposable
{
    protected RunReport(TextWriter output, TextWriter error)
    {
        Output = output;
        Error = error;
    }

    protected TextWriter Output { get; }

    protected TextWriter Error { get; }

    /// <summary>
    /// The report for a command: JSON events, quiet, a live display when <paramref name="terminal"/> gives a console
    /// (stdout is a terminal), else plain lines.
    /// </summary>
    public static RunReport Create(string command, TextWriter output, TextWriter error, LogFormat format, bool quiet, Func<Spectre.Console.IAnsiConsole>? terminal) =>
        format == LogFormat.Json ? new JsonRunReport(command, output, error)
        : quiet ? new TextRunReport(output, error, quiet: true)
        : terminal is not null ? new LiveRunReport(command, terminal(), output, error)
        : new TextRunReport(output, error, quiet: false);

    public abstract void NodeStarted(int index, int total, PlanNode node);

    public abstract void NodeFinished(int index, int total, PlanNode node, NodeResult result);

    public abstract void Info(string message);

    public virtual void RunStarted(int total, string target, string adapter) =>
        Info($"Running {total} node(s) on target `{target}` ({adapter})");

    public virtual void TestFinished(PlannedTest test, NodeResult result)
    {
    }

    /// <summary>A line of seeding progress (<c>build</c> seeds the demo data when it is missing).</summary>
    public abstract void Seeding(string message);

    /// <summary>Runs the DAG; the live display shows itself for as long as this takes.</summary>
    public virtual T Track<T>(Func<T> run) => run();

    /// <summary>The diagnostics of loading and checking the project, on stderr.</summary>
    public virtual void Diagnostics(IReadOnlyList<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
            Error.WriteLine(diagnostic.Format());
        var errors = diagnostics.Count(d => d.IsError);
        if (errors > 0)
            Error.WriteLine($"{errors} error(s), {diagnostics.Count - errors} warning(s)");
    }

    /// <summary>Reports how the command ended (readouts, decisions, notifications, summary or error) and returns its exit code.</summary>
    public abstract int Finish(int exitCode, RunOutcome? outcome);

    public virtual void Dispose()
    {
    }

    protected static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary><c>Tests: 3 pass, 1 warn</c>, or null when no test ran.</summary>
    protected static string? TestSummary(RunOutcome outcome)
    {
        var tests = outcome.Results.Where(r => r.ResourceType == "test").GroupBy(r => r.Status).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}").ToList();
        return tests.Count > 0 ? $"Tests: {string.Join(", ", tests)}" : null;
    }

    protected const string DoneArtifacts = "artifacts in target/ (manifest.json, run_results.json, compiled/, results/)";
}
