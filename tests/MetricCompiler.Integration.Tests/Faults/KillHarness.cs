using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;

namespace MetricCompiler.Integration.Tests.Faults;

/// <summary>Where a kill is aimed: a seeded random moment of the run, or a named fault point (<see cref="FaultPoint"/>).</summary>
public enum KillAim
{
    Random,
    InsideSwap,
    AfterSwap,
}

/// <summary>What a series of kills found: how many, where they were aimed, what they left, and every broken promise.</summary>
public sealed record KillReport(string Target, int Seed, int Kills, IReadOnlyDictionary<string, int> Aims, int LeftPrevious, int LeftNew,
    int FinishedBeforeTheKill, int Recoveries, IReadOnlyList<string> Failures, TimeSpan Elapsed)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"kill tests on `{Target}` (seed {Seed}): {Kills} kill(s) ({string.Join(", ", Aims.Select(a => $"{a.Value} {a.Key}"))}); " +
        $"left the previous tables {LeftPrevious}, the new ones {LeftNew}, finished before the kill {FinishedBeforeTheKill}; " +
        $"{Recoveries} recovery run(s); {Failures.Count} failure(s) in {Elapsed.TotalSeconds:0} s");
}

/// <summary>
/// Runs <c>metricc build</c> of a small copy of the demo as a child process and kills it (SIGKILL) at seeded moments.
/// Two versions of the raw data alternate (all events and exposures, or a subset), so every killed run has a known
/// previous and a known new result. After each kill every table must be the whole previous or the whole new version,
/// every JSON artifact must parse or be the previous file, and the next run (never blocked by a stale lock) must give
/// the clean result with no temporary table or <c>*.tmp</c> left.
/// </summary>
public sealed class KillHarness : IDisposable
{
    private const string Backup = "mc_kill_";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-kill", Guid.NewGuid().ToString("N"));
    private readonly string _target;
    private readonly Random _random;
    private readonly int _seed;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly List<string> _failures = [];
    private readonly Dictionary<bool, Snapshot> _clean = [];
    private TimeSpan _startup = TimeSpan.FromSeconds(2);
    private TimeSpan _run = TimeSpan.FromSeconds(2);
    private readonly List<string> _transcript = [];
    private Snapshot? _current;
    private bool _full = true;

    /// <param name="target">`dev` (DuckDB, the embedded default), `sqlite` or `warehouse` (PostgreSQL, from METRICC_PG_*).</param>
    /// <param name="schema">PostgreSQL: the schema the run builds in (its own, so other tests are unaffected).</param>
    public KillHarness(string target, int seed, string? schema = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        _target = target;
        _seed = seed;
        _random = new Random(seed);
        _environment = environment ?? new Dictionary<string, string>();
        DemoCopy.To(_root, yaml => schema is null
            ? yaml.Replace("users: 40000", "users: 300")
            : yaml.Replace("users: 40000", "users: 300").Replace("schema: acme", $"schema: {schema}"));
    }

    public string Root => _root;

    /// <summary>Builds the two clean results, then kills <paramref name="aims"/>.Count runs; recovers after each kill or only at the end.</summary>
    public KillReport Run(IReadOnlyList<KillAim> aims, bool recoverAfterEachKill)
    {
        var clock = Stopwatch.StartNew();
        if (_clean.Count == 0)
            Setup();
        var (leftPrevious, leftNew, finished, recoveries) = (0, 0, 0, 0);
        for (var k = 0; k < aims.Count; k++)
        {
            _full = !_full;
            UseData(_full);
            var artifacts = Artifacts();
            var killed = Build(aims[k]);
            var what = $"kill {k + 1} ({aims[k]}{(killed.KilledAfter is { } after ? string.Create(CultureInfo.InvariantCulture, $" after {after.TotalMilliseconds:0} ms") : "")})";
            if (killed.Killed is false)
            {
                finished++;
                Expect(killed, what + ", a run that finished before the kill");
            }
            else if (killed.Stderr.Contains("in use by", StringComparison.Ordinal))
            {
                _failures.Add($"{what}: the run was refused by the lock a killed run left: {killed.Stderr.Trim()}");
            }

            var state = Snap();
            if (state.Same(_clean[_full]))
                leftNew++;
            else if (state.Same(_current))
                leftPrevious++;
            else
                _failures.Add($"{what}: the tables are neither the previous nor the new version: {state.Difference(_current!, _clean[_full])}");
            if (aims[k] == KillAim.InsideSwap && !state.Same(_current))
                _failures.Add($"{what}: killed inside the swap's transaction, yet the tables changed");
            if (aims[k] == KillAim.AfterSwap && !state.Same(_clean[_full]))
                _failures.Add($"{what}: killed after the swap committed, yet the tables are not the new version");
            CheckArtifacts(artifacts, what);
            _current = state;

            if (recoverAfterEachKill || k == aims.Count - 1)
            {
                recoveries++;
                Recover(what);
            }
        }

        return new KillReport(_target, _seed, aims.Count,
            aims.GroupBy(a => a switch { KillAim.InsideSwap => "inside the swap", KillAim.AfterSwap => "after the swap", _ => "at random" })
                .ToDictionary(g => g.Key, g => g.Count()),
            leftPrevious, leftNew, finished, recoveries, _failures, clock.Elapsed);
    }

    /// <summary>
    /// The server goes away during a run: the run pauses at <paramref name="faultPoint"/>, <paramref name="halt"/> stops
    /// the server, the run must exit 3 with <paramref name="message"/> and no stack trace and leave the previous tables;
    /// after <paramref name="resume"/> the next run must give the clean result. Returns what the failed run printed.
    /// </summary>
    public string StopTheServerDuringARun(string faultPoint, string message, Action halt, Action resume)
    {
        if (_clean.Count == 0)
            Setup();
        _full = !_full;
        UseData(_full);
        var artifacts = Artifacts();
        var what = $"the server stopped at `{faultPoint}`";
        var run = Build(pause: (faultPoint, halt));
        if (run.Exit != 3)
            _failures.Add($"{what}: the run exited {run.Exit}, not 3: {run.Stderr.Trim()}");
        if (!run.Stderr.Contains(message, StringComparison.Ordinal))
            _failures.Add($"{what}: the run did not say `{message}`: {run.Stderr.Trim()}");
        if (run.Stderr.Contains("   at ", StringComparison.Ordinal) || run.Stderr.Contains("unexpectedly", StringComparison.Ordinal))
            _failures.Add($"{what}: the run printed a stack trace: {run.Stderr.Trim()}");
        resume();
        var state = Snap();
        if (!state.Same(_current))
            _failures.Add($"{what}: the previous tables were not left whole: {state.Difference(_current!, _clean[_full])}");
        CheckArtifacts(artifacts, what);
        Recover(what);
        return run.Stderr;
    }

    /// <summary>Everything the runs printed, and every file under target/: for a secret that must be in none of them.</summary>
    public IEnumerable<(string Where, string Text)> Transcript() =>
        _transcript.Select((t, i) => ($"run {i + 1}", t)).Concat(
            Directory.EnumerateFiles(Path.Combine(_root, "target"), "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("warehouse.", StringComparison.Ordinal))
                .Select(f => (Path.GetRelativePath(_root, f), File.ReadAllText(f))));

    public IReadOnlyList<string> Failures => _failures;

    /// <summary>The first build seeds the raw tables (kept whole as the full version of the data); then the subset's build.</summary>
    private void Setup()
    {
        Expect(Build(), "the first build");
        foreach (var table in new[] { "raw_events", "raw_exposures" })
            Execute($"create table {Backup}{table} as select * from {table}");
        _clean[true] = Snap();
        _full = false;
        UseData(_full);
        var clean = Build();
        Expect(clean, "the build of the subset");
        _clean[false] = Snap();
        _current = _clean[false];
        if (_clean[true].Same(_clean[false]))
            _failures.Add("the two versions of the data give the same tables: the kill test could not tell old from new");
        _startup = clean.Running ?? _startup;
        _run = clean.Elapsed - _startup;
    }

    /// <summary>A seeded mix: mostly random moments, every fourth kill inside the swap and every fourth after it.</summary>
    public static IReadOnlyList<KillAim> Mix(int count) =>
        [.. Enumerable.Range(0, count).Select(i => (i % 4) switch { 1 => KillAim.InsideSwap, 3 => KillAim.AfterSwap, _ => KillAim.Random })];

    private void Recover(string after)
    {
        var run = Build();
        Expect(run, $"the run after {after}");
        var state = Snap();
        if (!state.Same(_clean[_full]))
            _failures.Add($"the run after {after} did not give the clean result: {state.Difference(_clean[_full], _clean[_full])}");
        _current = _clean[_full];
        var leftovers = Directory.EnumerateFiles(Path.Combine(_root, "target"), "*.tmp", SearchOption.AllDirectories).ToList();
        if (leftovers.Count > 0)
            _failures.Add($"the run after {after} left {leftovers.Count} *.tmp file(s): {Path.GetFileName(leftovers[0])}");
        var temporary = Tables().Where(t => t.Contains("__mc", StringComparison.Ordinal)).ToList();
        if (temporary.Count > 0)
            _failures.Add($"the run after {after} left temporary tables: {string.Join(", ", temporary)}");
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")));
        if (results.RootElement.GetProperty("results").EnumerateArray().Any(r => r.GetProperty("status").GetString() is not ("success" or "reused" or "pass")))
            _failures.Add($"the run after {after}: run_results.json lists a node that did not succeed");
    }

    private void Expect(ChildRun run, string what)
    {
        if (run.Exit != 0)
            _failures.Add($"{what} exited {run.Exit}: {run.Stderr.Trim()}");
        if (run.Stderr.Contains("   at ", StringComparison.Ordinal))
            _failures.Add($"{what} printed a stack trace");
    }

    /// <summary>Every JSON artifact parses, and a file that existed before the killed run still exists.</summary>
    private void CheckArtifacts(IReadOnlyDictionary<string, byte[]> before, string what)
    {
        var now = Artifacts();
        foreach (var (file, _) in before.Where(b => !now.ContainsKey(b.Key)))
            _failures.Add($"{what}: `{file}` was removed");
        foreach (var (file, bytes) in now.Where(n => n.Key.EndsWith(".json", StringComparison.Ordinal)))
        {
            if (before.TryGetValue(file, out var previous) && previous.AsSpan().SequenceEqual(bytes))
                continue;
            try
            {
                using var _ = JsonDocument.Parse(bytes);
            }
            catch (JsonException e)
            {
                _failures.Add($"{what}: `{file}` is neither the previous file nor valid JSON: {e.Message}");
            }
        }
    }

    private Dictionary<string, byte[]> Artifacts()
    {
        var target = Path.Combine(_root, "target");
        return Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal) && !f.Contains("warehouse.", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(target, f), File.ReadAllBytes);
    }

    /// <summary>The full raw data, or a subset (events and exposures of a tenth of the users left out).</summary>
    private void UseData(bool full)
    {
        foreach (var (table, column) in new[] { ("raw_events", "user_id"), ("raw_exposures", "user_id") })
        {
            Execute($"delete from {table}");
            Execute(full
                ? $"insert into {table} select * from {Backup}{table}"
                : $"insert into {table} select * from {Backup}{table} where {column} not like '%3'");
        }
    }

    private sealed record ChildRun(int Exit, string Stdout, string Stderr, bool? Killed, TimeSpan? KilledAfter, TimeSpan? Running, TimeSpan Elapsed);

    /// <summary>Runs `metricc build`; with an aim, kills it there (null <see cref="ChildRun.Killed"/>: no kill asked).</summary>
    private ChildRun Build(KillAim? aim = null, (string Point, Action Then)? pause = null)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "metricc"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "build", "--project-dir", _root, "--target", _target })
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in _environment)
            start.Environment[name] = value;
        start.Environment.Remove(FaultPoint.Variable);
        if (aim is KillAim.InsideSwap or KillAim.AfterSwap)
            start.Environment[FaultPoint.Variable] = aim == KillAim.InsideSwap ? FaultPoint.InsideSwap : FaultPoint.AfterSwap;
        if (pause is { } paused)
        {
            start.Environment[FaultPoint.Variable] = paused.Point;
            start.Environment[FaultPoint.SecondsVariable] = "8";
        }

        // A random kill: a quarter of them anywhere from the start (loading, compiling, taking the lock), the rest while the
        // warehouse is being written (after the "Running N node(s)" line), both within the clean run's durations.
        var fromStart = aim == KillAim.Random && _random.Next(4) == 0;
        var delay = aim == KillAim.Random
            ? TimeSpan.FromMilliseconds(_random.NextDouble() * (fromStart ? _startup : _run).TotalMilliseconds)
            : TimeSpan.Zero;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var clock = Stopwatch.StartNew();
        TimeSpan? running = null;
        using var trigger = new ManualResetEventSlim();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (stdout)
                stdout.AppendLine(e.Data);
            if (running is null && e.Data.Contains(" Running ", StringComparison.Ordinal))
            {
                running = clock.Elapsed;
                if (aim == KillAim.Random && !fromStart)
                    trigger.Set();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (stderr)
                stderr.AppendLine(e.Data);
            if (e.Data.StartsWith("metricc: paused at fault point", StringComparison.Ordinal))
                trigger.Set();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (aim == KillAim.Random && fromStart)
            trigger.Set();

        bool? killed = null;
        TimeSpan? killedAfter = null;
        if (pause is { } then)
        {
            while (!trigger.Wait(20) && !process.HasExited)
            {
            }

            if (!process.HasExited)
                then.Then();
        }
        else if (aim is not null)
        {
            killed = false;
            // Wait for the moment (or the end of the process), then the delay.
            while (!trigger.Wait(20) && !process.HasExited)
            {
            }

            if (!process.HasExited && (delay == TimeSpan.Zero || !process.WaitForExit(delay)))
            {
                killedAfter = clock.Elapsed;
                try
                {
                    process.Kill(); // SIGKILL on Unix
                    killed = true;
                }
                catch (InvalidOperationException)
                {
                    // It ended just before.
                }
            }
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill();
            _failures.Add($"`metricc build` on `{_target}` did not end within 3 minutes");
        }

        process.WaitForExit();
        lock (stdout)
        lock (stderr)
        {
            _transcript.Add(stdout + "\n" + stderr);
            return new ChildRun(process.ExitCode, stdout.ToString(), stderr.ToString(), killed, killedAfter, running, clock.Elapsed);
        }
    }

    private IWarehouseAdapter Open()
    {
        var target = AdapterFactory.Resolve(ProjectLoader.Load(_root).Bound!.Definition, _target);
        if (_environment.Count > 0)
        {
            // The harness's own server: its `*_env` settings point to variables of this process under names of their own,
            // so tests running alongside still read the suite's server from the usual names.
            var suffix = "_" + Path.GetFileName(_root);
            foreach (var (name, value) in _environment)
                Environment.SetEnvironmentVariable(name + suffix, value);
            target = target with
            {
                Settings = target.Settings.ToDictionary(s => s.Key,
                    s => s.Key.EndsWith("_env", StringComparison.Ordinal) && _environment.ContainsKey(s.Value) ? s.Value + suffix : s.Value),
            };
        }

        return AdapterFactory.Open(target, _root);
    }

    private void Execute(string sql)
    {
        using var adapter = Open();
        adapter.Execute(sql);
    }

    private List<string> Tables()
    {
        using var adapter = Open();
        var names = new List<string>();
        adapter.Read("select table_name from information_schema.tables where table_schema = current_schema() order by table_name",
            (_, row) => names.Add((string)row[0]!));
        return names;
    }

    /// <summary>Every table the run builds, its rows sorted (volatile columns left out); numbers compare to 1e-9 relative.</summary>
    private Snapshot Snap()
    {
        var tables = Tables().Where(t => !t.StartsWith("raw_", StringComparison.Ordinal) && !t.StartsWith(Backup, StringComparison.Ordinal)
                                         && !t.Contains("__mc", StringComparison.Ordinal) && t != Planning.NodeNames.PiiSalt).ToList();
        using var adapter = Open();
        var contents = new SortedDictionary<string, List<Row>>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            var rows = new List<Row>();
            adapter.Read($"select * from {adapter.Dialect.QuoteRelation(table)}", (columns, row) =>
            {
                var values = new List<(string Column, object? Value)>();
                for (var i = 0; i < columns.Count; i++)
                {
                    if (columns[i] is "analysed_at" or "generated_at")
                        continue;
                    values.Add((columns[i], row[i] switch
                    {
                        null or DBNull => null,
                        double or float or decimal => Convert.ToDouble(row[i], CultureInfo.InvariantCulture),
                        IFormattable v => v.ToString(null, CultureInfo.InvariantCulture),
                        var v => v.ToString(),
                    }));
                }

                rows.Add(new Row(values));
            });
            rows.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            contents[table] = rows;
        }

        return new Snapshot(contents);
    }

    /// <summary>One row; <see cref="Key"/> (numbers to 6 digits) orders rows the same way although engines sum floating point in any order.</summary>
    private sealed record Row(IReadOnlyList<(string Column, object? Value)> Values)
    {
        public string Key { get; } = string.Join("|", Values.Select(v => $"{v.Column}={Text(v.Value, "G6")}"));

        public bool Same(Row other) => Values.Count == other.Values.Count && Values.Zip(other.Values).All(p =>
            p.First.Column == p.Second.Column && (p.First.Value, p.Second.Value) switch
            {
                (double x, double y) => x.Equals(y) || Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y))),
                var (x, y) => Equals(x, y),
            });

        public override string ToString() => string.Join("|", Values.Select(v => $"{v.Column}={Text(v.Value, "R")}"));

        private static string Text(object? value, string format) => value switch
        {
            null => "null",
            double d => d.ToString(format, CultureInfo.InvariantCulture),
            _ => value.ToString()!,
        };
    }

    /// <summary>The tables of one moment.</summary>
    private sealed class Snapshot(SortedDictionary<string, List<Row>> tables)
    {
        public bool Same(Snapshot? other) => other is not null && tables.Keys.SequenceEqual(other.Tables.Keys)
            && tables.All(t => Same(t.Value, other.Tables[t.Key]));

        public IReadOnlyDictionary<string, List<Row>> Tables => tables;

        private static bool Same(List<Row> a, List<Row> b) => a.Count == b.Count && a.Zip(b).All(p => p.First.Same(p.Second));

        public string Difference(Snapshot previous, Snapshot next) => string.Join("; ",
            tables.Keys.Union(previous.Tables.Keys).Union(next.Tables.Keys).Order(StringComparer.Ordinal)
                .Where(t => !Same(Rows(this, t), Rows(previous, t)) || !Same(Rows(this, t), Rows(next, t)))
                .Select(t => $"{t}: {Rows(this, t).Count} rows (previous {Rows(previous, t).Count}, new {Rows(next, t).Count})" +
                             (Rows(this, t).FirstOrDefault(r => !Rows(next, t).Any(r.Same)) is { } row ? $", first row not in the new version: {row}" : "")));

        private static List<Row> Rows(Snapshot snapshot, string table) => snapshot.Tables.GetValueOrDefault(table) ?? [];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
