using MetricCompiler.Execution.Notify;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Output;

/// <summary>
/// Plain lines, dbt-style (what a CI log or a redirected stdout gets), or with <c>--quiet</c> only what went wrong
/// and the end: failed nodes and tests, each experiment's decision, the summary line.
/// </summary>
public sealed class TextRunReport(TextWriter output, TextWriter error, bool quiet) : RunReport(output, error)
{
    private readonly ConsoleRunObserver _lines = new(output);

    public override void NodeStarted(int index, int total, PlanNode node)
    {
        if (!quiet)
            _lines.NodeStarted(index, total, node);
    }

    public override void NodeFinished(int index, int total, PlanNode node, NodeResult result)
    {
        if (!quiet || result.Status == NodeResult.Error)
            _lines.NodeFinished(index, total, node, result);
    }

    public override void TestFinished(PlannedTest test, NodeResult result)
    {
        if (!quiet || result.Status is NodeResult.Fail or NodeResult.Error)
            _lines.TestFinished(test, result);
    }

    public override void Info(string message)
    {
        if (!quiet)
            _lines.Info(message);
    }

    public override void Seeding(string message)
    {
        if (!quiet)
            Output.WriteLine(message);
    }

    public override int Finish(int exitCode, RunOutcome? outcome) => Complete(Output, Error, exitCode, outcome, quiet);

    /// <summary>The end of a text report (plain, quiet or after the live display).</summary>
    internal static int Complete(TextWriter output, TextWriter error, int exitCode, RunOutcome? outcome, bool quiet)
    {
        if (outcome is null)
            return exitCode;
        if (quiet)
        {
            foreach (var decision in outcome.Decisions)
                output.WriteLine($"Decision {decision.ExperimentId}: {ExperimentDecision.Label(decision.Decision)}" +
                    (decision.Changed && decision.PreviousDecision is { } was ? $" (was {ExperimentDecision.Label(was)})" : ""));
        }
        else
        {
            foreach (var readout in outcome.Readouts)
                ReadoutPrinter.Print(output, readout);
        }

        foreach (var notification in outcome.Notifications)
        {
            if (notification.Status == NotificationResult.Sent)
            {
                if (!quiet)
                    output.WriteLine(notification.Message);
            }
            else
                error.WriteLine($"warning: {notification.Message}");
        }

        if (outcome.Error is not null)
        {
            error.WriteLine();
            error.WriteLine($"error: {outcome.Error}");
            return exitCode;
        }

        if (!quiet)
            output.WriteLine();
        if (TestSummary(outcome) is { } tests)
            output.WriteLine(tests);
        var reused = outcome.Results.Count(r => r.Status == NodeResult.Reused);
        output.WriteLine($"Done. {outcome.Results.Count(r => r.Status == NodeResult.Success && r.ResourceType == "node")} node(s) built{(reused > 0 ? $", {reused} reused" : "")}; {DoneArtifacts}");
        return exitCode;
    }
}
