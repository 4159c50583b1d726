using System.Globalization;
using System.Xml.Linq;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Execution.Reports;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>
/// The forest plot read back as XML: one interval per metric x treatment variant, drawn where its lift and interval
/// fall on the axis (the scale is recovered from the tick marks, not from the renderer's constants).
/// </summary>
public sealed class ForestPlotSvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XElement Plot(ExperimentReadout? readout = null) =>
        XElement.Parse(ForestPlotSvg.Render(readout ?? ReportSamples.Readout(), ReportSamples.Definition()));

    private static IEnumerable<XElement> WithClass(XElement root, string name, string cssClass) =>
        root.Descendants(Svg + name).Where(e => (string?)e.Attribute("class") == cssClass);

    private static double D(XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

    /// <summary>x = a + b * value, fitted on the outermost ticks; every tick must sit on that line.</summary>
    private static Func<double, double> AxisFromTicks(XElement svg)
    {
        var ticks = WithClass(svg, "g", "tick").Select(t => (Value: D(t, "data-value"), X: D(t.Element(Svg + "line")!, "x1"), Label: t.Element(Svg + "text")!.Value)).ToList();
        Assert.True(ticks.Count >= 3, "an axis needs at least three ticks");
        var (first, last) = (ticks[0], ticks[^1]);
        var slope = (last.X - first.X) / (last.Value - first.Value);
        Assert.True(slope > 0, "lift must grow to the right");
        double Map(double value) => first.X + (value - first.Value) * slope;
        foreach (var tick in ticks)
        {
            Assert.Equal(Map(tick.Value), tick.X, 0.02);
            var percent = Math.Round(tick.Value * 100, 6);
            var expected = percent == 0 ? "0%" : (percent > 0 ? "+" : "") + percent.ToString("0.##", CultureInfo.InvariantCulture) + "%";
            Assert.Equal(expected, tick.Label);
        }

        Assert.Contains(ticks, t => t.Value == 0);
        return Map;
    }

    [Fact]
    public void One_interval_per_metric_and_treatment_variant()
    {
        var readout = ReportSamples.Readout();
        var intervals = WithClass(Plot(readout), "g", "interval").ToList();

        Assert.Equal(readout.Metrics.Count, intervals.Count);
        Assert.Equal(
            readout.Metrics.Select(m => $"{m.Metric}/{m.Comparison.Variant}").Order(StringComparer.Ordinal),
            intervals.Select(g => $"{g.Attribute("data-metric")!.Value}/{g.Attribute("data-variant")!.Value}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Dots_and_bars_sit_where_the_lift_and_interval_fall_on_the_axis()
    {
        var readout = ReportSamples.Readout();
        var svg = Plot(readout);
        var map = AxisFromTicks(svg);
        foreach (var m in readout.Metrics)
        {
            var c = m.Comparison;
            var g = WithClass(svg, "g", "interval").Single(e => e.Attribute("data-metric")!.Value == m.Metric && e.Attribute("data-variant")!.Value == c.Variant);
            var bar = g.Elements(Svg + "line").Single(e => (string?)e.Attribute("class") == "ci");
            var dot = g.Element(Svg + "circle")!;
            Assert.Equal(map(c.RelativeCiLow!.Value), D(bar, "x1"), 0.02);
            Assert.Equal(map(c.RelativeCiHigh!.Value), D(bar, "x2"), 0.02);
            Assert.Equal(map(c.RelativeLift!.Value), D(dot, "cx"), 0.02);
            Assert.Equal(D(bar, "y1"), D(dot, "cy"));
        }
    }

    [Fact]
    public void Intervals_are_coloured_by_verdict()
    {
        var intervals = WithClass(Plot(), "g", "interval").ToDictionary(g => $"{g.Attribute("data-metric")!.Value}/{g.Attribute("data-variant")!.Value}");
        var expected = new Dictionary<string, (string Verdict, string Colour)>
        {
            ["conversion/one_page"] = ("better", ForestPlotSvg.BetterColour),
            ["conversion/express"] = ("not-significant", ForestPlotSvg.NeutralColour),
            ["revenue_per_user/one_page"] = ("not-significant", ForestPlotSvg.NeutralColour),
            ["revenue_per_user/express"] = ("worse", ForestPlotSvg.WorseColour),
            ["latency/one_page"] = ("not-significant", ForestPlotSvg.NeutralColour),
            ["latency/express"] = ("worse", ForestPlotSvg.WorseColour),
        };
        foreach (var (key, (verdict, colour)) in expected)
        {
            Assert.Equal(verdict, intervals[key].Attribute("data-verdict")!.Value);
            Assert.Equal(colour, intervals[key].Element(Svg + "circle")!.Attribute("fill")!.Value);
            Assert.All(intervals[key].Elements(Svg + "line"), l => Assert.Equal(colour, l.Attribute("stroke")!.Value));
        }
    }

    [Fact]
    public void Guardrail_margins_are_dashed_marks_at_the_margin()
    {
        var svg = Plot();
        var map = AxisFromTicks(svg);
        var margins = WithClass(svg, "line", "margin").ToList();
        Assert.Equal(["latency/express", "latency/one_page"], margins.Select(l => $"{l.Attribute("data-metric")!.Value}/{l.Attribute("data-variant")!.Value}").Order(StringComparer.Ordinal));
        foreach (var line in margins)
        {
            Assert.Equal(map(0.05), D(line, "x1"), 0.02);
            Assert.Equal(D(line, "x1"), D(line, "x2"));
            Assert.False(string.IsNullOrEmpty((string?)line.Attribute("stroke-dasharray")));
        }

        // Without the definition the margin is unknown, so none is drawn.
        Assert.Empty(WithClass(XElement.Parse(ForestPlotSvg.Render(ReportSamples.Readout(), null)), "line", "margin"));
    }

    [Fact]
    public void Axis_holds_zero_every_interval_and_margin_with_room_to_spare()
    {
        var svg = Plot();
        var ticks = WithClass(svg, "g", "tick").Select(t => D(t, "data-value")).ToList();
        Assert.True(ticks.Min() < -0.12 && ticks.Max() > 0.128, $"axis {ticks.Min()}..{ticks.Max()} must hold -12% and +12.8%");
        Assert.InRange(ticks.Count, 4, 11);
    }

    [Fact]
    public void Labels_do_not_overlap_each_other_or_the_plot()
    {
        var svg = Plot(ReportSamples.Readout(conversionLabel: "Checkout conversion among users who reached the payment step at least once"));
        var labels = WithClass(svg, "text", "label").ToList();
        var values = WithClass(svg, "text", "value").ToList();
        Assert.Equal(6, labels.Count);
        Assert.Equal(6, values.Count);
        var ys = labels.Select(l => D(l, "y")).ToList();
        Assert.All(ys.Zip(ys.Skip(1)), p => Assert.True(p.Second - p.First >= 20, "rows closer than 20px"));
        // A long label is cut with an ellipsis before the plot starts (about 7px per character at 13px).
        static int Shown(XElement label) => label.Nodes().OfType<XText>().Sum(t => t.Value.Length) + label.Elements(Svg + "tspan").Sum(t => t.Value.Length);
        Assert.All(labels, l => Assert.True(D(l, "x") + Shown(l) * 7 <= ForestPlotSvg.PlotLeft, $"label runs into the plot: {l.Value}"));
        Assert.Contains(labels, l => l.Value.Contains('\u2026'));
        Assert.All(values, v => Assert.True(D(v, "x") > ForestPlotSvg.PlotRight));
    }

    [Fact]
    public void Has_a_legend_for_every_colour_and_the_margin()
    {
        var legend = string.Join(" ", WithClass(Plot(), "g", "legend").Select(g => g.Value));
        Assert.Contains("Significantly better", legend);
        Assert.Contains("Significantly worse", legend);
        Assert.Contains("Not significant", legend);
        Assert.Contains("Guardrail margin", legend);
    }

    [Fact]
    public void Is_deterministic_and_escapes_labels()
    {
        var hostile = ReportSamples.Readout(conversionLabel: "Conv <script>alert(1)</script> & \"co\"");
        var first = ForestPlotSvg.Render(hostile, ReportSamples.Definition());
        Assert.Equal(first, ForestPlotSvg.Render(ReportSamples.Readout(conversionLabel: "Conv <script>alert(1)</script> & \"co\""), ReportSamples.Definition()));
        Assert.DoesNotContain("<script>", first);
        var svg = XElement.Parse(first);
        Assert.Contains(WithClass(svg, "text", "label"), l => l.Value.StartsWith("Conv <script>", StringComparison.Ordinal));
    }

    [Fact]
    public void A_metric_without_a_lift_keeps_its_row_but_draws_no_interval()
    {
        var readout = ReportSamples.Readout();
        var undefined = readout.Metrics[1] with { Comparison = readout.Metrics[1].Comparison with { RelativeLift = null, RelativeCiLow = null, RelativeCiHigh = null } };
        var svg = Plot(readout with { Metrics = [readout.Metrics[0], undefined, .. readout.Metrics.Skip(2)] });
        Assert.Equal(5, WithClass(svg, "g", "interval").Count());
        Assert.Equal(6, WithClass(svg, "text", "label").Count());
        Assert.Contains(WithClass(svg, "text", "value"), v => v.Value.StartsWith("n/a", StringComparison.Ordinal));
    }
}
