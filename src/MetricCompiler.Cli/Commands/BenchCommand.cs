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
            CompileGc.Blocking();
            var o = context.Output;
            o.WriteLine($"{"metrics",8} {"nodes",7} {"files",6} {"cold s",8} {"load s",8} {"plan s",8} {"render s",9} {"write s",8} {"total s",8} {"s/1k",7} {"peak MB",8} {"cached s",9} {"1 edit s",9} {"rerendered",11} {"cli s",7} {"cli edit s",11}");
            foreach (var size in sizes)
            {
                var root = Path.Combine(Path.GetTempPath(), "metricc-bench", Guid.NewGuid().ToString("N"));
                try
                {
                    var f = CompileBenchmark.Run(root, size, runs, Self());
                    var cli = f.Cli is { } c
                        ? string.Create(CultureInfo.InvariantCulture, $" {c.FullSeconds,7:0.000} {c.EditSeconds,11:0.000}")
                        : $" {"-",7} {"-",11}";
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{f.Metrics,8} {f.Nodes,7} {f.Files,6} {f.Cold,8:0.000} {f.Load,8:0.000} {f.Plan,8:0.000} {f.Render,9:0.000} {f.Write,8:0.000} {f.Total,8:0.000} {f.Total / f.Metrics * 1000,7:0.000} {f.PeakBytes / 1048576.0,8:0} {f.Unchanged,9:0.000} {f.OneEdit,9:0.000} {f.EditRendered,11}") + cli);
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

            o.WriteLine($"(cold: the first compile into an empty target folder; phases and total: medians of {runs} recompile(s) of the unchanged project without the compile cache; peak MB is the process's peak working set so far, so it only grows down the table;");
            o.WriteLine($" with the compile cache, as `metricc compile` runs: cached s, the median of {runs} recompile(s) of the unchanged project; 1 edit s, of {runs} recompile(s) each after one metric's filter changed, which rendered `rerendered` nodes again;");
            o.WriteLine(" cli: `metricc compile` as a child process, start-up included, once with --no-cache and once with the cache after one more edit)");
            return ExitCodes.Success;
        });
        return new Command("bench", "Benchmarks that print figures (docs/performance.md)") { compile, RunCommand(context) };
    }

    /// <summary>
    /// <c>metricc bench run [--events 100000,300000] [--engines duckdb,sqlite,postgres] [--repeat 3]</c>: the analysis
    /// benchmark of docs/performance.md on scaled copies of the demo project (removed afterwards); prints the table
    /// and writes <c>bench-run.json</c> and <c>bench-run.svg</c> into <c>--output</c>.
    /// </summary>
    private static Command RunCommand(CommandContext context)
    {
        var events = new Option<string>("--events") { Description = "Comma-separated scales in raw events (the demo has about 1.1M)", DefaultValueFactory = _ => "100000,300000" };
        var engines = new Option<string>("--engines")
        {
            Description = "Comma-separated engines: duckdb, sqlite, postgres (PostgreSQL from the METRICC_PG_* variables scripts/postgres.sh prints; skipped with a note when it cannot be reached)",
            DefaultValueFactory = _ => "duckdb,sqlite,postgres",
        };
        var repeat = new Option<int>("--repeat") { Description = "Runs per figure, interleaved; medians are printed", DefaultValueFactory = _ => 3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the demo data", DefaultValueFactory = _ => DemoData.DemoDataOptions.DefaultSeed };
        var output = new Option<string>("--output") { Description = "Folder for bench-run.json and bench-run.svg", DefaultValueFactory = _ => Path.Combine("target", "bench") };
        var command = new Command("run", "Time the floor (one scan of the events), the analysis of a 20-metric experiment, the naive one-query-per-metric way and a full build, at each scale and on each engine")
        {
            ProjectCommands.ProjectDir, events, engines, repeat, seed, output,
        };
        command.SetAction(parse =>
        {
            var scales = new List<long>();
            foreach (var part in parse.GetValue(events)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var scale) || scale is < 1_000 or > 25_000_000)
                    throw new UsageException($"--events: `{part}` is not a number of events between 1,000 and 25,000,000");
                scales.Add(scale);
            }

            var known = new[] { "duckdb", "sqlite", "postgres" };
            var chosen = parse.GetValue(engines)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
            if (chosen.Count == 0 || chosen.FirstOrDefault(e => !known.Contains(e, StringComparer.Ordinal)) is { } unknown && unknown is not null)
                throw new UsageException($"--engines: give some of {string.Join(", ", known)}");
            var runs = parse.GetValue(repeat);
            if (runs is < 1 or > 50)
                throw new UsageException("--repeat must be between 1 and 50");

            var o = context.Output;
            var scratch = Path.Combine(Path.GetTempPath(), "metricc-bench-run", Guid.NewGuid().ToString("N"));
            var (metricc, prefix) = Self();
            RunBenchmarkReport report;
            try
            {
                report = RunBenchmark.Run(
                    new RunBenchmarkOptions(Path.GetFullPath(parse.GetValue(ProjectCommands.ProjectDir)!), scratch, scales, chosen, runs, parse.GetValue(seed), metricc, prefix),
                    message =>
                    {
                        o.WriteLine("  " + message);
                        o.Flush();
                    });
            }
            catch (FileNotFoundException e)
            {
                throw new UsageException(e.Message);
            }
            finally
            {
                try
                {
                    if (Directory.Exists(scratch))
                        Directory.Delete(scratch, recursive: true);
                }
                catch (IOException)
                {
                }
            }

            o.WriteLine();
            RunReportWriter.WriteTable(o, report);
            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "bench-run.json"), RunReportWriter.Json(report, DateTime.UtcNow));
            if (report.Rows.Count > 0)
                File.WriteAllText(Path.Combine(folder, "bench-run.svg"), RunReportWriter.Svg(report));
            o.WriteLine($"wrote {Path.Combine(folder, "bench-run.json")}" + (report.Rows.Count > 0 ? $" and {Path.Combine(folder, "bench-run.svg")}" : ""));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>How to start this metricc as a child process: the app host beside the assembly, else <c>dotnet metricc.dll</c>.</summary>
    private static (string FileName, IReadOnlyList<string> Arguments) Self()
    {
        var host = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "metricc.exe" : "metricc");
        return File.Exists(host) ? (host, []) : ("dotnet", [Path.Combine(AppContext.BaseDirectory, "metricc.dll")]);
    }
}
