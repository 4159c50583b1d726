using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Output;

/// <summary>
/// What the live display shows, kept apart from drawing it: nodes done out of the total, the nodes running now (several
/// with <c>--threads</c>) and since when, counts by status, the last finished nodes, failures and notes. Thread-safe.
/// </summary>
public sealed class ProgressState
{
    /// <summary>How many finished nodes and notes the display keeps.</summary>
    public const int Recent = 5;

    private readonly object _lock = new();
    private readonly Dictionary<string, (string Kind, TimeSpan Since)> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tests = new(StringComparer.Ordinal);
    private readonly List<string> _recent = [];
    private readonly List<string> _failures = [];
    private readonly List<string> _notes = [];
    private int _total;
    private string? _target;
    private bool _finished;

    public void Started(int total, string target)
    {
        lock (_lock)
        {
            _total = total;
            _target = target;
        }
    }

    public void NodeStarted(int total, PlanNode node, TimeSpan at)
    {
        lock (_lock)
        {
            _total = Math.Max(_total, total);
            _running[node.Name] = (node.KindName, at);
        }
    }

    public void NodeFinished(int total, PlanNode node, NodeResult result)
    {
        lock (_lock)
        {
            _total = Math.Max(_total, total);
            _running.Remove(node.Name);
            _nodes[result.Status] = _nodes.GetValueOrDefault(result.Status) + 1;
            var line = result.Status switch
            {
                NodeResult.Success => $"OK {node.KindName} {node.Name} [{result.Rows ?? 0:N0} rows in {result.Seconds:0.00}s]",
                NodeResult.Skipped => $"SKIP {node.KindName} {node.Name}",
                NodeResult.Reused => $"REUSED {node.KindName} {node.Name}",
                _ => $"ERROR {node.KindName} {node.Name} [{result.Seconds:0.00}s]",
            };
            Keep(_recent, line);
            if (result.Status == NodeResult.Error)
                _failures.Add($"{node.Name}: {result.Message}");
        }
    }

    public void TestFinished(PlannedTest test, NodeResult result)
    {
        lock (_lock)
        {
            _tests[result.Status] = _tests.GetValueOrDefault(result.Status) + 1;
            if (result.Status is NodeResult.Fail or NodeResult.Error)
                _failures.Add($"test {test.Name}: {result.Status}{(result.Rows is { } n ? $" ({n:N0} rows)" : "")}");
        }
    }

    public void Note(string message)
    {
        lock (_lock)
            Keep(_notes, message);
    }

    public void Finish()
    {
        lock (_lock)
        {
            _finished = true;
            _running.Clear();
        }
    }

    /// <summary>A consistent copy for one frame.</summary>
    public ProgressSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new ProgressSnapshot(
                _total,
                _nodes.Values.Sum(),
                _target,
                _running.OrderBy(r => r.Value.Since).Select(r => new RunningNode(r.Key, r.Value.Kind, r.Value.Since)).ToList(),
                new SortedDictionary<string, int>(_nodes, StringComparer.Ordinal),
                new SortedDictionary<string, int>(_tests, StringComparer.Ordinal),
                _recent.ToList(),
                _failures.ToList(),
                _notes.ToList(),
                _finished);
        }
    }

    private static void Keep(List<string> list, string line)
    {
        list.Add(line);
        if (list.Count > Recent)
            list.RemoveAt(0);
    }
}

/// <summary>A running node and the moment (since the display started) it started.</summary>
public sealed record RunningNode(string Name, string Kind, TimeSpan Since);

/// <summary>One frame's worth of <see cref="ProgressState"/>.</summary>
public sealed record ProgressSnapshot(
    int Total,
    int Done,
    string? Target,
    IReadOnlyList<RunningNode> Running,
    IReadOnlyDictionary<string, int> Nodes,
    IReadOnlyDictionary<string, int> Tests,
    IReadOnlyList<string> Recent,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> Notes,
    bool Finished);
