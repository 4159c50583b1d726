using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricCompiler.Execution.Bench;

/// <summary>The table, the JSON and the SVG line plot of a <see cref="RunBenchmarkReport"/>.</summary>
public static class RunReportWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly (string Name, string Color, string Dash, Func<RunFigures, double> Value)[] Series =
    [
        ("floor", "#6b7280", "", f => f.Floor),
        ("analysis", "#2563eb", "", f => f.Analysis),
        ("analysis, full staging", "#2563eb", "2 3", f => f.AnalysisFull),
        ("naive", "#dc2626", "6 4", f => f.Naive),
        ("full build", "#ea580c", "", f => f.Build),
        ("daily refresh", "#16a34a", "", f => f.Refresh),
    ];

    public static void WriteTable(TextWriter output, RunBenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(report);
        output.WriteLine($"{"engine",-9} {"events",11} {"floor s",9} {"analysis s",11} {"full s",9} {"naive s",9} {"build s",9} {"refresh s",10} {"peak MB",8} {"analysis/floor",15} {"full/floor",11} {"naive/ours",11} {"refresh/build",14}");
        foreach (var f in report.Rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{f.Engine,-9} {f.Events,11:N0} {f.Floor,9:0.000} {f.Analysis,11:0.000} {f.AnalysisFull,9:0.000} {f.Naive,9:0.000} {f.Build,9:0.000} {f.Refresh,10:0.000} {f.BuildPeakBytes / 1048576.0,8:0} {f.AnalysisOverFloor,14:0.0}x {f.AnalysisFullOverFloor,10:0.0}x {f.NaiveOverAnalysis,10:0.00}x {f.RefreshOverBuild * 100,13:0.0}%"));
        }

        foreach (var s in report.Skipped)
            output.WriteLine($"note: {s.Engine} skipped: {s.Reason}");
        output.WriteLine();
        foreach (var f in report.Rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"build of the demo, {f.Engine}, {f.Events:N0} events: share of each node (the largest)"));
            foreach (var node in f.Nodes.Take(8))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {node.Node,-52} {node.Seconds,8:0.000} s {node.Share * 100,6:0.0}%"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"analysis of {BenchExperiment.Id}, {f.Engine}, {f.Events:N0} events: share of each node (the largest)"));
            foreach (var node in f.AnalysisNodes.Take(6))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {node.Node,-52} {node.Seconds,8:0.000} s {node.Share * 100,6:0.0}%"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"daily refresh of the demo, {f.Engine}, {f.Events:N0} events: share of each node (the largest)"));
            foreach (var node in f.RefreshNodes.Take(6))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {node.Node,-52} {node.Seconds,8:0.000} s {node.Share * 100,6:0.0}%"));
        }

        output.WriteLine();
        output.WriteLine($"(medians of {report.Repeat} interleaved run(s); floor: one scan of raw_events; analysis: `run --select {BenchExperiment.AnalysisSelector} --no-reuse` " +
            $"({BenchExperiment.Metrics.Count} metrics) in process, staging incremental with nothing new; full: the same with --full-refresh; " +
            $"naive: {BenchExperiment.Metrics.Count} plain queries, each joined to first exposures; build: `metricc build --full-refresh` of the demo without its last day, " +
            "as a child process, its peak RSS as peak MB; refresh: `metricc build` once the last day arrived: staging incremental, " +
            "what did not change reused, metric tables from their latest periods)");
    }

    public static string Json(RunBenchmarkReport report, DateTime measuredAt)
    {
        ArgumentNullException.ThrowIfNull(report);
        static JsonNode Round(double value) => Math.Round(value, 6);
        var document = new JsonObject
        {
            ["measured_at"] = measuredAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            },
            ["repeat"] = report.Repeat,
            ["metrics_in_analysis"] = BenchExperiment.Metrics.Count,
            ["rows"] = new JsonArray([.. report.Rows.Select(f => (JsonNode)new JsonObject
            {
                ["engine"] = f.Engine,
                ["target"] = f.Target,
                ["events"] = f.Events,
                ["users"] = f.Users,
                ["seed_seconds"] = Round(f.SeedSeconds),
                ["floor_seconds"] = Round(f.Floor),
                ["analysis_seconds"] = Round(f.Analysis),
                ["analysis_full_staging_seconds"] = Round(f.AnalysisFull),
                ["naive_seconds"] = Round(f.Naive),
                ["build_seconds"] = Round(f.Build),
                ["refresh_seconds"] = Round(f.Refresh),
                ["build_peak_rss_bytes"] = f.BuildPeakBytes,
                ["refresh_peak_rss_bytes"] = f.RefreshPeakBytes,
                ["analysis_over_floor"] = Round(f.AnalysisOverFloor),
                ["analysis_full_staging_over_floor"] = Round(f.AnalysisFullOverFloor),
                ["naive_over_analysis"] = Round(f.NaiveOverAnalysis),
                ["build_over_floor"] = Round(f.BuildOverFloor),
                ["refresh_over_build"] = Round(f.RefreshOverBuild),
                ["build_nodes"] = Shares(f.Nodes),
                ["analysis_nodes"] = Shares(f.AnalysisNodes),
                ["refresh_nodes"] = Shares(f.RefreshNodes),
            })]),
            ["skipped"] = new JsonArray([.. report.Skipped.Select(s => (JsonNode)new JsonObject { ["engine"] = s.Engine, ["reason"] = s.Reason })]),
        };
        return document.ToJsonString(Indented) + "\n";
    }

    private static JsonArray Shares(IReadOnlyList<NodeShare> nodes) => new([.. nodes.Select(n => (JsonNode)new JsonObject
    {
        ["node"] = n.Node,
        ["seconds"] = Math.Round(n.Seconds, 6),
        ["share"] = Math.Round(n.Share, 6),
    })]);

    /// <summary>One panel per engine: seconds against events, one line per measure, on linear axes (a line means linear cost).</summary>
    public static string Svg(RunBenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        const double panelWidth = 320, panelHeight = 240, left = 56, top = 34, plotWidth = 240, plotHeight = 160;
        var engines = report.Rows.Select(r => r.Engine).Distinct().ToList();
        var width = Math.Max(20 + (Series.Length * 150), engines.Count * panelWidth); // room for the legend under a single panel
        var svg = new StringBuilder();
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(panelHeight + 30)}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{F(width)}\" height=\"{F(panelHeight + 30)}\" fill=\"white\"/>\n");
        for (var p = 0; p < engines.Count; p++)
        {
            var rows = report.Rows.Where(r => r.Engine == engines[p]).OrderBy(r => r.Events).ToList();
            var x0 = (p * panelWidth) + left;
            var maxEvents = rows.Max(r => r.Events);
            var maxSeconds = NiceCeiling(rows.Max(r => Series.Max(s => s.Value(r))));
            double X(long events) => x0 + (plotWidth * events / (double)maxEvents);
            double Y(double seconds) => top + plotHeight - (plotHeight * seconds / maxSeconds);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x0)}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{engines[p]}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x0)}\" y1=\"{F(top + plotHeight)}\" x2=\"{F(x0 + plotWidth)}\" y2=\"{F(top + plotHeight)}\" stroke=\"black\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x0)}\" y1=\"{F(top)}\" x2=\"{F(x0)}\" y2=\"{F(top + plotHeight)}\" stroke=\"black\"/>\n");
            for (var t = 0; t <= 4; t++)
            {
                var seconds = maxSeconds * t / 4;
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x0 - 6)}\" y=\"{F(Y(seconds) + 4)}\" text-anchor=\"end\">{F(seconds)}</text>\n");
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x0)}\" y1=\"{F(Y(seconds))}\" x2=\"{F(x0 + plotWidth)}\" y2=\"{F(Y(seconds))}\" stroke=\"#e5e7eb\"/>\n");
            }

            foreach (var r in rows)
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(r.Events))}\" y=\"{F(top + plotHeight + 14)}\" text-anchor=\"middle\">{(r.Events / 1e6).ToString("0.0#", CultureInfo.InvariantCulture)}M</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x0 + (plotWidth / 2))}\" y=\"{F(top + plotHeight + 30)}\" text-anchor=\"middle\">events</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x0 - 42)}\" y=\"{F(top - 8)}\">seconds</text>\n");
            foreach (var (name, color, dash, value) in Series)
            {
                var points = string.Join(" ", rows.Select(r => $"{F(X(r.Events))},{F(Y(value(r)))}"));
                var dashes = dash.Length > 0 ? $" stroke-dasharray=\"{dash}\"" : "";
                svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dashes}/>\n");
                foreach (var r in rows)
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(r.Events))}\" cy=\"{F(Y(value(r)))}\" r=\"2.5\" fill=\"{color}\"/>\n");
            }
        }

        for (var i = 0; i < Series.Length; i++)
        {
            var x = 20 + (i * 150);
            var dashes = Series[i].Dash.Length > 0 ? $" stroke-dasharray=\"{Series[i].Dash}\"" : "";
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{F(panelHeight + 16)}\" x2=\"{x + 24}\" y2=\"{F(panelHeight + 16)}\" stroke=\"{Series[i].Color}\" stroke-width=\"2\"{dashes}/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 30}\" y=\"{F(panelHeight + 20)}\">{Series[i].Name}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 0)
            return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (step * power >= value)
                return step * power;
        }

        return 10 * power;
    }
}
