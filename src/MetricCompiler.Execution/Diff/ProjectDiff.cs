namespace MetricCompiler.Execution.Diff;

/// <summary>How a node or a metric differs between the base and the working tree.</summary>
public enum ChangeKind
{
    Added,
    Removed,
    /// <summary>Its compiled SQL differs (and so does its manifest checksum).</summary>
    Changed,
    /// <summary>Only the header's <c>defined at</c> line differs: the YAML above it moved; the SQL is the same.</summary>
    Moved,
}

/// <summary>A node (or a metric's query) that differs, with the unified diff of its SQL when it changed.</summary>
public sealed record ItemChange(string Name, string Kind, ChangeKind Change, string? Diff);

/// <summary>Why something downstream is affected: the item and the change it depends on.</summary>
public sealed record Impact(string Name, string Kind, string Reason);

/// <summary>An experiment running on the diff's date and whether the change could move its decision, with the reasons.</summary>
public sealed record RunningExperiment(string Id, DateOnly Start, DateOnly End, bool CouldChange, IReadOnlyList<string> Reasons);

/// <summary>What <c>metricc diff</c> reports: the changes, what they affect downstream, and the running experiments' outlook.</summary>
public sealed record ProjectDiffResult(
    IReadOnlyList<ItemChange> Nodes,
    IReadOnlyList<ItemChange> Metrics,
    IReadOnlyList<ItemChange> Experiments,
    IReadOnlyList<Impact> AffectedMetrics,
    IReadOnlyList<Impact> AffectedTables,
    IReadOnlyList<Impact> AffectedExperiments,
    IReadOnlyList<RunningExperiment> Running)
{
    public bool HasChanges => Nodes.Count > 0 || Metrics.Count > 0 || Experiments.Count > 0;
}

/// <summary>
/// Compares two compiled snapshots: nodes by their manifest checksum, metrics by their compiled query, experiments by
/// their settings; follows the child map (and metric inputs) downstream; and says for each experiment running on
/// <c>asOf</c> whether its decision could change.
/// </summary>
public static class ProjectDiff
{
    public static ProjectDiffResult Compare(ProjectSnapshot before, ProjectSnapshot after, DateOnly asOf, string beforeLabel, string afterLabel)
    {
        var nodes = CompareNodes(before, after, beforeLabel, afterLabel);
        var metrics = CompareMetrics(before, after, beforeLabel, afterLabel);
        var experiments = Union(before.Experiments.Keys, after.Experiments.Keys)
            .Select(id => (before.Experiments.GetValueOrDefault(id), after.Experiments.GetValueOrDefault(id)) switch
            {
                (null, { }) => new ItemChange(id, "experiment", ChangeKind.Added, null),
                ({ }, null) => new ItemChange(id, "experiment", ChangeKind.Removed, null),
                ({ } b, { } a) when b.Settings != a.Settings => new ItemChange(id, "experiment", ChangeKind.Changed,
                    UnifiedDiff.Format(b.Settings, a.Settings, $"{beforeLabel}/experiments/{id}", $"{afterLabel}/experiments/{id}")),
                _ => null,
            })
            .OfType<ItemChange>()
            .ToList();

        // The nodes whose SQL is new or different, and every node downstream of them (or of a removed node) in either DAG.
        var changed = nodes.Where(n => n.Change is ChangeKind.Added or ChangeKind.Changed).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var removed = nodes.Where(n => n.Change == ChangeKind.Removed).Select(n => n.Name).ToList();
        var downstream = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(after.ChildMap(), changed, downstream);
        var fromBefore = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(before.ChildMap(), [.. removed, .. changed.Where(before.Nodes.ContainsKey)], fromBefore);
        foreach (var (name, cause) in fromBefore)
            if (after.Nodes.ContainsKey(name))
                downstream.TryAdd(name, cause);
        foreach (var name in changed)
            downstream.Remove(name);

        var touched = new HashSet<string>(changed, StringComparer.Ordinal);
        touched.UnionWith(downstream.Keys);
        touched.UnionWith(removed);
        var metricChanges = metrics.ToDictionary(m => m.Name, m => m.Change, StringComparer.Ordinal);
        var metricImpact = new MetricImpact(before, after, metricChanges, touched);

        var affectedMetrics = after.Metrics.Keys.Order(StringComparer.Ordinal)
            .Select(name => metricImpact.Of(name) is { } reason ? new Impact(name, "metric", reason) : null)
            .OfType<Impact>()
            .ToList();
        var affectedTables = after.Nodes.Values
            .Where(n => n.Kind == "metric_table" && (touched.Contains(n.Name) || after.Metrics.Values.Any(m => m.MetricTable == n.Name && metricImpact.Of(m.Name) is not null)))
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .Select(n => new Impact(n.Name, n.Kind, changed.Contains(n.Name) ? "its SQL changed" : downstream.TryGetValue(n.Name, out var cause) ? $"downstream of `{cause}`" : "its metric changed"))
            .ToList();

        var experimentReasons = after.Experiments.Values
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .Select(e => (Experiment: e, Reasons: Reasons(e, before, experiments, nodes, after, metricImpact)))
            .ToList();
        var affectedExperiments = experimentReasons.Where(x => x.Reasons.Count > 0)
            .Select(x => new Impact(x.Experiment.Id, "experiment", string.Join("; ", x.Reasons)))
            .ToList();
        var running = experimentReasons
            .Where(x => x.Experiment.Start <= asOf && asOf <= x.Experiment.End)
            .Select(x => new RunningExperiment(x.Experiment.Id, x.Experiment.Start, x.Experiment.End, x.Reasons.Count > 0, x.Reasons))
            .ToList();
        return new ProjectDiffResult(nodes, metrics, experiments, affectedMetrics, affectedTables, affectedExperiments, running);
    }

    private static List<ItemChange> CompareNodes(ProjectSnapshot before, ProjectSnapshot after, string beforeLabel, string afterLabel)
    {
        var result = new List<ItemChange>();
        foreach (var name in Union(before.Nodes.Keys, after.Nodes.Keys))
        {
            var b = before.Nodes.GetValueOrDefault(name);
            var a = after.Nodes.GetValueOrDefault(name);
            if (b is null)
                result.Add(new ItemChange(name, a!.Kind, ChangeKind.Added, null));
            else if (a is null)
                result.Add(new ItemChange(name, b.Kind, ChangeKind.Removed, null));
            else if (a.Checksum != b.Checksum)
            {
                var moved = a.Sql is not null && b.Sql is not null && a.SqlWithoutOrigin == b.SqlWithoutOrigin && a.Kind == b.Kind;
                var diff = a.Sql is null || b.Sql is null || moved
                    ? null
                    : UnifiedDiff.Format(b.Sql, a.Sql, $"{beforeLabel}/compiled/{name}.sql", $"{afterLabel}/compiled/{name}.sql");
                result.Add(new ItemChange(name, a.Kind, moved ? ChangeKind.Moved : ChangeKind.Changed, diff));
            }
        }

        return result;
    }

    private static List<ItemChange> CompareMetrics(ProjectSnapshot before, ProjectSnapshot after, string beforeLabel, string afterLabel)
    {
        var result = new List<ItemChange>();
        foreach (var name in Union(before.Metrics.Keys, after.Metrics.Keys))
        {
            var b = before.Metrics.GetValueOrDefault(name);
            var a = after.Metrics.GetValueOrDefault(name);
            if (b is null)
                result.Add(new ItemChange(name, "metric", ChangeKind.Added, null));
            else if (a is null)
                result.Add(new ItemChange(name, "metric", ChangeKind.Removed, null));
            else if (Origins.WithoutPositions(a.Sql) != Origins.WithoutPositions(b.Sql))
                result.Add(new ItemChange(name, "metric", ChangeKind.Changed,
                    UnifiedDiff.Format(b.Sql, a.Sql, $"{beforeLabel}/query/{name}.sql", $"{afterLabel}/query/{name}.sql")));
        }

        return result;
    }

    private static List<string> Reasons(SnapshotExperiment experiment, ProjectSnapshot before, List<ItemChange> experiments, List<ItemChange> nodes, ProjectSnapshot after, MetricImpact metricImpact)
    {
        var reasons = new List<string>();
        var own = experiments.FirstOrDefault(e => e.Name == experiment.Id);
        if (own?.Change == ChangeKind.Added)
            reasons.Add("the experiment is new");
        else if (own?.Change == ChangeKind.Changed)
            reasons.Add("its design or analysis settings changed");

        var roles = experiment.Primary.Select(m => (m, "primary metric"))
            .Concat(experiment.Secondary.Select(m => (m, "secondary metric")))
            .Concat(experiment.Guardrails.Select(m => (m, "guardrail")));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (metric, role) in roles)
            if (seen.Add(metric) && metricImpact.Of(metric) is { } why)
                reasons.Add($"{role} `{metric}` {why}");

        // Its own tables (exposures, unit metrics, statistics): the exposure's filter, say, changes them and no metric.
        var explained = reasons.Count > 0;
        var ownNodes = nodes
            .Where(n => n.Change is ChangeKind.Changed or ChangeKind.Removed
                && (after.Nodes.GetValueOrDefault(n.Name)?.ExperimentId ?? before.Nodes.GetValueOrDefault(n.Name)?.ExperimentId) == experiment.Id
                && (!explained || n.Kind is not ("unit_metrics" or "statistics")))
            .Select(n => $"`{n.Name}`")
            .ToList();
        if (own?.Change != ChangeKind.Added && ownNodes.Count > 0)
            reasons.Add($"its compiled SQL changed: {string.Join(", ", ownNodes)}");

        return reasons;
    }

    /// <summary>Breadth-first from <paramref name="starts"/> through the child map; each node reached keeps the start it came from.</summary>
    private static void Walk(IReadOnlyDictionary<string, IReadOnlyList<string>> children, IEnumerable<string> starts, Dictionary<string, string> reached)
    {
        var queue = new Queue<(string Node, string Cause)>();
        foreach (var start in starts.Order(StringComparer.Ordinal))
            queue.Enqueue((start, start));
        var visited = new HashSet<string>(StringComparer.Ordinal);
        while (queue.Count > 0)
        {
            var (node, cause) = queue.Dequeue();
            if (!visited.Add(node))
                continue;
            reached.TryAdd(node, cause);
            foreach (var child in children.GetValueOrDefault(node) ?? [])
                queue.Enqueue((child, cause));
        }
    }

    private static IEnumerable<string> Union(IEnumerable<string> a, IEnumerable<string> b) =>
        a.Union(b, StringComparer.Ordinal).Order(StringComparer.Ordinal);

    /// <summary>Whether (and why) a metric of the working tree is affected: its own query changed, it reads a changed table, or an input is affected.</summary>
    private sealed class MetricImpact(ProjectSnapshot previous, ProjectSnapshot after, IReadOnlyDictionary<string, ChangeKind> changes, HashSet<string> touchedNodes)
    {
        private readonly Dictionary<string, string?> _memo = new(StringComparer.Ordinal);

        public string? Of(string metric)
        {
            if (_memo.TryGetValue(metric, out var known))
                return known;
            _memo[metric] = null; // metric inputs form no cycle (binding refuses one); this only guards the recursion
            string? reason = null;
            var m = after.Metrics.GetValueOrDefault(metric);
            var input = m?.Inputs.FirstOrDefault(i => Of(i) is not null);
            if (changes.TryGetValue(metric, out var change))
            {
                // A ratio's or derived metric's query inlines its inputs: when only an input changed, say that.
                reason = change == ChangeKind.Added ? "is new"
                    : input is not null && m!.Summary == previous.Metrics.GetValueOrDefault(metric)?.Summary ? $"is computed from `{input}`, which changed"
                    : "changed";
            }
            else if (m is not null)
            {
                reason = m.Reads.Order(StringComparer.Ordinal).FirstOrDefault(touchedNodes.Contains) is { } table
                    ? $"reads `{table}`, which changed"
                    : input is not null ? $"is computed from `{input}`, which changed" : null;
            }

            _memo[metric] = reason;
            return reason;
        }
    }
}
