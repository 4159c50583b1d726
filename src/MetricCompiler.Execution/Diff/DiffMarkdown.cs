using System.Globalization;
using System.Text;

namespace MetricCompiler.Execution.Diff;

/// <summary>The Markdown of <c>metricc diff</c>, ready to paste as a pull-request comment; the same input gives the same bytes.</summary>
public static class DiffMarkdown
{
    public const string NoChanges = "No changes: the base and the working tree compile to the same nodes, metrics and experiments.";

    /// <param name="baseLabel">The base as the reader knows it: the ref given and its commit.</param>
    public static string Render(ProjectDiffResult diff, string baseLabel, string target, string dialect, DateOnly asOf)
    {
        var sb = new StringBuilder();
        sb.Append("## metricc diff: ").Append(baseLabel).Append(" → working tree\n\n");
        sb.Append($"Target `{target}` ({dialect}); experiments running on {Date(asOf)}.\n\n");
        if (!diff.HasChanges)
        {
            sb.Append(NoChanges).Append('\n');
            return sb.ToString();
        }

        sb.Append(Summary(diff)).Append("\n\n");
        Nodes(sb, diff.Nodes);
        Metrics(sb, diff.Metrics, diff.Experiments);
        Downstream(sb, diff);
        Running(sb, diff.Running, asOf);
        Diffs(sb, diff);
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static string Summary(ProjectDiffResult diff)
    {
        static string Count(IReadOnlyList<ItemChange> items, string noun)
        {
            var parts = new[] { ChangeKind.Added, ChangeKind.Removed, ChangeKind.Changed, ChangeKind.Moved }
                .Select(kind => (kind, n: items.Count(i => i.Change == kind)))
                .Where(x => x.n > 0)
                .Select(x => $"{x.n} {Word(x.kind)}")
                .ToList();
            return parts.Count == 0 ? $"{noun}: none" : $"{noun}: {string.Join(", ", parts)}";
        }

        return $"**{Count(diff.Nodes, "Nodes")}; {Count(diff.Metrics, "metrics")}; {Count(diff.Experiments, "experiments")}.**";
    }

    private static void Nodes(StringBuilder sb, IReadOnlyList<ItemChange> nodes)
    {
        sb.Append("### Nodes\n\n");
        var listed = nodes.Where(n => n.Change != ChangeKind.Moved).ToList();
        if (listed.Count == 0)
            sb.Append("No node's SQL changed.\n\n");
        else
        {
            sb.Append("| node | kind | change |\n| --- | --- | --- |\n");
            foreach (var node in listed.OrderBy(n => n.Change).ThenBy(n => n.Name, StringComparer.Ordinal))
                sb.Append($"| `{node.Name}` | {node.Kind} | {Word(node.Change)} |\n");
            sb.Append('\n');
        }

        var moved = nodes.Where(n => n.Change == ChangeKind.Moved).Select(n => $"`{n.Name}`").ToList();
        if (moved.Count > 0)
            sb.Append($"Moved only (their YAML definition moved in its file; same SQL, new `defined at` line): {string.Join(", ", moved)}.\n\n");
    }

    private static void Metrics(StringBuilder sb, IReadOnlyList<ItemChange> metrics, IReadOnlyList<ItemChange> experiments)
    {
        if (metrics.Count == 0 && experiments.Count == 0)
            return;
        sb.Append("### Definitions\n\n| definition | change |\n| --- | --- |\n");
        foreach (var item in metrics.Concat(experiments).OrderBy(i => i.Kind, StringComparer.Ordinal).ThenBy(i => i.Change).ThenBy(i => i.Name, StringComparer.Ordinal))
            sb.Append($"| {item.Kind} `{item.Name}` | {Word(item.Change)} |\n");
        sb.Append('\n');
    }

    private static void Downstream(StringBuilder sb, ProjectDiffResult diff)
    {
        sb.Append("### Affected downstream\n\n");
        if (diff.AffectedMetrics.Count + diff.AffectedTables.Count + diff.AffectedExperiments.Count == 0)
        {
            sb.Append("No metric, dashboard table or experiment is affected.\n\n");
            return;
        }

        Impacts(sb, "Metrics (what `metricc query` and dashboards read)", diff.AffectedMetrics);
        Impacts(sb, "Dashboard tables", diff.AffectedTables);
        Impacts(sb, "Experiments", diff.AffectedExperiments);
    }

    private static void Impacts(StringBuilder sb, string title, IReadOnlyList<Impact> impacts)
    {
        sb.Append($"**{title}**: ");
        if (impacts.Count == 0)
        {
            sb.Append("none.\n\n");
            return;
        }

        sb.Append('\n');
        foreach (var impact in impacts)
            sb.Append($"- `{impact.Name}`: {impact.Reason}\n");
        sb.Append('\n');
    }

    private static void Running(StringBuilder sb, IReadOnlyList<RunningExperiment> running, DateOnly asOf)
    {
        sb.Append($"### Running experiments on {Date(asOf)}\n\n");
        if (running.Count == 0)
        {
            sb.Append("No experiment is running on that date.\n\n");
            return;
        }

        sb.Append("| experiment | dates | decision | why |\n| --- | --- | --- | --- |\n");
        foreach (var e in running)
        {
            var verdict = e.CouldChange ? "**could change**" : "cannot change";
            var why = e.CouldChange ? string.Join("; ", e.Reasons) : "nothing it reads changed";
            sb.Append($"| `{e.Id}` | {Date(e.Start)} .. {Date(e.End)} | {verdict} | {Cell(why)} |\n");
        }

        sb.Append('\n');
    }

    private static void Diffs(StringBuilder sb, ProjectDiffResult diff)
    {
        var items = diff.Nodes.Where(n => n.Diff is { Length: > 0 })
            .Select(n => ($"`{n.Name}` ({n.Kind})", n.Diff!))
            .Concat(diff.Metrics.Where(m => m.Diff is { Length: > 0 }).Select(m => ($"metric `{m.Name}` (its `metricc query --group-by metric_time__day` SQL)", m.Diff!)))
            .Concat(diff.Experiments.Where(e => e.Diff is { Length: > 0 }).Select(e => ($"experiment `{e.Name}` (the settings its decision reads)", e.Diff!)))
            .ToList();
        if (items.Count == 0)
            return;
        sb.Append("### Diffs\n\n");
        foreach (var (title, text) in items)
        {
            var fence = Fence(text);
            sb.Append($"#### {title}\n\n{fence}diff\n{text}{fence}\n\n");
        }
    }

    /// <summary>A code fence longer than any run of backticks in the text, so SQL with backticks cannot close it.</summary>
    private static string Fence(string text)
    {
        var longest = 0;
        var run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return new string('`', Math.Max(3, longest + 1));
    }

    private static string Word(ChangeKind kind) => kind switch
    {
        ChangeKind.Added => "added",
        ChangeKind.Removed => "removed",
        ChangeKind.Changed => "changed",
        _ => "moved",
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
