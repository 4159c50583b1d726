using System.Globalization;
using System.Text;
using F = MetricCompiler.Execution.Reports.ReportFormat;

namespace MetricCompiler.Execution.Docs;

/// <summary>
/// The lineage graph as inline SVG: one <c>&lt;a class="node"&gt;</c> per vertex (linking to its page) and one
/// <c>&lt;path class="edge"&gt;</c> per dependency, drawn from the reader to what it reads left to right. Colours
/// are presentation attributes, so the drawing needs no stylesheet. Deterministic.
/// </summary>
public static class LineageSvg
{
    private static readonly (LineageKind Kind, string Name, string Fill, string Stroke)[] Styles =
    [
        (LineageKind.Source, "source", "#eff2f5", "#59636e"),
        (LineageKind.Staging, "staging", "#ddf4ff", "#0969da"),
        (LineageKind.Model, "SQL model", "#fbefff", "#8250df"),
        (LineageKind.Metric, "metric", "#dafbe1", "#1a7f37"),
        (LineageKind.MetricTable, "metric table", "#d8f3ee", "#0e7c6b"),
        (LineageKind.Experiment, "experiment table", "#fff1e5", "#bc4c00"),
        (LineageKind.Readout, "readout", "#ffebe9", "#cf222e"),
    ];

    /// <param name="toRoot">The relative prefix from the page that embeds the drawing back to the site's root.</param>
    public static string Render(LineageGraph graph, LineageLayout layout, string toRoot, string? highlight = null)
    {
        var o = new StringBuilder();
        o.Append($"<svg class=\"lineage\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {N(layout.Width)} {N(layout.Height)}\" width=\"{N(layout.Width)}\" height=\"{N(layout.Height)}\" ");
        o.Append($"role=\"img\" aria-labelledby=\"lineage-title\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, 'Liberation Sans', sans-serif\">\n");
        o.Append($"<title id=\"lineage-title\">Lineage: {graph.Nodes.Count} nodes, {graph.Edges.Count} dependencies</title>\n");

        o.Append("<g class=\"legend\" font-size=\"12\">\n");
        var x = LineageLayout.Margin;
        foreach (var (_, name, fill, stroke) in Styles)
        {
            o.Append($"<rect x=\"{N(x)}\" y=\"12\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\"/>");
            o.Append($"<text x=\"{N(x + 20)}\" y=\"23.5\" fill=\"#1f2328\">{name}</text>\n");
            x += 34 + name.Length * 7;
        }

        o.Append("</g>\n<g class=\"edges\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.2\">\n");
        foreach (var edge in graph.Edges)
        {
            var from = layout.ById[edge.From];
            var to = layout.ById[edge.To];
            var x1 = from.X + LineageLayout.NodeWidth;
            var y1 = from.Y + LineageLayout.NodeHeight / 2;
            var x2 = to.X;
            var y2 = to.Y + LineageLayout.NodeHeight / 2;
            var bend = Math.Max(30, (x2 - x1) / 2);
            var marked = highlight is not null && (edge.From == highlight || edge.To == highlight);
            o.Append($"<path class=\"edge\" data-from=\"{X(edge.From)}\" data-to=\"{X(edge.To)}\" d=\"M{N(x1)},{N(y1)} C{N(x1 + bend)},{N(y1)} {N(x2 - bend)},{N(y2)} {N(x2)},{N(y2)}\"");
            o.Append(marked ? " stroke=\"#0969da\" stroke-width=\"2.4\"/>\n" : "/>\n");
        }

        o.Append("</g>\n<g class=\"nodes\">\n");
        foreach (var placed in layout.Nodes.OrderBy(p => p.Rank).ThenBy(p => p.Row))
        {
            var node = placed.Node;
            var style = Styles.First(s => s.Kind == node.Kind);
            var (first, second) = Lines(node);
            var marked = node.Id == highlight;
            o.Append($"<a class=\"node {KindClass(node.Kind)}\" href=\"{X(toRoot + node.Page)}\" data-id=\"{X(node.Id)}\" data-rank=\"{placed.Rank}\">");
            o.Append($"<title>{X(node.Name)}: {X(node.Detail)}</title>");
            o.Append($"<rect x=\"{N(placed.X)}\" y=\"{N(placed.Y)}\" width=\"{N(LineageLayout.NodeWidth)}\" height=\"{N(LineageLayout.NodeHeight)}\" rx=\"6\" fill=\"{style.Fill}\" stroke=\"{style.Stroke}\" stroke-width=\"{(marked ? "3" : "1.2")}\"/>");
            o.Append($"<text x=\"{N(placed.X + 10)}\" y=\"{N(placed.Y + 16)}\" font-size=\"12.5\" font-weight=\"600\" fill=\"#1f2328\">{X(first)}</text>");
            o.Append($"<text x=\"{N(placed.X + 10)}\" y=\"{N(placed.Y + 31)}\" font-size=\"10.5\" fill=\"#59636e\">{X(second)}</text></a>\n");
        }

        o.Append("</g>\n</svg>\n");
        return o.ToString();
    }

    public static string KindClass(LineageKind kind) => kind switch
    {
        LineageKind.MetricTable => "metric-table",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The two lines of a box: the name (an experiment table's split at its <c>__</c>) and what it is.</summary>
    private static (string First, string Second) Lines(LineageNode node)
    {
        const int fits = 24;
        var split = node.Name.IndexOf("__", StringComparison.Ordinal);
        if (node.Name.Length > fits && split > 0)
            return (Clip(node.Name[..split], fits), Clip(node.Name[split..], 30));
        return (Clip(node.Name, fits + 2), Clip(node.Detail, 34));
    }

    private static string Clip(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "\u2026";

    private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string X(string text) => F.Html(text);
}
