using System.Text.RegularExpressions;
using MetricCompiler.Core.Validation;

namespace MetricCompiler.Planning;

/// <summary>A selector that matched nothing or could not be read; the message says which and suggests a fix.</summary>
public sealed class SelectorException(string message) : Exception(message);

/// <summary>
/// dbt-style node selection. Each selector is <c>name</c>, a glob (<c>exp_*</c>) or <c>tag:x</c>, optionally with
/// <c>+</c> before (and everything it depends on) and/or after (and everything that depends on it). Selectors are
/// separated by spaces or commas and united; exclusions are removed afterwards. <c>state:modified</c> picks the nodes
/// whose compiled checksum differs from an earlier manifest's (or that it lacks), given as <see cref="SelectionState"/>.
/// </summary>
public static class NodeSelector
{
    public static IReadOnlyList<PlanNode> Select(ExecutionPlan plan, IReadOnlyList<string> select, IReadOnlyList<string> exclude, SelectionState? state = null)
    {
        var selectors = Split(select);
        var chosen = selectors.Count == 0
            ? plan.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal)
            : selectors.SelectMany(s => Resolve(plan, s, state)).ToHashSet(StringComparer.Ordinal);
        foreach (var selector in Split(exclude))
            chosen.ExceptWith(Resolve(plan, selector, state));
        return plan.Nodes.Where(n => chosen.Contains(n.Name)).ToList();
    }

    private static List<string> Split(IReadOnlyList<string> values) =>
        values.SelectMany(v => v.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static IEnumerable<string> Resolve(ExecutionPlan plan, string selector, SelectionState? state)
    {
        var withAncestors = selector.StartsWith('+');
        var withDescendants = selector.EndsWith('+') && selector.Length > 1;
        var core = selector.Trim('+');
        if (core.Length == 0)
            throw new SelectorException($"selector `{selector}` names no node");

        List<PlanNode> matched;
        if (core.StartsWith("state:", StringComparison.Ordinal))
        {
            if (core != "state:modified")
                throw new SelectorException($"selector `{selector}`: the state method is `state:modified`");
            if (state is null)
                throw new SelectorException($"selector `{selector}` compares with an earlier run: pass `--state <target dir of that run>` (the folder holding its manifest.json)");
            matched = plan.Nodes.Where(n => state.IsModified(n.Name)).ToList();
        }
        else if (core.StartsWith("tag:", StringComparison.Ordinal))
        {
            var tag = core[4..];
            matched = plan.Nodes.Where(n => n.Tags.Contains(tag, StringComparer.Ordinal)).ToList();
            if (matched.Count == 0)
            {
                var tags = plan.Nodes.SelectMany(n => n.Tags).Distinct().ToList();
                throw new SelectorException($"no node has tag `{tag}`" + Hint(tag, tags, "tag"));
            }
        }
        else if (core.Contains('*') || core.Contains('?'))
        {
            var regex = new Regex("^" + Regex.Escape(core).Replace("\\*", ".*").Replace("\\?", ".") + "$");
            matched = plan.Nodes.Where(n => regex.IsMatch(n.Name)).ToList();
            if (matched.Count == 0)
                throw new SelectorException($"selector `{selector}` matches no node");
        }
        else
        {
            if (!plan.Contains(core))
                throw new SelectorException($"no node is named `{core}`" + Hint(core, plan.Nodes.Select(n => n.Name).ToList(), "node"));
            matched = [plan[core]];
        }

        foreach (var node in matched)
        {
            yield return node.Name;
            if (withAncestors)
                foreach (var ancestor in plan.Ancestors(node.Name))
                    yield return ancestor;
            if (withDescendants)
                foreach (var descendant in plan.Descendants(node.Name))
                    yield return descendant;
        }
    }

    private static string Hint(string name, IReadOnlyCollection<string> candidates, string what) =>
        NameSuggester.Hint(name, candidates, what) is { } hint ? $"; {hint}" : "";
}

/// <summary>
/// What <c>state:modified</c> compares: each node's checksum now and in an earlier manifest (<c>--state DIR</c>). A node
/// the earlier manifest lacks counts as modified.
/// </summary>
public sealed record SelectionState(IReadOnlyDictionary<string, string> Previous, IReadOnlyDictionary<string, string> Current)
{
    public bool IsModified(string node) =>
        !Previous.TryGetValue(node, out var before) || !Current.TryGetValue(node, out var now) || before != now;
}
