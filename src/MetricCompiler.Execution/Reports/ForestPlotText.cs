using System.Text;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Execution.Reports;

/// <summary>
/// The forest plot in monospace text, for Markdown: GitHub (PR comments, wikis) strips inline SVG, a fenced code block
/// renders everywhere. Same rows, order and axis rules as <see cref="ForestPlotSvg"/>.
/// </summary>
public static class ForestPlotText
{
    private const int LabelWidth = 34;
    private const int PlotWidth = 49;

    public static string Render(ExperimentReadout readout, ExperimentDefinition? experiment)
    {
        var model = ForestModel.Of(readout, experiment, targetTicks: 5);
        var scale = model.Scale;
        var zero = Column(scale, 0);
        var lines = new List<string>();
        foreach (var (role, rows) in model.Groups)
        {
            lines.Add(ReportFormat.RoleHeading(role).ToUpperInvariant());
            foreach (var row in rows)
                lines.Add(Row(row, scale, zero, model.ShowVariant));
        }

        var axis = new char[PlotWidth];
        Array.Fill(axis, '-');
        var labels = new char[PlotWidth + 8];
        Array.Fill(labels, ' ');
        var lastEnd = -2;
        foreach (var tick in scale.Ticks())
        {
            var col = Column(scale, tick);
            axis[col] = col == zero ? '|' : '+';
            var text = ReportFormat.TickPercent(tick);
            var start = Math.Clamp(col - text.Length / 2, 0, labels.Length - text.Length);
            if (start <= lastEnd + 1)
                continue;
            text.CopyTo(0, labels, start, text.Length);
            lastEnd = start + text.Length - 1;
        }

        lines.Add(new string(' ', LabelWidth) + new string(axis));
        lines.Add((new string(' ', LabelWidth) + new string(labels)).TrimEnd());
        lines.Add("");
        lines.Add($"o estimate   [---] {ReportFormat.IntervalName(readout.Settings, abbreviated: true)}   | no change   : guardrail margin");
        return string.Join("\n", lines.Select(l => l.TrimEnd())) + "\n";
    }

    private static string Row(ForestRow row, LiftScale scale, int zero, bool showVariant)
    {
        var m = row.Metric;
        // Raw text is safe inside a fence; only a backtick could close it.
        var label = (ReportFormat.OneLine(m.Label) + (showVariant ? $" / {m.Comparison.Variant}" : "")).Replace('`', '\'');
        if (label.Length > LabelWidth - 3)
            label = label[..(LabelWidth - 4)] + "~";
        var plot = new char[PlotWidth];
        Array.Fill(plot, ' ');
        plot[zero] = '|';
        if (row.Margin is { } margin)
            plot[Column(scale, margin)] = ':';
        if (row.Low is { } low && row.High is { } high)
        {
            int from = Column(scale, low), to = Column(scale, high);
            for (var i = from; i <= to; i++)
                if (plot[i] != '|')
                    plot[i] = '-';
            plot[from] = '[';
            plot[to] = ']';
        }

        if (row.Lift is { } lift)
            plot[Column(scale, lift)] = 'o';
        var verdict = row.Verdict switch
        {
            LiftVerdict.Better => "better",
            LiftVerdict.Worse => "WORSE",
            _ => "n.s.",
        };
        var values = $"{ReportFormat.Percent(row.Lift),8} {ReportFormat.Interval(row.Low, row.High),-20} {verdict}";
        return ("  " + label).PadRight(LabelWidth) + new string(plot) + "  " + values;
    }

    private static int Column(LiftScale scale, double value) =>
        Math.Clamp((int)Math.Round(scale.Map(value, 0, PlotWidth - 1), MidpointRounding.AwayFromZero), 0, PlotWidth - 1);
}
