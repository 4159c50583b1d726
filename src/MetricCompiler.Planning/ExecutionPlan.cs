using QuikGraph;

namespace MetricCompiler.Planning;

/// <summary>A dependency cycle among plan nodes, with the path that closes it.</summary>
public sealed class PlanCycleException(IReadOnlyList<string> path)
    : Exception($"the plan has a dependency cycle: {string.Join(" -> ", path)}")
{
    public IReadOnlyList<string> Path => path;
}

/// <summary>
/// The plan's nodes as a DAG (QuikGraph), in a deterministic dependency order: every node after everything it depends
/// on, ready nodes taken in name order so the order never depends on the order nodes were added.
/// </summary>
public sealed class ExecutionPlan
{
    private readonly Dictionary<string, PlanNode> _byName;
    private readonly BidirectionalGraph<string, SEquatableEdge<string>> _graph = new(allowParallelEdges: false);

    public ExecutionPlan(IEnumerable<PlanNode> nodes)
    {
        var list = nodes.ToList();
        _byName = new Dictionary<string, PlanNode>(list.Count, StringComparer.Ordinal);
        foreach (var node in list)
        {
            if (!_byName.TryAdd(node.Name, node))
                throw new ArgumentException($"two plan nodes are named `{node.Name}`", nameof(nodes));
            _graph.AddVertex(node.Name);
        }

        foreach (var node in list)
            foreach (var dependency in node.DependsOn.Where(_byName.ContainsKey).Distinct(StringComparer.Ordinal))
                _graph.AddEdge(new SEquatableEdge<string>(dependency, node.Name));
        Nodes = TopologicalOrder();
    }

    public IReadOnlyList<PlanNode> Nodes { get; }

    /// <summary>The project's data tests, in name order.</summary>
    public IReadOnlyList<PlannedTest> Tests { get; init; } = [];

    public PlanNode this[string name] => _byName[name];

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The nodes that read <paramref name="name"/> directly, in run order.</summary>
    public IReadOnlyList<PlanNode> Children(string name) =>
        _graph.OutEdges(name).Select(e => _byName[e.Target]).OrderBy(n => Position(n.Name)).ToList();

    public IReadOnlySet<string> Ancestors(string name) => Reach(name, v => _graph.InEdges(v).Select(e => e.Source));

    public IReadOnlySet<string> Descendants(string name) => Reach(name, v => _graph.OutEdges(v).Select(e => e.Target));

    private Dictionary<string, int>? _positions;

    private int Position(string name)
    {
        _positions ??= Nodes.Select((n, i) => (n.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        return _positions[name];
    }

    private static HashSet<string> Reach(string start, Func<string, IEnumerable<string>> next)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(next(start));
        while (stack.Count > 0)
        {
            var vertex = stack.Pop();
            if (result.Add(vertex))
                foreach (var neighbour in next(vertex))
                    stack.Push(neighbour);
        }

        return result;
    }

    /// <summary>Kahn's algorithm over the graph, O((V + E) log V); a cycle is reported with its path.</summary>
    private IReadOnlyList<PlanNode> TopologicalOrder()
    {
        var pending = _graph.Vertices.ToDictionary(v => v, v => _graph.InDegree(v), StringComparer.Ordinal);
        var ready = new SortedSet<string>(pending.Where(p => p.Value == 0).Select(p => p.Key), StringComparer.Ordinal);
        var order = new List<PlanNode>(pending.Count);
        while (ready.Count > 0)
        {
            var name = ready.Min!;
            ready.Remove(name);
            order.Add(_byName[name]);
            foreach (var edge in _graph.OutEdges(name))
                if (--pending[edge.Target] == 0)
                    ready.Add(edge.Target);
        }

        if (order.Count != pending.Count)
        {
            var released = order.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            throw new PlanCycleException(CyclePath(pending.Where(p => p.Value > 0).Select(p => p.Key).Order(StringComparer.Ordinal).First(), released));
        }

        return order;
    }

    /// <summary>Walks dependencies from a node left over by Kahn's algorithm until a node repeats: that is a cycle.</summary>
    private List<string> CyclePath(string start, HashSet<string> released)
    {
        var path = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var current = start;
        while (!index.ContainsKey(current))
        {
            index[current] = path.Count;
            path.Add(current);
            // Follow an input that is itself stuck (it has one: the node was never released).
            current = _graph.InEdges(current).Select(e => e.Source).Where(s => !released.Contains(s)).Order(StringComparer.Ordinal).First();
        }

        var cycle = path.Skip(index[current]).Append(current).ToList();
        cycle.Reverse();
        return cycle;
    }
}
