using System.Diagnostics;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Fuzz;

/// <summary>The outcome of one case: diagnostics or success are fine; an exception, a hang or runaway memory is a failure.</summary>
public sealed record CaseResult(long Case, string File, string Mutation, string Outcome, string? Failure, byte[] Input)
{
    public bool Failed => Failure is not null;
}

public sealed record FuzzSummary(long Cases, ulong Seed, long Succeeded, long Diagnosed, IReadOnlyList<CaseResult> Failures, TimeSpan Elapsed)
{
    public string Line =>
        $"fuzz: {Cases:N0} cases (seed {Seed}) in {Elapsed.TotalSeconds:0.0}s: {Succeeded:N0} loaded and compiled, {Diagnosed:N0} ended in diagnostics, {Failures.Count} failure(s)";
}

/// <summary>
/// Mutates one file of the demo project per case (seeded: case <c>k</c> of seed <c>s</c> is the same input on every run),
/// loads the project, and when it is valid plans it and renders every node for SQLite and PostgreSQL. Each case runs
/// under a time bound on a worker thread; cases are spread over one worker per core, each with its own copy of the project.
/// </summary>
public sealed class FuzzRunner
{
    public static readonly TimeSpan DefaultTimeBound = TimeSpan.FromSeconds(10);
    public const long MemoryBoundBytes = 1L << 30;

    private readonly IReadOnlyList<(string Path, byte[] Bytes)> _files;
    private readonly Func<string, string> _check;

    /// <param name="check">What a case runs on the mutated project folder (default <see cref="Check"/>); tests swap it to see the harness catch failures.</param>
    public FuzzRunner(string repositoryRoot, Func<string, string>? check = null)
    {
        _check = check ?? Check;
        var files = new List<(string, byte[])> { ("metrics.yml", File.ReadAllBytes(Path.Combine(repositoryRoot, "metrics.yml"))) };
        var models = Path.Combine(repositoryRoot, "project_template", "models");
        // The YAML and the SQL models: templates are hostile input too.
        foreach (var file in Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            files.Add((Path.GetRelativePath(repositoryRoot, file).Replace('\\', '/'), File.ReadAllBytes(file)));
        _files = files;
    }

    public IReadOnlyList<string> Files => _files.Select(f => f.Path).ToList();

    public FuzzSummary Run(long cases, ulong seed, TimeSpan? timeBound = null, int? workers = null, long firstCase = 0)
    {
        var bound = timeBound ?? DefaultTimeBound;
        var count = Math.Max(1, workers ?? Environment.ProcessorCount);
        var clock = Stopwatch.StartNew();
        var failures = new List<CaseResult>();
        long succeeded = 0, diagnosed = 0;
        var threads = Enumerable.Range(0, count).Select(w => new Thread(() =>
        {
            var workspace = new Workspace(_files);
            try
            {
                for (var k = firstCase + w; k < firstCase + cases; k += count)
                {
                    var result = RunCase(k, seed, bound, ref workspace);
                    lock (failures)
                    {
                        if (result.Failed) failures.Add(result);
                        else if (result.Outcome == "success") succeeded++;
                        else diagnosed++;
                    }
                }
            }
            finally
            {
                workspace.Dispose();
            }
        }, 16 * 1024 * 1024) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return new FuzzSummary(cases, seed, succeeded, diagnosed, failures.OrderBy(f => f.Case).ToList(), clock.Elapsed);
    }

    /// <summary>The input of case <paramref name="k"/>: which file, which mutations, which bytes.</summary>
    public (string File, string Mutation, byte[] Bytes) Input(long k, ulong seed)
    {
        var rng = new Rng(seed * 0x100000001B3UL ^ (ulong)k * 0x9E3779B97F4A7C15UL);
        var (path, original) = _files[rng.Below(_files.Count)];
        var (bytes, mutation) = Mutator.Mutate(original, rng);
        return (path, mutation, bytes);
    }

    private CaseResult RunCase(long k, ulong seed, TimeSpan bound, ref Workspace workspace)
    {
        var (path, mutation, bytes) = Input(k, seed);
        var root = workspace.Root;
        workspace.Write(path, bytes);
        string? outcome = null;
        Exception? thrown = null;
        var worker = new Thread(() =>
        {
            try
            {
                outcome = _check(root);
            }
            catch (Exception e)
            {
                thrown = e;
            }
        }, 64 * 1024 * 1024) { IsBackground = true };
        worker.Start();
        if (!worker.Join(bound))
        {
            // The stuck thread keeps its folder; later cases get a fresh copy.
            workspace = new Workspace(_files);
            return new CaseResult(k, path, mutation, "hang", $"no result within {bound.TotalSeconds:0}s", bytes);
        }

        workspace.Restore(path);
        if (thrown is not null)
            return new CaseResult(k, path, mutation, "exception", $"{thrown.GetType().Name}: {thrown.Message}\n{Frames(thrown)}", bytes);
        if (GC.GetTotalMemory(false) > MemoryBoundBytes)
        {
            GC.Collect();
            if (GC.GetTotalMemory(true) > MemoryBoundBytes)
                return new CaseResult(k, path, mutation, "memory", $"more than {MemoryBoundBytes >> 20} MiB in use after the case", bytes);
        }

        return new CaseResult(k, path, mutation, outcome!, null, bytes);
    }

    /// <summary>Loads the project in <paramref name="root"/>; a valid one is planned and rendered for two dialects.</summary>
    public static string Check(string root)
    {
        var result = ProjectLoader.Load(root);
        foreach (var diagnostic in result.Diagnostics)
            if (diagnostic.Location.File.Length == 0)
                throw new InvalidOperationException($"diagnostic without a file: {diagnostic.Format()}");
        if (!result.Succeeded)
        {
            if (!result.Diagnostics.Any(d => d.IsError))
                throw new InvalidOperationException("the load failed without an error diagnostic");
            return "diagnostics";
        }

        ExecutionPlan plan;
        try
        {
            plan = Planner.Plan(result.Bound!);
        }
        catch (CompilationException e)
        {
            // Planning reports what only the whole DAG shows (unknown refs, cycles through SQL models) as located diagnostics.
            if (e.Diagnostics.Count == 0 || e.Diagnostics.Any(d => d.Location.File.Length == 0 || d.Location.Line <= 0 || !d.IsError))
                throw new InvalidOperationException("planning failed without located error diagnostics", e);
            return "diagnostics";
        }

        foreach (var dialect in new[] { "sqlite", "postgres" })
            PlanCompiler.Compile(plan, SqlDialects.ForAdapter(dialect));
        return "success";
    }

    private static string Frames(Exception e) =>
        string.Join("\n", (e.StackTrace ?? "").Split('\n').Where(l => l.Contains("MetricCompiler", StringComparison.Ordinal) || l.Contains("YamlDotNet", StringComparison.Ordinal)).Take(6).Select(l => "    " + l.Trim()));

    /// <summary>A private copy of the demo project that one worker mutates a file of at a time.</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly IReadOnlyDictionary<string, byte[]> _originals;

        public Workspace(IReadOnlyList<(string Path, byte[] Bytes)> files)
        {
            Root = Path.Combine(Path.GetTempPath(), "metricc-fuzz", Guid.NewGuid().ToString("N"));
            _originals = files.ToDictionary(f => f.Path, f => f.Bytes, StringComparer.Ordinal);
            foreach (var (path, bytes) in files)
                Write(path, bytes);
        }

        public string Root { get; }

        public void Write(string path, byte[] bytes)
        {
            var full = Path.Combine(Root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }

        public void Restore(string path) => Write(path, _originals[path]);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
