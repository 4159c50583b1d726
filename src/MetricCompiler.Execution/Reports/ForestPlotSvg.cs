using System.Globalization;
using System.Text;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Execution.Reports;

/// <summary>One row of a forest plot: a metric compared between one treatment variant and control.</summary>
internal sealed record ForestRow(MetricReadout Metric, LiftVerdict Verdict, double? Margin)
{
    public double? Lift => Finite(Metric.Comparison.RelativeLift);

    public double? Low => Finite(Metric.Comparison.RelativeCiLow);

    public double? High => Finite(Metric.Comparison.RelativeCiHigh);

    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? x : null;
}

/// <summary>The rows of a forest plot, grouped by role, and the axis that holds all of them.</summary>
internal sealed record ForestModel(IReadOnlyList<(MetricRole Role, IReadOnlyList<ForestRow> Rows)> Groups, LiftScale Scale, bool ShowVariant)
{
    public static ForestModel Of(ExperimentReadout r, ExperimentDefinition? experiment, int targetTicks)
    {
        var rows = ReportFormat.OrderedMetrics(r)
            .Select(m => new ForestRow(m, ReportFormat.Verdict(m), ReportFormat.SignedMargin(ReportFormat.Guardrail(experiment, m.Metric))))
            .ToList();
        var groups = rows.GroupBy(row => row.Metric.Role).OrderBy(g => g.Key)
            .Select(g => (g.Key, (IReadOnlyList<ForestRow>)g.ToList())).ToList();
        var values = rows.SelectMany(row => new[] { row.Lift, row.Low, row.High, row.Margin }).OfType<double>();
        var showVariant = rows.Select(row => row.Metric.Comparison.Variant).Distinct(StringComparer.Ordinal).Count() > 1;
        return new ForestModel(groups, LiftScale.For(values, targetTicks), showVariant);
    }
}

/// <summary>
/// The forest plot as one inline SVG: one row per metric x treatment variant (grouped primary, secondary, guardrails),
/// the relative lift as a dot on its interval coloured by verdict, a zero line, each guardrail's margin as a dashed mark,
/// and a percent axis. Every interval is a <c>g.interval</c> carrying its figures as <c>data-*</c> attributes.
/// Deterministic: the same readout gives the same bytes.
/// </summary>
public static class ForestPlotSvg
{
    public const double Width = 1000;
    public const double PlotLeft = 290;
    public const double PlotRight = 770;

    private const double LabelX = 16;
    private const double ValueX = 790;
    private const double LegendY = 20;
    private const double HeaderY = 52;
    private const double FirstGroupY = 64;
    private const double GroupHeight = 28;
    private const double RowHeight = 30;
    private const int LabelChars = 36;

    public const string BetterColour = "#1a7f37";
    public const string WorseColour = "#cf222e";
    public const string NeutralColour = "#6e7781";
    public const string MarginColour = "#bc4c00";
    private const string Ink = "#1f2328";
    private const string Muted = "#59636e";
    private const string Grid = "#e1e4e8";
    private const string Zebra = "#f6f8fa";
    private const string Font = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif";

    public static string Colour(LiftVerdict verdict) => verdict switch
    {
        LiftVerdict.Better => BetterColour,
        LiftVerdict.Worse => WorseColour,
        _ => NeutralColour,
    };

    public static string Render(ExperimentReadout readout, ExperimentDefinition? experiment)
    {
        var model = ForestModel.Of(readout, experiment, targetTicks: 8);
        var scale = model.Scale;
        var rowCount = model.Groups.Sum(g => g.Rows.Count);
        var rowsBottom = FirstGroupY + model.Groups.Count * GroupHeight + rowCount * RowHeight;
        var axisY = rowsBottom + 6;
        var height = axisY + 58;
        var interval = ReportFormat.IntervalName(readout.Settings, abbreviated: true);

        var s = new StringBuilder();
        s.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"forest-plot\" width=\"{C(Width)}\" height=\"{C(height)}\" viewBox=\"0 0 {C(Width)} {C(height)}\"");
        s.Append($" role=\"img\" font-family=\"{Font}\" font-size=\"13\" data-scale-min=\"{R(scale.Min)}\" data-scale-max=\"{R(scale.Max)}\"");
        s.Append($" data-plot-left=\"{C(PlotLeft)}\" data-plot-right=\"{C(PlotRight)}\">\n");
        s.Append($"<title>Relative lift vs control with {X(interval)}, {X(readout.ExperimentId)}</title>\n");
        s.Append($"<rect x=\"0\" y=\"0\" width=\"{C(Width)}\" height=\"{C(height)}\" fill=\"#ffffff\"/>\n");

        Legend(s);
        s.Append($"<text x=\"{C(LabelX)}\" y=\"{C(HeaderY)}\" font-size=\"12\" font-weight=\"600\" fill=\"{Muted}\">Metric</text>\n");
        s.Append($"<text x=\"{C(ValueX)}\" y=\"{C(HeaderY)}\" font-size=\"12\" font-weight=\"600\" fill=\"{Muted}\">Lift [{X(interval)}]</text>\n");
        s.Append($"<line x1=\"0\" y1=\"{C(HeaderY + 7)}\" x2=\"{C(Width)}\" y2=\"{C(HeaderY + 7)}\" stroke=\"{Grid}\" stroke-width=\"1\"/>\n");

        // Zebra stripes first, then the grid and zero line over them, then the rows.
        var y = FirstGroupY;
        var stripes = new StringBuilder();
        var rows = new StringBuilder();
        var index = 0;
        foreach (var (role, groupRows) in model.Groups)
        {
            rows.Append($"<text class=\"group\" x=\"{C(LabelX)}\" y=\"{C(y + 19)}\" font-size=\"11\" font-weight=\"700\" letter-spacing=\"0.06em\" fill=\"{Muted}\">{X(ReportFormat.RoleHeading(role).ToUpperInvariant())}</text>\n");
            y += GroupHeight;
            foreach (var row in groupRows)
            {
                var cy = y + RowHeight / 2;
                if (index++ % 2 == 0)
                    stripes.Append($"<rect x=\"0\" y=\"{C(y)}\" width=\"{C(Width)}\" height=\"{C(RowHeight)}\" fill=\"{Zebra}\"/>\n");
                Row(rows, row, cy, scale, model.ShowVariant, readout.Control);
                y += RowHeight;
            }
        }

        s.Append(stripes);
        foreach (var tick in scale.Ticks())
        {
            var x = scale.Map(tick, PlotLeft, PlotRight);
            var zero = Math.Abs(tick) < 1e-12;
            s.Append($"<g class=\"tick\" data-value=\"{R(tick)}\">");
            s.Append($"<line x1=\"{C(x)}\" y1=\"{C(FirstGroupY)}\" x2=\"{C(x)}\" y2=\"{C(axisY + 5)}\" stroke=\"{(zero ? "#424a53" : Grid)}\" stroke-width=\"{(zero ? "1.5" : "1")}\"/>");
            s.Append($"<text x=\"{C(x)}\" y=\"{C(axisY + 21)}\" font-size=\"12\" fill=\"{(zero ? Ink : Muted)}\" text-anchor=\"middle\">{X(ReportFormat.TickPercent(tick))}</text>");
            s.Append("</g>\n");
        }

        s.Append($"<line class=\"axis\" x1=\"{C(PlotLeft)}\" y1=\"{C(axisY)}\" x2=\"{C(PlotRight)}\" y2=\"{C(axisY)}\" stroke=\"#8c959f\" stroke-width=\"1\"/>\n");
        s.Append(rows);
        s.Append($"<text x=\"{C((PlotLeft + PlotRight) / 2)}\" y=\"{C(axisY + 43)}\" font-size=\"12\" fill=\"{Muted}\" text-anchor=\"middle\">");
        s.Append($"Relative lift vs {X(readout.Control)} (dot: estimate, bar: {X(interval)})</text>\n");
        s.Append("</svg>\n");
        return s.ToString();
    }

    private static void Legend(StringBuilder s)
    {
        var x = LabelX;
        foreach (var (colour, text) in new[] { (BetterColour, "Significantly better"), (WorseColour, "Significantly worse"), (NeutralColour, "Not significant") })
        {
            s.Append($"<g class=\"legend\"><line x1=\"{C(x)}\" y1=\"{C(LegendY)}\" x2=\"{C(x + 24)}\" y2=\"{C(LegendY)}\" stroke=\"{colour}\" stroke-width=\"2.5\"/>");
            s.Append($"<circle cx=\"{C(x + 12)}\" cy=\"{C(LegendY)}\" r=\"4.5\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>");
            s.Append($"<text x=\"{C(x + 32)}\" y=\"{C(LegendY + 4.5)}\" font-size=\"12\" fill=\"{Ink}\">{text}</text></g>\n");
            x += 32 + text.Length * 6.6 + 26;
        }

        s.Append($"<g class=\"legend\"><line x1=\"{C(x + 12)}\" y1=\"{C(LegendY - 9)}\" x2=\"{C(x + 12)}\" y2=\"{C(LegendY + 9)}\" stroke=\"{MarginColour}\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>");
        s.Append($"<text x=\"{C(x + 24)}\" y=\"{C(LegendY + 4.5)}\" font-size=\"12\" fill=\"{Ink}\">Guardrail margin (tolerated harm)</text></g>\n");
    }

    private static void Row(StringBuilder s, ForestRow row, double cy, LiftScale scale, bool showVariant, string control)
    {
        var m = row.Metric;
        var c = m.Comparison;
        var colour = Colour(row.Verdict);
        var label = ReportFormat.OneLine(m.Label);
        var variant = showVariant ? c.Variant : null;
        var room = LabelChars - (variant is null ? 0 : variant.Length + 3);
        var shown = label.Length > room ? label[..Math.Max(1, room - 1)].TrimEnd() + "\u2026" : label;
        var values = $"{ReportFormat.Percent(row.Lift)} {ReportFormat.Interval(row.Low, row.High)}";

        s.Append($"<text class=\"label\" x=\"{C(LabelX)}\" y=\"{C(cy + 4.5)}\" fill=\"{Ink}\"><title>{X(label)} ({X(m.Metric)}): {X(c.Variant)} vs {X(control)}</title>{X(shown)}");
        if (variant is not null)
            s.Append($"<tspan fill=\"{Muted}\"> \u00b7 {X(variant)}</tspan>");
        s.Append("</text>\n");

        if (row.Margin is { } margin)
        {
            var mx = scale.Map(margin, PlotLeft, PlotRight);
            s.Append($"<line class=\"margin\" data-metric=\"{X(m.Metric)}\" data-variant=\"{X(c.Variant)}\" data-margin=\"{R(margin)}\" x1=\"{C(mx)}\" y1=\"{C(cy - 11)}\" x2=\"{C(mx)}\" y2=\"{C(cy + 11)}\"");
            s.Append($" stroke=\"{MarginColour}\" stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>guardrail margin {X(ReportFormat.Percent(margin))}</title></line>\n");
        }

        if (row.Lift is { } lift)
        {
            s.Append($"<g class=\"interval\" data-metric=\"{X(m.Metric)}\" data-variant=\"{X(c.Variant)}\" data-role=\"{ReportFormat.RoleName(m.Role)}\"");
            s.Append($" data-verdict=\"{ReportFormat.VerdictName(row.Verdict)}\" data-lift=\"{R(lift)}\"");
            if (row.Low is { } lo && row.High is { } hi)
            {
                s.Append($" data-ci-low=\"{R(lo)}\" data-ci-high=\"{R(hi)}\">");
                s.Append($"<title>{X(label)}, {X(c.Variant)}: {X(values)}, {X(ReportFormat.Result(m))}</title>");
                double x1 = scale.Map(lo, PlotLeft, PlotRight), x2 = scale.Map(hi, PlotLeft, PlotRight);
                s.Append($"<line class=\"ci\" x1=\"{C(x1)}\" y1=\"{C(cy)}\" x2=\"{C(x2)}\" y2=\"{C(cy)}\" stroke=\"{colour}\" stroke-width=\"2.5\"/>");
                s.Append($"<line class=\"whisker\" x1=\"{C(x1)}\" y1=\"{C(cy - 6)}\" x2=\"{C(x1)}\" y2=\"{C(cy + 6)}\" stroke=\"{colour}\" stroke-width=\"2\"/>");
                s.Append($"<line class=\"whisker\" x1=\"{C(x2)}\" y1=\"{C(cy - 6)}\" x2=\"{C(x2)}\" y2=\"{C(cy + 6)}\" stroke=\"{colour}\" stroke-width=\"2\"/>");
            }
            else
            {
                s.Append($"><title>{X(label)}, {X(c.Variant)}: {X(values)}, {X(ReportFormat.Result(m))}</title>");
            }

            s.Append($"<circle class=\"estimate\" cx=\"{C(scale.Map(lift, PlotLeft, PlotRight))}\" cy=\"{C(cy)}\" r=\"5\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>");
            s.Append("</g>\n");
        }

        var valueColour = row.Verdict == LiftVerdict.NotSignificant ? Ink : colour;
        s.Append($"<text class=\"value\" x=\"{C(ValueX)}\" y=\"{C(cy + 4.5)}\" fill=\"{Muted}\"><tspan font-weight=\"600\" fill=\"{valueColour}\">{X(ReportFormat.Percent(row.Lift))}</tspan> {X(ReportFormat.Interval(row.Low, row.High))}</text>\n");
    }

    private static string C(double value) => ReportFormat.Coordinate(value);

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string X(string? text) => ReportFormat.Html(text);
}
