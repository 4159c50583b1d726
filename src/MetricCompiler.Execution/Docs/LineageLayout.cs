using QuikGraph;
using QuikGraph.Algorithms;

namespace MetricCompiler.Execution.Docs;

/// <summary>A lineage vertex placed in the drawing: its column (rank), its row in the column, its top-left corner.</summary>
public sealed record PlacedNode(LineageNode Node, int Rank, int Row, double X, double Y);

/// <summary>
/// A small layered layout of the lineage DAG, left to right: a vertex's rank is the length of the longest path that
/// reaches it (computed in the DAG's topological order, so every edge points to a later column); rows within a column
/// are ordered by the barycenter of their neighbours' rows over a few down and up sweeps, ties by kind then name.
/// Pure arithmetic on sorted input: the same graph always gives the same coordinates.
/// </summary>
public sealed class LineageLayout
{
    public const double NodeWidth = 220;
    public const double NodeHeight = 38;
    public const double ColumnGap = 70;
    public const double RowGap = 12;
    public const double Margin = 16;
    public const double Top = 44;

    private LineageLayout(IReadOnlyList<PlacedNode> nodes, double width, double height)
    {
        Nodes = nodes;
        Width = width;
        Height = height;
        ById = nodes.ToDictionary(n => n.Node.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<PlacedNode> Nodes { get; }

    public IReadOnlyDictionary<string, PlacedNode> ById { get; }

    public double Width { get; }

    public double Height { get; }

    public int Ranks => Nodes.Count == 0 ? 0 : Nodes.Max(n => n.Rank) + 1;

    public static LineageLayout Compute(LineageGraph lineage)
    {
        var graph = new BidirectionalGraph<string, SEquatableEdge<string>>(allowParallelEdges: false);
        foreach (var node in lineage.Nodes)
            graph.AddVertex(node.Id);
        foreach (var edge in lineage.Edges)
            graph.AddEdge(new SEquatableEdge<string>(edge.From, edge.To));

        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var vertex in graph.TopologicalSort())
            rank[vertex] = graph.InEdges(vertex).Select(e => rank[e.Source] + 1).DefaultIfEmpty(0).Max();

        var byId = lineage.Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        var columns = lineage.Nodes
            .GroupBy(n => rank[n.Id])
            .OrderBy(g => g.Key)
            .Select(g => g.OrderBy(n => n.Kind).ThenBy(n => n.Name, StringComparer.Ordinal).Select(n => n.Id).ToList())
            .ToList();

        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        void Number(List<string> column)
        {
            for (var i = 0; i < column.Count; i++)
                row[column[i]] = i;
        }

        columns.ForEach(Number);
        var tallest = columns.Count == 0 ? 0 : columns.Max(c => c.Count);
        // A row in units of rows from the top of the drawing: columns are centred, so row 0 of a short column is lower.
        double Position(string id) => (tallest - columns[rank[id]].Count) / 2.0 + row[id];
        for (var sweep = 0; sweep < 4; sweep++)
        {
            var down = sweep % 2 == 0;
            var indexes = Enumerable.Range(0, columns.Count);
            foreach (var c in down ? indexes.Skip(1) : indexes.Reverse().Skip(1))
            {
                var column = columns[c];
                columns[c] = column
                    .OrderBy(id => Barycenter(down ? graph.InEdges(id).Select(e => e.Source) : graph.OutEdges(id).Select(e => e.Target), Position, Position(id)))
                    .ThenBy(id => row[id])
                    .ToList();
                Number(columns[c]);
            }
        }

        var contentHeight = tallest * NodeHeight + Math.Max(0, tallest - 1) * RowGap;
        var placed = new List<PlacedNode>();
        for (var c = 0; c < columns.Count; c++)
        {
            var height = columns[c].Count * NodeHeight + Math.Max(0, columns[c].Count - 1) * RowGap;
            var top = Top + Math.Round((contentHeight - height) / 2);
            for (var r = 0; r < columns[c].Count; r++)
                placed.Add(new PlacedNode(byId[columns[c][r]], c, r, Margin + c * (NodeWidth + ColumnGap), top + r * (NodeHeight + RowGap)));
        }

        var width = Margin * 2 + Math.Max(1, columns.Count) * NodeWidth + Math.Max(0, columns.Count - 1) * ColumnGap;
        return new LineageLayout(placed.OrderBy(p => p.Node.Id, StringComparer.Ordinal).ToList(), width, Top + contentHeight + Margin);
    }

    /// <summary>The mean position of a vertex's neighbours on the side just placed; a vertex without any keeps its own.</summary>
    private static double Barycenter(IEnumerable<string> neighbours, Func<string, double> position, double own)
    {
        var rows = neighbours.Select(position).ToList();
        return rows.Count == 0 ? own : rows.Average();
    }
}
