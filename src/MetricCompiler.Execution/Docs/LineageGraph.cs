using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;

namespace MetricCompiler.Execution.Docs;

/// <summary>What a vertex of the lineage graph stands for; the order is the order of the legend.</summary>
public enum LineageKind
{
    Source,
    Staging,
    Model,
    Metric,
    MetricTable,
    Experiment,
    Readout,
}

/// <summary>A vertex of the lineage graph: its id (<c>kind:name</c>), its name, and the site page that describes it.</summary>
public sealed record LineageNode(string Id, string Name, LineageKind Kind, string Page, string Detail);

/// <summary><paramref name="To"/> reads <paramref name="From"/>.</summary>
public sealed record LineageEdge(string From, string To);

/// <summary>
/// The project's lineage: every node of the compiled plan (staging, SQL models, metric tables, experiment tables, the
/// readout), the sources they read, and the metrics between them: a metric reads the staging of its sources (or the
/// metrics it is computed from) and feeds its <c>fct_</c> table and the unit-metrics table of every experiment that
/// analyses it. Nodes and edges are in ordinal order of their ids, so the same plan gives the same graph.
/// </summary>
public sealed class LineageGraph
{
    private LineageGraph(IReadOnlyList<LineageNode> nodes, IReadOnlyList<LineageEdge> edges)
    {
        Nodes = nodes;
        Edges = edges;
    }

    public IReadOnlyList<LineageNode> Nodes { get; }

    public IReadOnlyList<LineageEdge> Edges { get; }

    public static string SourceId(string source) => $"source:{source}";

    public static string NodeId(string node) => $"node:{node}";

    public static string MetricId(string metric) => $"metric:{metric}";

    public static LineageGraph Build(BoundProject project, ExecutionPlan plan)
    {
        var nodes = new Dictionary<string, LineageNode>(StringComparer.Ordinal);
        var edges = new HashSet<LineageEdge>();
        var sourceOfTable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in project.Sources.Where(s => s.Definition.Model is null))
        {
            nodes[SourceId(source.Name)] = new LineageNode(SourceId(source.Name), source.Name, LineageKind.Source, DocsPaths.Source(source.Name), source.Table);
            sourceOfTable.TryAdd(source.Table, source.Name);
        }

        foreach (var node in plan.Nodes)
        {
            var id = NodeId(node.Name);
            nodes[id] = new LineageNode(id, node.Name, KindOf(node.Kind), DocsPaths.Node(node.Name), node.KindName + (node.IsView ? " (view)" : ""));
            foreach (var dependency in node.DependsOn.Where(plan.Contains))
                edges.Add(new LineageEdge(NodeId(dependency), id));
            foreach (var table in node.SourceTables)
            {
                if (!sourceOfTable.TryGetValue(table, out var source))
                {
                    // A table no source declares (a SQL model's raw read): drawn as a source of its own name.
                    source = table;
                    nodes.TryAdd(SourceId(table), new LineageNode(SourceId(table), table, LineageKind.Source, DocsPaths.Sources, "table"));
                }

                edges.Add(new LineageEdge(SourceId(source), id));
            }
        }

        foreach (var metric in project.Metrics)
        {
            var id = MetricId(metric.Name);
            nodes[id] = new LineageNode(id, metric.Name, LineageKind.Metric, DocsPaths.Metric(metric.Name), $"metric ({metric.Type.Name})");
            foreach (var input in metric.Inputs)
                edges.Add(new LineageEdge(MetricId(input.Name), id));
            var throughInputs = metric.Inputs.SelectMany(i => i.Sources).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var source in metric.Sources.Where(s => !throughInputs.Contains(s.Name)))
            {
                var staging = NodeNames.Staging(source.Name);
                edges.Add(new LineageEdge(plan.Contains(staging) ? NodeId(staging) : SourceId(source.Name), id));
            }

            if (plan.Contains(NodeNames.MetricTable(metric.Name)))
                edges.Add(new LineageEdge(id, NodeId(NodeNames.MetricTable(metric.Name))));
        }

        foreach (var experiment in project.Experiments)
            if (plan.Contains(NodeNames.UnitMetrics(experiment.Id)))
                foreach (var metric in experiment.Metrics)
                    edges.Add(new LineageEdge(MetricId(metric.Metric.Name), NodeId(NodeNames.UnitMetrics(experiment.Id))));

        edges.RemoveWhere(e => !nodes.ContainsKey(e.From) || !nodes.ContainsKey(e.To));
        return new LineageGraph(
            nodes.Values.OrderBy(n => n.Id, StringComparer.Ordinal).ToList(),
            edges.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal).ToList());
    }

    private static LineageKind KindOf(NodeKind kind) => kind switch
    {
        NodeKind.Staging => LineageKind.Staging,
        NodeKind.Model => LineageKind.Model,
        NodeKind.MetricTable => LineageKind.MetricTable,
        NodeKind.Readout => LineageKind.Readout,
        _ => LineageKind.Experiment,
    };
}
