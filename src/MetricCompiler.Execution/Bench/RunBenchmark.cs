using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.DemoData;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Execution.Bench;

/// <summary>What <c>metricc bench run</c> measures and with what.</summary>
/// <param name="DemoProject">The demo project to copy (metrics.yml and project_template/).</param>
/// <param name="ScratchRoot">Where the scaled copies are written (removed by the caller).</param>
/// <param name="Engines">Adapter names: duckdb, sqlite, postgres; each uses the first target of the demo with that adapter.</param>
/// <param name="Metricc">The executable and leading arguments that start <c>metricc</c> as a child process.</param>
public sealed record RunBenchmarkOptions(
    string DemoProject,
    string ScratchRoot,
    IReadOnlyList<long> Events,
    IReadOnlyList<string> Engines,
    int Repeat,
    ulong Seed,
    string Metricc,
    IReadOnlyList<string> MetriccArguments);

/// <summary>A node's median build seconds and its share of the build's wall time (data tests summed into one row).</summary>
public sealed record NodeShare(string Node, double Seconds, double Share);

/// <summary>The figures of one engine at one scale; every time is the median of the repeats, in seconds.</summary>
/// <param name="Analysis">The analysis on a day with nothing new: staging incremental (its lookback window staged again).</param>
/// <param name="AnalysisFull">The same analysis with <c>--full-refresh</c>: every raw row staged again.</param>
/// <param name="Build">Wall time of <c>metricc build --full-refresh</c> as a child process (start-up and compile included).</param>
/// <param name="Refresh">Wall time of the daily refresh: <c>metricc build</c> after the last day of events arrived, incremental.</param>
/// <param name="BuildPeakBytes">Peak resident memory of the full build's process (the median over the repeats).</param>
/// <param name="Nodes">The build's nodes, from the run whose time is the median.</param>
/// <param name="AnalysisNodes">The analysis's nodes, from its last run.</param>
/// <param name="RefreshNodes">The daily refresh's nodes, from the run whose time is the median.</param>
public sealed record RunFigures(
    string Engine,
    string Target,
    long Events,
    long Users,
    double SeedSeconds,
    double Floor,
    double Analysis,
    double AnalysisFull,
    double Naive,
    double Build,
    double Refresh,
    long BuildPeakBytes,
    long RefreshPeakBytes,
    IReadOnlyList<NodeShare> Nodes,
    IReadOnlyList<NodeShare> AnalysisNodes,
    IReadOnlyList<NodeShare> RefreshNodes)
{
    public double AnalysisOverFloor => Analysis / Floor;

    public double AnalysisFullOverFloor => AnalysisFull / Floor;

    public double NaiveOverAnalysis => Naive / Analysis;

    public double BuildOverFloor => Build / Floor;

    public double RefreshOverBuild => Refresh / Build;
}

/// <summary>An engine left out, and why (PostgreSQL without its environment, say).</summary>
public sealed record SkippedEngine(string Engine, string Reason);

public sealed record RunBenchmarkReport(int Repeat, IReadOnlyList<RunFigures> Rows, IReadOnlyList<SkippedEngine> Skipped);

/// <summary>
/// <c>metricc bench run</c>: for each scale, a copy of the demo project with the twenty-metric experiment of
/// <see cref="BenchExperiment"/>, its data scaled with <see cref="DemoDataOptions.ForEvents"/>, and on each engine, the
/// repeats interleaved: the floor (<see cref="BenchExperiment.FloorSql"/>), the analysis of the experiment
/// (<c>metricc run --select +exp_bench_twenty__statistics</c>, in process), the naive way (twenty plain queries), and a
/// full <c>metricc build</c> of the demo (without the benchmark experiment) as a child process, with its peak memory and the
/// share of each node from its <c>run_results.json</c>.
/// </summary>
public static class RunBenchmark
{
    public static RunBenchmarkReport Run(RunBenchmarkOptions options, Action<string> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var rows = new List<RunFigures>();
        var skipped = new Dictionary<string, SkippedEngine>(StringComparer.Ordinal);
        foreach (var events in options.Events)
        {
            var data = DemoDataOptions.ForEvents(events, options.Seed);
            var project = Path.Combine(options.ScratchRoot, events.ToString(CultureInfo.InvariantCulture));
            WriteProject(options.DemoProject, project, data);
            var loaded = ProjectLoader.Load(project);
            if (loaded is not { Succeeded: true, Project: { } definition, Bound: { } bound })
                throw new InvalidOperationException($"the demo project copied from {options.DemoProject} does not load; run `metricc validate` there");

            // The analysis also selects the demo's views (creating one costs nothing): a run that swaps a table a view
            // reads, without the view, cannot drop the old table on PostgreSQL once a build has created the view.
            IReadOnlyList<string> selection = [BenchExperiment.AnalysisSelector, .. Planning.Planner.Plan(bound).Nodes.Where(n => n.IsView).Select(n => n.Name)];
            foreach (var engine in options.Engines)
            {
                if (skipped.ContainsKey(engine))
                    continue;
                var target = definition.Targets.FirstOrDefault(t => string.Equals(t.Adapter, engine, StringComparison.Ordinal));
                if (target is null)
                {
                    skipped[engine] = new SkippedEngine(engine, $"the demo project has no `{engine}` target");
                    continue;
                }

                try
                {
                    using var probe = AdapterFactory.Open(target, project);
                }
                catch (Exception e) when (e is TargetException || ProjectRunner.IsWarehouseFailure(e))
                {
                    skipped[engine] = new SkippedEngine(engine, $"target `{target.Name}` cannot be opened: {e.Message}");
                    progress($"{engine}: skipped ({skipped[engine].Reason})");
                    continue;
                }

                rows.Add(Measure(options, project, target, data, selection, progress));
            }
        }

        return new RunBenchmarkReport(options.Repeat, rows, [.. skipped.Values]);
    }

    private static RunFigures Measure(RunBenchmarkOptions options, string project, Core.Model.TargetDefinition target, DemoDataOptions data, IReadOnlyList<string> selection, Action<string> progress)
    {
        var engine = target.Adapter;
        progress($"{engine}: seeding {data.Users:N0} users (about {data.Users * (double)DemoDataOptions.DefaultEvents / DemoDataOptions.DefaultUsers:N0} events) ...");
        var clock = Stopwatch.StartNew();
        DemoDataSummary summary;
        using (var adapter = AdapterFactory.Open(target, project))
        {
            summary = DemoDataGenerator.Seed(adapter, data);
            // PostgreSQL plans from statistics that autovacuum gathers soon after a load; without them the naive joins
            // run as nested loops. DuckDB keeps its statistics as it writes; SQLite is left as the runner finds it.
            if (engine == "postgres")
                adapter.Execute("ANALYZE");
        }
        var seedSeconds = clock.Elapsed.TotalSeconds;
        progress($"{engine}: seeded {summary.Events:N0} events in {seedSeconds:0.0} s");

        // The last day of events and exposures waits in a table of its own: the full build is of the days before it, and
        // the daily refresh is the incremental build after it arrives.
        var lastDay = new LastDay(data.PeriodEnd);
        using (var adapter = AdapterFactory.Open(target, project))
            lastDay.Hold(adapter);

        var floor = new List<double>();
        var analysis = new List<double>();
        var analysisFull = new List<double>();
        IReadOnlyList<NodeShare> analysisNodes = [];
        var naive = new List<double>();
        var builds = new List<(double Seconds, long Peak, IReadOnlyList<NodeShare> Nodes)>();
        var refreshes = new List<(double Seconds, long Peak, IReadOnlyList<NodeShare> Nodes)>();
        Floor(target, project); // warm the file cache once: every measure after it reads warm pages
        for (var i = 0; i < options.Repeat; i++)
        {
            floor.Add(Floor(target, project));
            analysisFull.Add(Analyse(project, target, selection, fullRefresh: true));
            analysis.Add(Analyse(project, target, selection, fullRefresh: false));
            analysisNodes = NodeShares(Path.Combine(project, "target", "run_results.json"), analysis[^1]);
            naive.Add(Naive(target, project));
            builds.Add(Build(options, project, target, fullRefresh: true));
            using (var adapter = AdapterFactory.Open(target, project))
                lastDay.Deliver(adapter);
            refreshes.Add(Build(options, project, target, fullRefresh: false));
            RequireIncremental(Path.Combine(project, "target", "run_results.json"));
            using (var adapter = AdapterFactory.Open(target, project))
                lastDay.Hold(adapter);
            progress(string.Create(CultureInfo.InvariantCulture,
                $"{engine} {summary.Events:N0} events, run {i + 1}/{options.Repeat}: floor {floor[^1]:0.000} s, analysis {analysis[^1]:0.000} s (staged in full {analysisFull[^1]:0.000} s), naive {naive[^1]:0.000} s, build {builds[^1].Seconds:0.000} s ({builds[^1].Peak / 1048576.0:0} MB), daily refresh {refreshes[^1].Seconds:0.000} s"));
        }

        var median = builds.OrderBy(b => b.Seconds).ElementAt(builds.Count / 2);
        var medianRefresh = refreshes.OrderBy(b => b.Seconds).ElementAt(refreshes.Count / 2);
        return new RunFigures(engine, target.Name, summary.Events, summary.Users, seedSeconds, Median(floor), Median(analysis), Median(analysisFull), Median(naive),
            Median(builds.Select(b => b.Seconds).ToList()), Median(refreshes.Select(b => b.Seconds).ToList()),
            (long)Median(builds.Select(b => (double)b.Peak).ToList()), (long)Median(refreshes.Select(b => (double)b.Peak).ToList()),
            median.Nodes, analysisNodes, medianRefresh.Nodes);
    }

    /// <summary>The floor's seconds. Opening the warehouse is outside the time (for the naive way too): both are timed from their first query.</summary>
    private static double Floor(Core.Model.TargetDefinition target, string project)
    {
        using var adapter = AdapterFactory.Open(target, project);
        var clock = Stopwatch.StartNew();
        var rows = adapter.Query(BenchExperiment.FloorSql);
        var seconds = clock.Elapsed.TotalSeconds;
        if (rows.Count != 1)
            throw new InvalidOperationException("the floor query returned no row");
        return seconds;
    }

    /// <summary>
    /// The whole of <c>metricc run --select +exp_bench_twenty__statistics --no-reuse</c> in process: load, plan, build,
    /// readout, swap. Without <c>--no-reuse</c> a run with nothing new would keep the experiment's tables (its window has
    /// ended), which is not an analysis.
    /// </summary>
    private static double Analyse(string project, Core.Model.TargetDefinition target, IReadOnlyList<string> selection, bool fullRefresh)
    {
        var file = BenchFile(project);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, BenchExperiment.Yaml());
        var clock = Stopwatch.StartNew();
        RunOutcome outcome;
        try
        {
            outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(project, target.Name, selection) { FullRefresh = fullRefresh, NoReuse = true });
        }
        finally
        {
            File.Delete(file); // the build is of the demo alone
        }

        var seconds = clock.Elapsed.TotalSeconds;
        if (outcome.Error is not null)
            throw new InvalidOperationException($"the analysis of `{BenchExperiment.Id}` failed on `{target.Name}`: {outcome.Error}");
        return seconds;
    }

    private static double Naive(Core.Model.TargetDefinition target, string project)
    {
        using var adapter = AdapterFactory.Open(target, project);
        var clock = Stopwatch.StartNew();
        foreach (var metric in BenchExperiment.Metrics)
        {
            var rows = adapter.Query(BenchExperiment.NaiveSql(metric));
            if (rows.Count == 0)
                throw new InvalidOperationException($"the naive query of `{metric.Name}` returned no variant");
        }

        return clock.Elapsed.TotalSeconds;
    }

    private static (double Seconds, long Peak, IReadOnlyList<NodeShare> Nodes) Build(RunBenchmarkOptions options, string project, Core.Model.TargetDefinition target, bool fullRefresh)
    {
        IEnumerable<string> refresh = fullRefresh ? ["--full-refresh"] : [];
        var arguments = options.MetriccArguments.Concat(["build", "--project-dir", project, "--target", target.Name]).Concat(refresh).ToList();
        var run = ChildProcessMeter.Run(options.Metricc, arguments, project);
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"`metricc build --target {target.Name}{(fullRefresh ? " --full-refresh" : "")}` exited {run.ExitCode}: {run.Error.Trim()}");
        return (run.Seconds, run.PeakRssBytes, NodeShares(Path.Combine(project, "target", "run_results.json"), run.Seconds));
    }

    /// <summary>A daily refresh that rebuilt an incremental table in full measures nothing it claims to: stop, with the reason.</summary>
    private static void RequireIncremental(string runResultsPath)
    {
        foreach (var result in JsonNode.Parse(File.ReadAllText(runResultsPath))!["results"]!.AsArray())
            if (result!["incremental"] is JsonObject build && (string?)build["mode"] != IncrementalBuild.Incremental)
                throw new InvalidOperationException($"the daily refresh built `{result["node"]}` in full ({build["reason"]}), not incrementally");
    }

    /// <summary>Each node's time and share of the build's wall time, largest first; data tests in one row, the rest (start-up, compile, readout, swap) in another.</summary>
    public static IReadOnlyList<NodeShare> NodeShares(string runResultsPath, double wallSeconds)
    {
        var document = JsonNode.Parse(File.ReadAllText(runResultsPath))!;
        var nodes = new List<NodeShare>();
        var tests = 0.0;
        foreach (var result in document["results"]!.AsArray())
        {
            var seconds = result!["execution_seconds"]!.GetValue<double>();
            if ((string?)result["resource_type"] == "test")
                tests += seconds;
            else
                nodes.Add(new NodeShare((string)result["node"]!, seconds, seconds / wallSeconds));
        }

        nodes.Add(new NodeShare("(data tests)", tests, tests / wallSeconds));
        var outside = Math.Max(0, wallSeconds - nodes.Sum(n => n.Seconds));
        nodes.Add(new NodeShare("(outside nodes: start-up, compile, readout, swap)", outside, outside / wallSeconds));
        return [.. nodes.OrderByDescending(n => n.Seconds).ThenBy(n => n.Node, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Copies metrics.yml and project_template/ (YAML and SQL) into <paramref name="root"/>, with the scaled
    /// <c>demo_data.users</c> and the PostgreSQL schema <c>metricc_bench</c> (so a real schema is never replaced). The
    /// benchmark experiment is written beside it (<c>project_template/models/bench/bench_twenty.yml</c>) only while the
    /// analysis runs.
    /// </summary>
    public static void WriteProject(string demoProject, string root, DemoDataOptions data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var projectFile = Path.Combine(demoProject, "metrics.yml");
        var template = Path.Combine(demoProject, "project_template");
        if (!File.Exists(projectFile) || !Directory.Exists(template))
            throw new FileNotFoundException($"`{demoProject}` is not the demo project (metrics.yml and project_template/); give --project-dir", projectFile);
        Directory.CreateDirectory(root);
        var yaml = File.ReadAllText(projectFile);
        yaml = Regex.Replace(yaml, @"(?m)^(\s+users:\s*)\d+", m => m.Groups[1].Value + data.Users.ToString(CultureInfo.InvariantCulture));
        yaml = Regex.Replace(yaml, @"(?m)^(\s+seed:\s*)\d+", m => m.Groups[1].Value + data.Seed.ToString(CultureInfo.InvariantCulture));
        yaml = Regex.Replace(yaml, @"(?m)^(\s+schema:\s*)\S+", m => m.Groups[1].Value + "metricc_bench");
        File.WriteAllText(Path.Combine(root, "metrics.yml"), yaml);
        foreach (var file in Directory.EnumerateFiles(template, "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var destination = Path.Combine(root, Path.GetRelativePath(demoProject, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    /// <summary>Where the analysis writes the benchmark experiment, and removes it again before the build.</summary>
    private static string BenchFile(string project) => Path.Combine(project, "project_template", "models", "bench", "bench_twenty.yml");

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    /// <summary>
    /// The demo's last day of raw events and exposures, moved to <c>mc_bench_last_day_*</c> and back: the timestamps are
    /// text the demo writes as <c>yyyy-MM-dd HH:mm:ss</c>, so the day is a range of text on every engine.
    /// </summary>
    private sealed class LastDay(DateOnly day)
    {
        private static readonly (string Raw, string Time)[] Tables = [("raw_events", "occurred_at"), ("raw_exposures", "exposed_at")];

        private string Range(string time) => string.Create(CultureInfo.InvariantCulture,
            $"{time} >= '{day:yyyy-MM-dd}' and {time} < '{day.AddDays(1):yyyy-MM-dd}'");

        public void Hold(IWarehouseAdapter adapter)
        {
            foreach (var (raw, time) in Tables)
            {
                var held = "mc_bench_last_day_" + raw;
                adapter.Execute(adapter.Dialect.DropTableIfExists(held));
                adapter.Execute($"create table {held} as select * from {raw} where {Range(time)}");
                adapter.Execute($"delete from {raw} where {Range(time)}");
            }
        }

        public void Deliver(IWarehouseAdapter adapter)
        {
            foreach (var (raw, _) in Tables)
                adapter.Execute($"insert into {raw} select * from mc_bench_last_day_{raw}");
        }
    }
}
