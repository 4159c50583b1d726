using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MetricCompiler.Execution.Notify;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Output;

/// <summary>
/// <c>--log-format json</c>: one JSON object per line on stdout, each with <c>event</c> and <c>time</c> (UTC), in the
/// order things happened: <c>log</c>, <c>run_started</c>, <c>node_started</c>, <c>node_finished</c>,
/// <c>test_finished</c>, <c>experiment_decision</c>, <c>notification</c>, and last <c>run_finished</c> with the exit
/// code. The schema is in docs/orchestration.md. Messages are the runner's, which redacts secrets; the webhook URL is in none.
/// </summary>
public sealed class JsonRunReport(string command, TextWriter output, TextWriter error) : RunReport(output, error)
{
    /// <summary>Readable text (a backtick stays a backtick); still one valid JSON object per line.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();

    public override void RunStarted(int total, string target, string adapter) => Emit("run_started", new JsonObject
    {
        ["command"] = command,
        ["target"] = target,
        ["adapter"] = adapter,
        ["nodes"] = total,
    });

    public override void NodeStarted(int index, int total, PlanNode node) => Emit("node_started", new JsonObject
    {
        ["index"] = index,
        ["total"] = total,
        ["node"] = node.Name,
        ["kind"] = node.KindName,
    });

    public override void NodeFinished(int index, int total, PlanNode node, NodeResult result) => Emit("node_finished", new JsonObject
    {
        ["index"] = index,
        ["total"] = total,
        ["node"] = node.Name,
        ["kind"] = node.KindName,
        ["status"] = result.Status,
        ["rows"] = result.Rows,
        ["execution_seconds"] = Math.Round(result.Seconds, 3),
        ["error"] = result.Status is NodeResult.Success or NodeResult.Reused ? null : result.Message,
        ["dropped"] = result.Dropped is null ? null : new JsonObject(result.Dropped.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
    });

    public override void TestFinished(PlannedTest test, NodeResult result) => Emit("test_finished", new JsonObject
    {
        ["test"] = test.Name,
        ["attached_to"] = test.AttachedTo,
        ["severity"] = result.Severity,
        ["status"] = result.Status,
        ["failures"] = result.Rows,
        ["execution_seconds"] = Math.Round(result.Seconds, 3),
        ["message"] = result.Status == NodeResult.Pass ? null : result.Message,
    });

    public override void Info(string message) => Emit("log", new JsonObject { ["level"] = "info", ["message"] = message });

    public override void Seeding(string message) => Emit("log", new JsonObject { ["level"] = "info", ["message"] = message.Trim() });

    /// <summary>Each diagnostic as a <c>diagnostic</c> event too (stderr keeps the text).</summary>
    public override void Diagnostics(IReadOnlyList<Core.Diagnostics.Diagnostic> diagnostics)
    {
        base.Diagnostics(diagnostics);
        foreach (var diagnostic in diagnostics)
        {
            Emit("diagnostic", new JsonObject
            {
                ["severity"] = diagnostic.IsError ? "error" : "warning",
                ["code"] = diagnostic.Code,
                ["location"] = diagnostic.Location.ToString(),
                ["message"] = diagnostic.Message,
                ["hint"] = diagnostic.Hint,
            });
        }
    }

    public override int Finish(int exitCode, RunOutcome? outcome)
    {
        foreach (var decision in outcome?.Decisions ?? [])
        {
            Emit("experiment_decision", new JsonObject
            {
                ["experiment"] = decision.ExperimentId,
                ["name"] = decision.Name,
                ["decision"] = decision.Decision,
                ["previous_decision"] = decision.PreviousDecision,
                ["decision_changed"] = decision.Changed,
                ["reasons"] = new JsonArray(decision.Reasons.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
                ["readouts"] = new JsonObject { ["json"] = decision.ResultsPath, ["markdown"] = decision.MarkdownPath, ["html"] = decision.HtmlPath },
            });
        }

        foreach (var notification in outcome?.Notifications ?? [])
        {
            Emit("notification", new JsonObject
            {
                ["experiment"] = notification.ExperimentId,
                ["status"] = notification.Status,
                ["message"] = notification.Message,
            });
            if (notification.Status != NotificationResult.Sent)
                Error.WriteLine($"warning: {notification.Message}");
        }

        if (outcome?.Error is { } message)
            Error.WriteLine($"error: {message}");
        var results = outcome?.Results ?? [];
        JsonObject Counts(string type) => new(results.Where(r => r.ResourceType == type).GroupBy(r => r.Status)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count())));
        Emit("run_finished", new JsonObject
        {
            ["command"] = command,
            ["exit_code"] = exitCode,
            ["status"] = exitCode == ExitCodes.Success ? "success" : "error",
            ["error"] = outcome?.Error ?? (exitCode == ExitCodes.Success ? null : "see stderr"),
            ["nodes"] = Counts("node"),
            ["tests"] = Counts("test"),
            ["elapsed_seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
        });
        return exitCode;
    }

    private void Emit(string name, JsonObject fields)
    {
        var line = new JsonObject
        {
            ["event"] = name,
            ["time"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            line[key] = value;
        }

        lock (_lock)
        {
            Output.WriteLine(line.ToJsonString(Compact));
            Output.Flush();
        }
    }
}
