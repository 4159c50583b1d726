using System.CommandLine;
using System.Globalization;
using MetricCompiler.Execution.Bench;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Cli.Commands;

/// <summary>
/// <c>metricc bench compile [--metrics 1000,3000,10000] [--runs 5]</c>: the compile benchmark of docs/performance.md on
/// synthetic projects written to a scratch folder (removed afterwards); prints each phase's median seconds, the nodes
/// and the peak memory, and the cost per 1,000 metrics so growth can be read as a ratio.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CommandContext context)
    {
        var metricsOption = new Option<string>("--metrics") { Description = "Comma-separated project sizes in metrics", DefaultValueFactory = _ => "1000,3000,10000" };
        var runsOption = new Option<int>("--runs") { Description = "Timed runs per size (after one warm-up); medians are printed", DefaultValueFactory = _ => 5 };
        var compile = new Command("compile", "Time load, plan, render and write of synthetic projects of the given sizes (medians; peak memory of the process)")
        {
            metricsOption, runsOption,
        };
        compile.SetAction(parse =>
        {
            var sizes = new List<int>();
            foreach (var part in parse.GetValue(metricsOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) || size is < 10 or > 100_000)
                    throw new UsageException($"--metrics: `{part}` is not a size between 10 and 100,000");
                sizes.Add(size);
            }

            var runs = parse.GetValue(runsOption);
            if (runs is < 1 or > 100)
                throw new UsageException("--runs must be between 1 and 100");
            var o = context.Output;
            o.WriteLine($"{"metrics",8} {"nodes",7} {"files",6} {"cold s",8} {"load s",8} {"plan s",8} {"render s",9} {"write s",8} {"total s",8} {"s/1k",7} {"peak MB",8}");
            foreach (var size in sizes)
            {
                var root = Path.Combine(Path.GetTempPath(), "metricc-bench", Guid.NewGuid().ToString("N"));
                try
                {
                    var f = CompileBenchmark.Run(root, size, runs);
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{f.Metrics,8} {f.Nodes,7} {f.Files,6} {f.Cold,8:0.000} {f.Load,8:0.000} {f.Plan,8:0.000} {f.Render,9:0.000} {f.Write,8:0.000} {f.Total,8:0.000} {f.Total / f.Metrics * 1000,7:0.000} {f.PeakBytes / 1048576.0,8:0}"));
                    o.Flush();
                }
                finally
                {
                    try
                    {
                        Directory.Delete(root, recursive: true);
                    }
                    catch (IOException)
                    {
                    }
                }
            }

            o.WriteLine($"(cold: the first compile into an empty target folder; phases and total: medians of {runs} recompile(s) of the unchanged project; peak MB is the process's peak working set so far, so it only grows down the table)");
            return ExitCodes.Success;
        });
        return new Command("bench", "Benchmarks that print figures (docs/performance.md)") { compile };
    }
}
