namespace MetricCompiler.Planning;

/// <summary>The plan's nodes in a deterministic dependency order (every node after everything it depends on).</summary>
public sealed class ExecutionPlan
{
    private readonly Dictionary<string, PlanNode> _byName;

    public ExecutionPlan(IEnumerable<PlanNode> nodes)
    {
        var list = nodes.ToList();
        _byName = list.ToDictionary(n => n.Name, StringComparer.Ordinal);
        Nodes = TopologicalOrder(list);
    }

    public IReadOnlyList<PlanNode> Nodes { get; }

    public PlanNode this[string name] => _byName[name];

    public bool Contains(string name) => _byName.ContainsKey(name);

    public IReadOnlyList<PlanNode> Children(string name) =>
        Nodes.Where(n => n.DependsOn.Contains(name, StringComparer.Ordinal)).ToList();

    public IReadOnlySet<string> Ancestors(string name)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(_byName[name].DependsOn);
        while (stack.Count > 0)
        {
            var next = stack.Pop();
            if (result.Add(next))
                foreach (var dependency in _byName[next].DependsOn)
                    stack.Push(dependency);
        }

        return result;
    }

    public IReadOnlySet<string> Descendants(string name)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([name]);
        while (stack.Count > 0)
        {
            foreach (var child in Children(stack.Pop()))
                if (result.Add(child.Name))
                    stack.Push(child.Name);
        }

        return result;
    }

    /// <summary>Kahn's algorithm, taking ready nodes in name order so the result never depends on input order.</summary>
    private static IReadOnlyList<PlanNode> TopologicalOrder(List<PlanNode> nodes)
    {
        var byName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var pending = nodes.ToDictionary(n => n.Name, n => n.DependsOn.Count(byName.ContainsKey), StringComparer.Ordinal);
        var ready = new SortedSet<string>(pending.Where(p => p.Value == 0).Select(p => p.Key), StringComparer.Ordinal);
        var order = new List<PlanNode>();
        while (ready.Count > 0)
        {
            var name = ready.Min!;
            ready.Remove(name);
            order.Add(byName[name]);
            foreach (var child in nodes.Where(n => n.DependsOn.Contains(name, StringComparer.Ordinal)))
            {
                if (--pending[child.Name] == 0)
                    ready.Add(child.Name);
            }
        }

        if (order.Count != nodes.Count)
        {
            var stuck = nodes.Select(n => n.Name).Except(order.Select(o => o.Name)).Order(StringComparer.Ordinal);
            throw new InvalidOperationException($"the plan has a dependency cycle among: {string.Join(", ", stuck)}");
        }

        return order;
    }
}
