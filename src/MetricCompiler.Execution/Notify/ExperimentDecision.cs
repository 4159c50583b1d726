using System.Text.Json.Nodes;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Execution.Notify;

/// <summary>
/// One experiment's decision in a run, next to the decision of the readout it replaced (what <c>run_results.json</c>
/// lists under <c>experiments</c> and what a webhook is told about when it changed).
/// </summary>
/// <param name="Decision">ship, no_ship, inconclusive or invalid.</param>
/// <param name="PreviousDecision">The decision in the <c>results/&lt;experiment&gt;.json</c> this run replaces; null on the first readout.</param>
public sealed record ExperimentDecision(string ExperimentId, string? Name, string Decision, string? PreviousDecision, IReadOnlyList<string> Reasons)
{
    public bool Changed => !string.Equals(Decision, PreviousDecision, StringComparison.Ordinal);

    /// <summary>The readout files, relative to <c>target/</c>.</summary>
    public string ResultsPath => $"results/{ExperimentId}.json";

    public string MarkdownPath => $"readouts/{ExperimentId}.md";

    public string HtmlPath => $"readouts/{ExperimentId}.html";

    public static ExperimentDecision Of(ExperimentReadout readout, string? previous) =>
        new(readout.ExperimentId, readout.Name, DecisionPolicy.Name(readout.Decision), previous, readout.Reasons);

    /// <summary>
    /// The decision of each experiment's current <c>results/&lt;experiment&gt;.json</c> under <paramref name="targetDirectory"/>;
    /// an experiment without a readout yet (or with an unreadable one) is left out.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReadPrevious(string targetDirectory, IEnumerable<string> experimentIds)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in experimentIds)
        {
            try
            {
                var path = Path.Combine(targetDirectory, "results", $"{id}.json");
                if (File.Exists(path) && JsonNode.Parse(File.ReadAllText(path))?["decision"]?.GetValue<string>() is { } decision)
                    result[id] = decision;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
            {
                // A readout that cannot be read counts as none: the new decision is reported as a change.
            }
        }

        return result;
    }

    /// <summary>The upper-case label people read (<c>NO-SHIP</c>).</summary>
    public static string Label(string decision) => decision.ToUpperInvariant().Replace('_', '-');
}
