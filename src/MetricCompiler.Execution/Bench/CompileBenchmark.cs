using System.Diagnostics;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Artifacts;
using MetricCompiler.Execution.Caching;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Execution.Bench;

/// <summary>The median seconds of each compile phase over several runs, and what the process held at its peak.</summary>
/// <param name="Cold">The first compile's total (empty target folder, cold JIT); the phases are of the recompiles after it.</param>
/// <param name="Unchanged">A recompile of the unchanged project with the compile cache (<c>metricc compile</c>'s default).</param>
/// <param name="OneEdit">A recompile with the cache after one metric's filter changed.</param>
/// <param name="EditRendered">How many nodes that recompile rendered again (the others were reused from the cache).</param>
/// <param name="Cli">`metricc compile` as a child process (start-up included): without the cache, and with it after one
/// more edit; null when no metricc to start was given.</param>
public sealed record CompileFigures(int Metrics, int Nodes, int Files, int Runs, double Cold, double Load, double Plan, double Render, double Write, long PeakBytes,
    double Unchanged = 0, double OneEdit = 0, int EditRendered = 0, CliFigures? Cli = null)
{
    public double Total => Load + Plan + Render + Write;
}

/// <summary>`metricc compile` of the synthetic project as a child process: wall seconds of each.</summary>
public sealed record CliFigures(double FullSeconds, double EditSeconds);

/// <summary>
/// <c>metricc bench compile</c>: compiles a synthetic project (<see cref="SyntheticProject"/>) the way <c>metricc compile</c>
/// does: load and validate, plan, render for DuckDB, write <c>target/compiled</c> and <c>manifest.json</c>; each
/// phase timed separately: the first (cold) compile, then the median of <c>runs</c> recompiles of the unchanged project,
/// all without the compile cache. Then, with the cache as <c>metricc compile</c> uses it (<see cref="ProjectRunner.Compile"/>):
/// the median of <c>runs</c> recompiles of the unchanged project, and of <c>runs</c> recompiles each after one metric's
/// filter changed. Last, once each, <c>metricc compile</c> as a child process, start-up included: with <c>--no-cache</c>,
/// and with the cache after one more edit.
/// </summary>
public static class CompileBenchmark
{
    /// <param name="metricc">How to start metricc as a child process (file and leading arguments), for the CLI figures; null: none.</param>
    public static CompileFigures Run(string root, int metrics, int runs, (string FileName, IReadOnlyList<string> Prefix)? metricc = null)
    {
        SyntheticProject.Write(root, metrics);
        var load = new List<double>();
        var plan = new List<double>();
        var render = new List<double>();
        var write = new List<double>();
        int nodes = 0, files = 0;
        var cold = 0.0;
        for (var i = 0; i <= runs; i++)
        {
            var clock = Stopwatch.StartNew();
            var loaded = ProjectLoader.Load(root);
            if (!loaded.Succeeded || loaded.Bound is not { } bound)
                throw new InvalidOperationException("the synthetic project does not load: " + string.Join("; ", loaded.Diagnostics.Take(3).Select(d => d.Format())));
            var t1 = clock.Elapsed.TotalSeconds;
            var executionPlan = Planner.Plan(bound);
            var t2 = clock.Elapsed.TotalSeconds;
            var compiled = PlanCompiler.Compile(executionPlan, SqlDialects.ForAdapter("duckdb"));
            var t3 = clock.Elapsed.TotalSeconds;
            var writer = new ArtifactWriter(Path.Combine(root, "target"));
            writer.WriteCompiled(compiled);
            writer.WriteManifest(bound, AdapterFactory.Resolve(bound.Definition, null), compiled, executionPlan.Tests);
            var t4 = clock.Elapsed.TotalSeconds;
            if (i == 0)
            {
                nodes = executionPlan.Nodes.Count;
                files = bound.Definition.Files.Count;
                cold = t4;
                continue; // warm-up: the JIT and the file cache
            }

            load.Add(t1);
            plan.Add(t2 - t1);
            render.Add(t3 - t2);
            write.Add(t4 - t3);
        }

        // With the cache, as `metricc compile` runs: the first compile fills it; then the unchanged project, then one
        // metric's filter changed (a new value each run, so every run is a real change).
        var runner = new ProjectRunner(SilentObserver.Instance);
        Cached(runner, root);
        var unchanged = new List<double>();
        var edited = new List<double>();
        var rendered = 0;
        for (var i = 0; i < runs; i++)
            unchanged.Add(Cached(runner, root).Seconds);
        var editedFile = Path.Combine(root, "models", SyntheticProject.EditedFile);
        var original = File.ReadAllText(editedFile);
        for (var i = 1; i <= runs; i++)
        {
            File.WriteAllText(editedFile, SyntheticProject.ChangeFirstFilter(original, i));
            var (seconds, counts) = Cached(runner, root);
            edited.Add(seconds);
            rendered = counts.NodesRendered;
        }

        CliFigures? cli = null;
        if (metricc is { } self)
        {
            var full = Child(self, root, "--no-cache");
            File.WriteAllText(editedFile, SyntheticProject.ChangeFirstFilter(original, runs + 1));
            Child(self, root); // the cache as the edited project left it (--no-cache neither reads nor writes it)
            File.WriteAllText(editedFile, SyntheticProject.ChangeFirstFilter(original, runs + 2));
            var edit = Child(self, root);
            cli = new CliFigures(full.Seconds, edit.Seconds);
        }

        return new CompileFigures(metrics, nodes, files, runs, cold, Median(load), Median(plan), Median(render), Median(write), Process.GetCurrentProcess().PeakWorkingSet64,
            Median(unchanged), Median(edited), rendered, cli);
    }

    private static ChildRun Child((string FileName, IReadOnlyList<string> Prefix) metricc, string root, params string[] options)
    {
        var run = ChildProcessMeter.Run(metricc.FileName, [.. metricc.Prefix, "compile", "--project-dir", root, .. options], root);
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"metricc compile of the synthetic project exited {run.ExitCode}: {run.Error}");
        return run;
    }

    private static (double Seconds, CacheCounts Counts) Cached(ProjectRunner runner, string root)
    {
        var clock = Stopwatch.StartNew();
        var outcome = runner.Compile(new RunRequest(root));
        var seconds = clock.Elapsed.TotalSeconds;
        if (outcome.Error is not null || outcome.Cache is not { } counts)
            throw new InvalidOperationException("the synthetic project does not compile with the cache: " + outcome.Error);
        return (seconds, counts);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }
}
