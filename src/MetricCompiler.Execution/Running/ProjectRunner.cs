using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Artifacts;
using MetricCompiler.Execution.Caching;
using MetricCompiler.Execution.Readout;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Experiments;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// Compiles and runs a project: load and validate, plan, render, then build every selected table under a temporary
/// name, compute the readout, and swap all of them in at once. A failure anywhere before the swap drops what was built
/// and leaves the previous tables untouched.
/// </summary>
/// <param name="open">Opens a target's adapter (the project root second); <see cref="AdapterFactory.Open"/> unless a test wraps it.</param>
public sealed class ProjectRunner(IRunObserver observer, Func<TargetDefinition, string, IWarehouseAdapter>? open = null)
{
    private readonly Func<TargetDefinition, string, IWarehouseAdapter> _open = open ?? AdapterFactory.Open;

    public const string BuildSuffix = "__mc_build";

    /// <summary>The view an incremental staging's rows are read through during a run (see <c>BuildMerge</c>).</summary>
    public const string MergeSuffix = "__mc_merge";

    /// <summary>The table of the rows an incremental staging staged in a run, inserted into its table by the swap.</summary>
    public const string WindowSuffix = "__mc_window";

    /// <summary>
    /// Loads, validates, plans and writes <c>target/compiled</c> (the selected nodes; every node without a selection)
    /// and <c>manifest.json</c> (always the whole project).
    /// </summary>
    public RunOutcome Compile(RunRequest request) => Prepare(request, out _, compileSelectionOnly: true)?.Outcome ?? RunOutcome.Failed(ExitCodes.Failure, "compile failed");

    public RunOutcome Run(RunRequest request)
    {
        var prepared = Prepare(request, out var session, compileSelectionOnly: false);
        if (session is null)
            return prepared!.Outcome;

        RunLock runLock;
        try
        {
            runLock = RunLock.Acquire(session.Target, session.Project.Definition.RootDirectory, "run");
        }
        catch (RunLockedException e)
        {
            return RunOutcome.Failed(ExitCodes.Warehouse, e.Message, session.Diagnostics);
        }

        using (runLock)
            return Run(request, session);
    }

    private RunOutcome Run(RunRequest request, RunSession session)
    {
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var writer = new ArtifactWriter(session.TargetDirectory);
        writer.RemoveLeftovers(); // what a killed run could not remove
        if (PiiSalt(session, out var saltError) is { } salt)
            session = session with { PiiSalt = salt };
        else if (saltError is not null)
            return RunOutcome.Failed(ExitCodes.Usage, saltError, session.Diagnostics);
        session = session with { FullRefresh = request.FullRefresh, NoReuse = request.NoReuse || request.FullRefresh, RunState = RunState.Read(session.TargetDirectory), Now = request.Now ?? DateTime.UtcNow };
        if (!TryOpen(session, out var adapter, out var cannotOpen))
            return cannotOpen;

        IDisposable? serverLock = null;
        try
        {
            if (RunLock.HeldOnServer(adapter, session.Target, "run", out serverLock) is { } holder)
                return RunOutcome.Failed(ExitCodes.Warehouse, holder, session.Diagnostics);
            observer.RunStarted(session.Selected.Count, session.Target.Name, adapter.Description);
            try
            {
                var repaired = adapter.RecoverInterruptedSwap();
                if (repaired.Count > 0)
                    observer.Info($"Completed the swap an interrupted run left half done: {string.Join(", ", repaired)}");
            }
            catch (Exception e) when (IsWarehouseFailure(e))
            {
                return RunOutcome.Failed(ExitCodes.Warehouse,
                    $"an interrupted swap of an earlier run could not be completed, so nothing was run: {e.Message}", session.Diagnostics);
            }

            var target = session.Target;
            var root = session.Project.Definition.RootDirectory;
            var parallel = request.Threads > 1 && AdapterFactory.AllowsConnectionPerThread(target);
            if (request.Threads > 1 && !parallel)
                observer.Info($"--threads {request.Threads}: target `{target.Name}` ({target.Adapter}) takes one connection at a time, so the nodes run one after the other");
            var execution = new DagExecution(session, adapter, observer, parallel ? request.Threads : 1,
                parallel ? () => _open(target, root) : null);
            var staged = new StagedFiles();
            var previous = Notify.ExperimentDecision.ReadPrevious(session.TargetDirectory, session.Project.Experiments.Select(e => e.Id));
            IReadOnlyList<Notify.ExperimentDecision> decisions = [];

            // Every artifact of the run is written (under temporary names) before the swap, so a full disk or a
            // read-only target/ fails the run while the previous tables are still in place; after the swap they are
            // only renamed, and warehouse and artifacts agree.
            var error = execution.Execute(readouts =>
            {
                var analysedAt = DateTime.UtcNow;
                foreach (var readout in readouts)
                    staged.AddRange(writer.StageReadout(readout, analysedAt, session.Project.FindExperiment(readout.ExperimentId)?.Definition, session.Project.Time.ZoneId));
                decisions = readouts.Select(r => Notify.ExperimentDecision.Of(r, previous.GetValueOrDefault(r.ExperimentId))).ToList();
                staged.Add(writer.StageRunResults("run", session.Target, startedAt, clock.Elapsed.TotalSeconds, execution.Results, null, decisions));
                staged.Add(RunState.Stage(session.TargetDirectory, session.RunState, session.Target.Name, execution.NextState()));
            });
            // The pii salt is in no statement of an embedded or PostgreSQL target, but a remote engine's error may quote the
            // insert that loaded it: it never reaches output or artifacts.
            string? Redact(string? text) => session.PiiSalt is { } salt && text is not null ? text.Replace(salt, "***", StringComparison.Ordinal) : text;
            error = Redact(error);
            var results = execution.Results.Select(r => r with { Message = Redact(r.Message) }).ToList();
            var exitCode = ExitCodes.Success;
            if (error is null)
            {
                try
                {
                    FaultPoint.Reach(FaultPoint.AfterSwap);
                    staged.Commit();
                }
                catch (ArtifactException e)
                {
                    error = $"the new tables are in place, but an artifact could not be moved into place: {e.Message}";
                }
            }
            else
            {
                staged.Discard();
                exitCode = execution.ConnectionLost ? ExitCodes.Warehouse : ExitCodes.Failure;
                TryWrite(() => writer.WriteRunResults("run", session.Target, startedAt, clock.Elapsed.TotalSeconds, results, error));
            }

            if (error is not null)
                return new RunOutcome(Math.Max(exitCode, ExitCodes.Failure), session.Diagnostics, session.Compiled, results, [], error);
            // After the swap and the artifacts: a notification cannot undo or fail what is already in place.
            var notifications = session.Project.Definition.Notify is { } notify
                ? Notify.WebhookNotifier.Notify(notify, session.Project.Definition.Name, session.Target.Name, session.TargetDirectory, decisions)
                : [];
            return new RunOutcome(ExitCodes.Success, session.Diagnostics, session.Compiled, results, execution.Readouts, null)
            {
                Decisions = decisions,
                Notifications = notifications,
            };
        }
        finally
        {
            serverLock?.Dispose();
            try
            {
                adapter.Dispose();
            }
            catch (Exception e) when (IsWarehouseFailure(e))
            {
                // A connection that died mid-run cannot be closed cleanly; the failure was already reported.
            }
        }
    }

    /// <summary>
    /// The salt of the selected staging nodes' <c>pii: true</c> columns, from the project's environment variable; null
    /// (and no error) when no selected source has one.
    /// </summary>
    private static string? PiiSalt(RunSession session, out string? error)
    {
        error = null;
        var staged = session.Selected.Where(n => n.Kind == NodeKind.Staging).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var pii = session.Project.Sources.FirstOrDefault(s => s.Rules.PiiColumns.Count > 0 && staged.Contains(NodeNames.Staging(s.Name)));
        if (pii is null)
            return null;
        var variable = session.Project.Definition.PiiSaltVariable;
        var salt = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(salt))
        {
            error = $"source `{pii.Name}` ({pii.Location}) has pii columns, which staging hashes with a secret salt: set the environment variable " +
                $"`{variable}` (the project names it with `pii_salt_env`); nothing was run or replaced";
            return null;
        }

        return salt;
    }

    /// <summary>
    /// Opens the target's warehouse; otherwise the outcome that says why (a bad target is usage, exit 2; a warehouse that
    /// cannot be opened is exit 3) and that nothing was run or replaced.
    /// </summary>
    private bool TryOpen(RunSession session, [NotNullWhen(true)] out IWarehouseAdapter? adapter, [NotNullWhen(false)] out RunOutcome? failure)
    {
        adapter = null;
        failure = null;
        try
        {
            adapter = _open(session.Target, session.Project.Definition.RootDirectory);
        }
        catch (TargetException e)
        {
            failure = RunOutcome.Failed(ExitCodes.Usage, e.Message, session.Diagnostics);
        }
        catch (Exception e) when (IsWarehouseFailure(e))
        {
            failure = RunOutcome.Failed(ExitCodes.Warehouse,
                $"cannot open the warehouse of target `{session.Target.Name}`: {e.Message}; nothing was run or replaced", session.Diagnostics);
        }

        return adapter is not null;
    }

    /// <summary>
    /// <c>metricc test</c>: runs the data tests of the selection against the tables in place (nothing is built or
    /// replaced); a test whose tables are not built yet is skipped, with the reason.
    /// </summary>
    public RunOutcome Test(RunRequest request)
    {
        var prepared = Prepare(request, out var session, compileSelectionOnly: false);
        if (session is null)
            return prepared!.Outcome;
        session = session with { Now = request.Now ?? DateTime.UtcNow };
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        if (!TryOpen(session, out var adapter, out var cannotOpen))
            return cannotOpen;

        using (adapter)
        {
            var selected = session.Selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            var renderer = new SqlRenderer(adapter.Dialect, node => adapter.Dialect.QuoteRelation(node));
            var results = new List<NodeResult>();
            foreach (var test in session.Plan.Tests.Where(t => t.AttachedTo is null || selected.Contains(t.AttachedTo)))
            {
                var missing = test.Reads.FirstOrDefault(r => !adapter.TableExists(r));
                var result = missing is not null
                    ? TestRunner.Skip(test, $"not run: `{missing}` has not been built yet; run `metricc build` first")
                    : TestRunner.Run(adapter, renderer, test, session.Now);
                results.Add(result);
                observer.TestFinished(test, result);
            }

            var failed = results.Where(r => r.Status is NodeResult.Fail or NodeResult.Error).Select(r => r.Node).ToList();
            var error = failed.Count == 0 ? null : $"{failed.Count} data test(s) failed: {string.Join(", ", failed)}";
            TryWrite(() => new ArtifactWriter(session.TargetDirectory).WriteRunResults("test", session.Target, startedAt, clock.Elapsed.TotalSeconds, results, error));
            return new RunOutcome(error is null ? ExitCodes.Success : ExitCodes.Failure, session.Diagnostics, session.Compiled, results, [], error);
        }
    }

    /// <summary>What a warehouse driver throws when the database cannot be opened, is corrupt or the connection is lost.</summary>
    public static bool IsWarehouseFailure(Exception e) =>
        e is WarehouseException or System.Data.Common.DbException or IOException or UnauthorizedAccessException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException;

    private static void TryWrite(Action write)
    {
        try
        {
            write();
        }
        catch (ArtifactException)
        {
            // run_results.json of a failed run is best effort: the error itself is printed and the exit code says it.
        }
    }

    private sealed record Prepared(RunOutcome Outcome);

    /// <summary>Node checksums of the manifest in <paramref name="directory"/> (<c>--state</c>).</summary>
    /// <exception cref="SelectorException">The folder holds no readable manifest.json.</exception>
    private static Dictionary<string, string> ReadState(string directory)
    {
        var path = Path.Combine(directory, "manifest.json");
        try
        {
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path));
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (manifest?["nodes"] is System.Text.Json.Nodes.JsonObject nodes)
                foreach (var (name, node) in nodes)
                    if (node?["checksum"]?.GetValue<string>() is { } checksum)
                        result[name] = checksum;
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new SelectorException($"--state `{directory}`: cannot read {path}: {e.Message}; pass the target folder of an earlier `metricc compile` or `run`");
        }
    }

    private Prepared? Prepare(RunRequest request, out RunSession? session, bool compileSelectionOnly)
    {
        session = null;
        // Only `metricc compile` uses the compile cache; a run compiles as before.
        var cache = compileSelectionOnly && request.UseCompileCache
            ? CompileCache.Open(Path.Combine(ProjectLoader.RootOf(request.ProjectPath), "target"))
            : null;
        var load = ProjectLoader.Load(request.ProjectPath, request.Vars, cache);
        if (!load.Succeeded || load.Bound is not { } bound)
            return new Prepared(new RunOutcome(ExitCodes.Failure, load.Diagnostics, [], [], [], "the project is invalid"));
        var project = bound.Definition;

        TargetDefinition target;
        try
        {
            target = AdapterFactory.Resolve(project, request.Target);
        }
        catch (TargetException e)
        {
            return new Prepared(RunOutcome.Failed(ExitCodes.Usage, e.Message, load.Diagnostics));
        }

        ExecutionPlan plan;
        try
        {
            plan = Planner.Plan(bound);
        }
        catch (CompilationException e)
        {
            return new Prepared(new RunOutcome(ExitCodes.Failure, [.. load.Diagnostics, .. e.Diagnostics], [], [], [], "the project is invalid"));
        }

        var dialect = SqlDialects.ForAdapter(target.Adapter);
        var unsupported = EngineSupport.Check(bound.Metrics.Where(m => m.Definition.Materialize is not null), dialect, "materialize");
        if (unsupported.Count > 0)
            return new Prepared(new RunOutcome(ExitCodes.Failure, [.. load.Diagnostics, .. unsupported], [], [], [], "the project is invalid"));
        var targetDirectory = Path.Combine(project.RootDirectory, "target");
        var cached = cache is null
            ? null
            : CachedCompiler.Compile(plan, dialect, NodeFingerprints.Compute(bound, plan, load.FileChecksums, dialect, target, request.Vars), cache, targetDirectory);
        var compiled = cached?.Compiled ?? PlanCompiler.Compile(plan, dialect);
        IReadOnlyList<PlanNode> selected;
        try
        {
            var state = request.StateDirectory is { } stateDirectory
                ? new SelectionState(ReadState(stateDirectory), compiled.ToDictionary(c => c.Node.Name, c => c.Checksum, StringComparer.Ordinal))
                : null;
            selected = NodeSelector.Select(plan, request.Select ?? [], request.Exclude ?? [], state);
        }
        catch (SelectorException e)
        {
            return new Prepared(RunOutcome.Failed(ExitCodes.Usage, e.Message, load.Diagnostics));
        }

        var writer = new ArtifactWriter(targetDirectory);
        var selection = selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var everything = selection.Count == plan.Nodes.Count;
        int filesWritten;
        try
        {
            filesWritten = writer.WriteCompiled(compileSelectionOnly && !everything ? compiled.Where(c => selection.Contains(c.Node.Name)).ToList() : compiled,
                removeStale: everything || !compileSelectionOnly, cached?.OnDisk);
            writer.WriteManifest(bound, target, compiled, plan.Tests);
            writer.WriteCompiledTests(PlanCompiler.CompileTests(plan, dialect));
            cache?.Save();
        }
        catch (ArtifactException e)
        {
            return new Prepared(RunOutcome.Failed(ExitCodes.Failure, e.Message, load.Diagnostics));
        }

        var written = compileSelectionOnly ? compiled.Where(c => selection.Contains(c.Node.Name)).ToList() : compiled;
        session = new RunSession(bound, target, plan, selected, compiled, targetDirectory, load.Diagnostics, dialect);
        return new Prepared(new RunOutcome(ExitCodes.Success, load.Diagnostics, written, [], [], null) { Cache = cache?.Counts, FilesWritten = filesWritten });
    }
}

/// <summary>Everything decided before touching the warehouse.</summary>
internal sealed record RunSession(
    BoundProject Project,
    TargetDefinition Target,
    ExecutionPlan Plan,
    IReadOnlyList<PlanNode> Selected,
    IReadOnlyList<CompiledNode> Compiled,
    string TargetDirectory,
    IReadOnlyList<Diagnostic> Diagnostics,
    SqlDialect Dialect)
{
    /// <summary>The salt of pii columns (a secret: never printed, written to a file or put in SQL text).</summary>
    public string? PiiSalt { get; init; }

    /// <summary><c>--full-refresh</c>.</summary>
    public bool FullRefresh { get; init; }

    /// <summary><c>--no-reuse</c> (implied by <see cref="FullRefresh"/>).</summary>
    public bool NoReuse { get; init; }

    /// <summary>The reference time of source freshness tests, in UTC (<c>--now</c>, or when the run started).</summary>
    public DateTime Now { get; init; } = DateTime.UtcNow;

    /// <summary>What <c>target/run_state.json</c> said before the run: per target, what each table in place was built from.</summary>
    public Dictionary<string, TargetState> RunState { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>One run of the selected nodes against one warehouse.</summary>
/// <param name="threads">How many nodes and tests may run at once (<c>--threads</c>).</param>
/// <param name="openWorker">Opens one more connection to the same warehouse, for every worker beyond the first; null
/// when the engine allows only one (SQLite, an in-memory DuckDB), which runs serially.</param>
internal sealed class DagExecution(RunSession session, IWarehouseAdapter adapter, IRunObserver observer, int threads = 1, Func<IWarehouseAdapter>? openWorker = null)
{
    private readonly HashSet<string> _selected = session.Selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
    private readonly List<string> _built = [];
    /// <summary>The tables this run changes in place, each with the rows of the table in place it keeps (the rest are replaced by its window table).</summary>
    private readonly Dictionary<string, Sql.Model.SqlExpr> _merges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StagingCounts> _audits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IncrementalBuild> _incremental = new(StringComparer.Ordinal);
    private readonly List<NodeResult> _results = [];
    private readonly List<ExperimentReadout> _readouts = [];
    private readonly TableReuse _reuse = new(session);

    public IReadOnlyList<NodeResult> Results => _results;

    /// <summary>The target's state once this run's tables are in place: what <c>target/run_state.json</c> records next.</summary>
    public TargetState NextState() => _reuse.Next();

    public IReadOnlyList<ExperimentReadout> Readouts => _readouts;

    /// <summary>True when a failure came with a dead connection (the server stopped, the file vanished): a retry may succeed.</summary>
    public bool ConnectionLost { get; private set; }

    /// <summary>
    /// Runs the selection; returns null on success or the error that stopped the run. <paramref name="beforeSwap"/>
    /// gets the readouts once every table is built; if it throws <see cref="ArtifactException"/> nothing is swapped in.
    /// </summary>
    public string? Execute(Action<IReadOnlyList<ExperimentReadout>>? beforeSwap = null)
    {
        var preflight = Preflight();
        if (preflight is not null)
        {
            _results.AddRange(session.Selected.Select(n => new NodeResult(n.Name, NodeResult.Skipped, 0, null, "not run: preflight check failed")));
            return preflight;
        }

        var renderer = new SqlRenderer(adapter.Dialect, node => adapter.Dialect.QuoteRelation(Relation(node)));
        try
        {
            // A killed run can leave a view on its build tables behind (`<view>__mc_build`); on PostgreSQL that view would
            // keep this run from dropping and rebuilding the tables it reads, so leftover build views go first.
            foreach (var view in session.Plan.Nodes.Where(n => n.IsView))
                adapter.Execute(adapter.Dialect.DropViewIfExists(adapter.Dialect.QuoteRelation(Build(view.Name))));
            // And an incremental staging's view and window table, which would keep a full rebuild from replacing its table.
            if (adapter.SwapsInOneTransaction)
                foreach (var staging in session.Plan.Nodes.Where(n => n.Staging is not null))
                {
                    adapter.Execute(adapter.Dialect.DropViewIfExists(adapter.Dialect.QuoteRelation(MergeView(staging.Name))));
                    adapter.Execute(adapter.Dialect.DropTableIfExists(adapter.Dialect.QuoteRelation(WindowTable(staging.Name))));
                }
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            _results.AddRange(session.Selected.Select(n => new NodeResult(n.Name, NodeResult.Skipped, 0, null, "not run: the warehouse failed before the first node")));
            ConnectionLost = !Alive();
            return $"dropping what an earlier run left behind failed, so nothing was run: {e.Message}";
        }

        try
        {
            return Build(renderer, beforeSwap);
        }
        finally
        {
            DropPiiSalt();
        }
    }

    private string? Build(SqlRenderer renderer, Action<IReadOnlyList<ExperimentReadout>>? beforeSwap)
    {
        if (session.PiiSalt is { } salt)
        {
            // A bound parameter: the salt is in no statement text, log or artifact; the table is dropped when the run ends.
            adapter.WriteTable(NodeNames.PiiSalt, [new ColumnSpec("salt", Sql.Model.SqlType.String)], [[salt]]);
        }

        var total = session.Selected.Count;
        var tests = session.Plan.Tests.Where(t => t.AttachedTo is null || _selected.Contains(t.AttachedTo)).ToList();
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        var failedTests = new List<string>();

        void RunTests(string? attachedTo)
        {
            foreach (var test in tests.Where(t => t.AttachedTo == attachedTo))
            {
                var blocked = test.Reads.FirstOrDefault(skipped.ContainsKey);
                var result = blocked is not null
                    ? TestRunner.Skip(test, $"not run: `{blocked}` was skipped ({skipped[blocked]})")
                    : RunTest(adapter, renderer, test);
                _results.Add(result);
                observer.TestFinished(test, result);
                if (result.Status is not (NodeResult.Fail or NodeResult.Error))
                    continue;
                failedTests.Add(test.Name);
                foreach (var read in test.Reads)
                    foreach (var descendant in session.Plan.Descendants(read))
                        skipped.TryAdd(descendant, $"not run: test `{test.Name}` failed on `{read}`");
            }
        }

        if (threads > 1 && openWorker is not null)
        {
            if (BuildParallel(tests, failedTests, openWorker) is { } parallelError)
                return parallelError;
        }
        else
        {
            RunTests(null);
            for (var i = 0; i < total; i++)
            {
                var node = session.Selected[i];
                if (skipped.TryGetValue(node.Name, out var why))
                {
                    var skip = new NodeResult(node.Name, NodeResult.Skipped, 0, null, why);
                    _results.Add(skip);
                    observer.NodeFinished(i + 1, total, node, skip);
                    RunTests(node.Name);
                    continue;
                }

                FaultPoint.Reach(FaultPoint.BeforeNode(node.Name));
                var clock = Stopwatch.StartNew();
                try
                {
                    var result = Reused(adapter, node, renderer);
                    if (result is null)
                    {
                        observer.NodeStarted(i + 1, total, node);
                        var (rows, dropped) = Retry(node.Name).Execute(() =>
                        {
                            var built = node.Kind == NodeKind.Readout ? BuildReadout(adapter, node) : BuildTable(adapter, node, renderer);
                            return (built, node.Audit is { } audit ? Audit(adapter, node, audit, built, renderer) : null);
                        });
                        result = new NodeResult(node.Name, NodeResult.Success, clock.Elapsed.TotalSeconds, rows, null, dropped?.Dropped)
                        {
                            Nulled = dropped?.Nulled, Incremental = BuildOf(node), Excluded = ExcludedUnits(adapter, node, renderer), Unchanged = IsUnchanged(node.Name),
                        };
                    }

                    _results.Add(result);
                    observer.NodeFinished(i + 1, total, node, result);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var result = new NodeResult(node.Name, NodeResult.Error, clock.Elapsed.TotalSeconds, null, e.Message);
                    _results.Add(result);
                    observer.NodeFinished(i + 1, total, node, result);
                    _results.AddRange(session.Selected.Skip(i + 1).Select(n => new NodeResult(n.Name, NodeResult.Skipped, 0, null, $"not run: `{node.Name}` failed")));
                    _results.AddRange(tests.Where(t => _results.All(r => r.Node != t.Name)).Select(t => TestRunner.Skip(t, $"not run: `{node.Name}` failed")));
                    ConnectionLost = !Alive();
                    if (ConnectionLost)
                        return $"node `{node.Name}` failed: the connection to the warehouse was lost ({e.Message}); no table was replaced, " +
                            "and temporary tables left behind are dropped by the next run; rerun when the warehouse is back";
                    DropBuilt();
                    return $"node `{node.Name}` failed; no table was replaced: {e.Message}";
                }

                RunTests(node.Name);
            }
        }

        if (failedTests.Count > 0)
        {
            // The atomic promise: a failing test keeps every table as it was, not only those downstream of it.
            DropBuilt();
            return $"{failedTests.Count} data test(s) failed ({string.Join(", ", failedTests)}); what they guard was skipped and no table was replaced";
        }

        AddStagingQuality();
        try
        {
            beforeSwap?.Invoke(_readouts);
        }
        catch (ArtifactException e)
        {
            DropBuilt();
            return $"writing the run's artifacts failed, so no table was replaced: {e.Message}";
        }

        try
        {
            var views = ViewsToRecreate();
            var builtViews = views.Where(v => _built.Contains(v.Name)).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
            var final = new SqlRenderer(adapter.Dialect, node => adapter.Dialect.QuoteRelation(node));
            var dialect = adapter.Dialect;
            // Dependents first: PostgreSQL refuses to drop a view another view reads.
            var dropViews = Enumerable.Reverse(views).SelectMany(v => builtViews.Contains(v.Name)
                ? new[] { dialect.DropViewIfExists(dialect.QuoteRelation(Build(v.Name))), dialect.DropViewIfExists(dialect.QuoteRelation(v.Name)) }
                : new[] { dialect.DropViewIfExists(dialect.QuoteRelation(v.Name)) }).ToList();
            adapter.SwapTables(_built.Where(b => !builtViews.Contains(b)).Select(b => (Build(b), b)).ToList(),
                [.. dropViews, .. MergeStatements(dialect, final)],
                [.. views.Select(v => dialect.CreateViewAs(dialect.QuoteRelation(v.Name), final.Render(v.Query!))), .. StagingIndexes(dialect)]);
        }
        catch (WarehouseException e) when (e.SwapPending)
        {
            // The built tables are what the journaled swap completes from: they stay.
            ConnectionLost = !Alive();
            return $"swapping the new tables in was interrupted: {e.Message}";
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            ConnectionLost = !Alive();
            if (!ConnectionLost)
                DropBuilt();
            return $"swapping the new tables in failed; the previous tables are unchanged: {e.Message}";
        }

        return null;
    }

    /// <summary>
    /// Gives each readout the data-quality counts of the staging nodes its experiment reads (the staging ancestors of
    /// its statistics node) that ran in this run, so the readout's data-quality section says what staging dropped.
    /// </summary>
    private void AddStagingQuality()
    {
        var staged = _results.Where(r => r.Dropped is not null || r.Nulled is not null).ToDictionary(r => r.Node, StringComparer.Ordinal);
        for (var i = 0; i < _readouts.Count; i++)
        {
            var start = NodeNames.Statistics(_readouts[i].ExperimentId);
            if (!session.Plan.Contains(start))
                continue;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var pending = new Stack<string>([start]);
            while (pending.Count > 0)
            {
                var name = pending.Pop();
                if (!seen.Add(name) || !session.Plan.Contains(name))
                    continue;
                foreach (var dependency in session.Plan[name].DependsOn)
                    pending.Push(dependency);
            }

            var quality = session.Plan.Nodes
                .Where(n => n.Kind == NodeKind.Staging && seen.Contains(n.Name) && staged.ContainsKey(n.Name))
                .Select(n => new StagingQuality(n.Name,
                    staged[n.Name].Dropped ?? new Dictionary<string, long>(),
                    staged[n.Name].Nulled ?? new Dictionary<string, long>()))
                .ToList();
            _readouts[i] = _readouts[i] with { Staging = quality };
        }
    }

    /// <summary>
    /// The views the swap drops and creates again, in plan order: every view this run built, and every view already in
    /// the warehouse that reads (directly or through such a view) a table this run swaps in. PostgreSQL binds a view to
    /// the table itself, not its name, so a view left alone would follow the replaced table to its retired name and keep
    /// the drop of that table from happening.
    /// </summary>
    private List<PlanNode> ViewsToRecreate()
    {
        var replaced = new HashSet<string>(_built, StringComparer.Ordinal);
        var views = new List<PlanNode>();
        foreach (var node in session.Plan.Nodes)
        {
            if (!node.IsView || node.Query is null)
                continue;
            if (_built.Contains(node.Name))
                views.Add(node);
            else if (node.DependsOn.Any(replaced.Contains) && adapter.TableExists(node.Name))
            {
                views.Add(node);
                replaced.Add(node.Name);
            }
        }

        return views;
    }

    /// <summary>One finished piece of parallel work: a node (<paramref name="Node"/>) or a data test.</summary>
    private sealed record Finished(PlanNode? Node, PlannedTest? Test, NodeResult Result, IWarehouseAdapter Worker);

    /// <summary>
    /// <c>--threads N</c>: a node starts once every selected node it reads has finished and the data tests on those have
    /// run (a failing test skips what is downstream of it); a test starts once the nodes it reads have finished. Up to
    /// <c>threads</c> pieces of work run at once, each on its own connection. A failed node skips its descendants while
    /// independent nodes go on; nothing is swapped in unless everything succeeded. Results are listed in plan order,
    /// as a serial run lists them. All bookkeeping and every observer call happen on the calling thread.
    /// </summary>
    private string? BuildParallel(List<PlannedTest> tests, List<string> failedTests, Func<IWarehouseAdapter> openWorker)
    {
        var total = session.Selected.Count;
        var order = session.Selected.Select((n, i) => (n.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var failed = new List<NodeResult>();
        var pendingNodes = session.Selected.ToList();
        var pendingTests = tests.ToList();
        var runningTests = new List<PlannedTest>();
        var free = new Stack<IWarehouseAdapter>([adapter]);
        var opened = new List<IWarehouseAdapter>();
        var running = new List<Task<Finished>>();
        var canOpen = true;
        string? lost = null;

        bool Done(string name) => !_selected.Contains(name) || done.Contains(name);
        // As in a serial run, a node's tests run right after it, before anything downstream of it.
        bool Tested(string name) => pendingTests.Concat(runningTests).All(t => t.AttachedTo != name);
        bool NodeReady(PlanNode n) => n.DependsOn.All(d => Done(d) && Tested(d));
        bool TestReady(PlannedTest t) => (t.AttachedTo is null || Done(t.AttachedTo)) && t.Reads.All(Done);

        IWarehouseAdapter? Worker()
        {
            if (free.Count > 0)
                return free.Pop();
            if (!canOpen || opened.Count + 1 >= threads)
                return null;
            try
            {
                var worker = openWorker();
                opened.Add(worker);
                return worker;
            }
            catch (Exception e) when (e is TargetException || ProjectRunner.IsWarehouseFailure(e))
            {
                canOpen = false;
                observer.Info($"--threads {threads}: could not open another connection ({e.Message}); going on with {opened.Count + 1}");
                return null;
            }
        }

        void Skip(PlanNode node, string why)
        {
            var result = new NodeResult(node.Name, NodeResult.Skipped, 0, null, why);
            _results.Add(result);
            done.Add(node.Name);
            observer.NodeFinished(order[node.Name] + 1, total, node, result);
        }

        // The next piece of work that may start, in plan order; a skipped node or blocked test is settled at once.
        bool StartNext(bool force)
        {
            foreach (var test in pendingTests.Where(t => lost is not null || TestReady(t)).ToList())
            {
                var broken = test.Reads.FirstOrDefault(r => failed.Any(f => f.Node == r));
                var blocked = test.Reads.FirstOrDefault(skipped.ContainsKey);
                if (broken is null && blocked is null && lost is null)
                    continue;
                pendingTests.Remove(test);
                var result = TestRunner.Skip(test, lost ?? (broken is not null ? $"not run: `{broken}` failed" : $"not run: `{blocked}` was skipped ({skipped[blocked!]})"));
                _results.Add(result);
                observer.TestFinished(test, result);
                return true;
            }

            foreach (var node in pendingNodes.Where(n => lost is not null || skipped.ContainsKey(n.Name)).ToList())
            {
                if (lost is not null || skipped.ContainsKey(node.Name))
                {
                    pendingNodes.Remove(node);
                    Skip(node, lost ?? skipped[node.Name]);
                    return true;
                }
            }

            if (lost is not null)
                return false;
            var readyNode = pendingNodes.FirstOrDefault(n => force ? n.DependsOn.All(Done) : NodeReady(n));
            var readyTest = force && readyNode is not null ? null
                : pendingTests.FirstOrDefault(t => force ? t.AttachedTo is null || Done(t.AttachedTo) : TestReady(t));
            if (readyTest is null && readyNode is null)
                return false;
            if (Worker() is not { } worker)
                return false;
            if (readyTest is not null)
            {
                pendingTests.Remove(readyTest);
                runningTests.Add(readyTest);
                running.Add(Task.Run(() => new Finished(null, readyTest, RunTest(worker, Renderer(worker), readyTest), worker)));
            }
            else
            {
                pendingNodes.Remove(readyNode!);
                observer.NodeStarted(order[readyNode!.Name] + 1, total, readyNode);
                running.Add(Task.Run(() => new Finished(readyNode, null, RunNode(worker, readyNode), worker)));
            }

            return true;
        }

        try
        {
            while (pendingNodes.Count + pendingTests.Count + running.Count > 0)
            {
                while (StartNext(force: false))
                {
                }

                // Every remaining piece waits on another (a test reading a node that depends on what it guards): let the
                // first whose nodes are built go, as a serial run would.
                if (running.Count == 0 && !StartNext(force: true) && running.Count == 0)
                    break;
                if (running.Count == 0)
                    continue;

                var finished = running[Task.WaitAny([.. running])];
                running.Remove(finished);
                var (node, test, result, worker) = finished.Result;
                _results.Add(result);
                if (test is not null)
                {
                    runningTests.Remove(test);
                    observer.TestFinished(test, result);
                    if (result.Status is NodeResult.Fail or NodeResult.Error)
                    {
                        failedTests.Add(test.Name);
                        foreach (var read in test.Reads)
                            foreach (var descendant in session.Plan.Descendants(read))
                                skipped.TryAdd(descendant, $"not run: test `{test.Name}` failed on `{read}`");
                    }
                }
                else
                {
                    done.Add(node!.Name);
                    observer.NodeFinished(order[node.Name] + 1, total, node, result);
                    if (result.Status == NodeResult.Error)
                    {
                        failed.Add(result);
                        foreach (var descendant in session.Plan.Descendants(node.Name))
                            skipped.TryAdd(descendant, $"not run: `{node.Name}` failed");
                        if (!Alive(worker))
                        {
                            ConnectionLost = true;
                            lost = $"not run: the connection to the warehouse was lost while `{node.Name}` ran";
                            continue;
                        }
                    }
                }

                free.Push(worker);
            }
        }
        finally
        {
            Task.WaitAll([.. running]);
            foreach (var worker in opened)
            {
                try
                {
                    worker.Dispose();
                }
                catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
                {
                    // A connection that died mid-run cannot be closed cleanly; the failure is reported.
                }
            }
        }

        var testOrder = tests.Select((t, i) => (t.Name, i)).GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var inPlanOrder = _results.OrderBy(r => r.ResourceType == "test" ? (r.AttachedTo is { } on && order.TryGetValue(on, out var at) ? at : -1) : order[r.Node])
            .ThenBy(r => r.ResourceType == "test" ? testOrder.GetValueOrDefault(r.Node) + 1 : 0).ToList();
        _results.Clear();
        _results.AddRange(inPlanOrder);

        if (failed.Count == 0)
            return null;
        var first = failed.OrderBy(f => order[f.Node]).First();
        if (ConnectionLost)
            return $"node `{first.Node}` failed: the connection to the warehouse was lost ({first.Message}); no table was replaced, " +
                "and temporary tables left behind are dropped by the next run; rerun when the warehouse is back";
        DropBuilt();
        return failed.Count == 1
            ? $"node `{first.Node}` failed; no table was replaced: {first.Message}"
            : $"{failed.Count} nodes failed ({string.Join(", ", failed.OrderBy(f => order[f.Node]).Select(f => $"`{f.Node}`"))}); no table was replaced: {first.Message}";
    }

    /// <summary>
    /// Runs a data test. A row-level test of an incremental source whose staging this run built from a window reads only
    /// the raw rows that do not plainly read before the window (<see cref="Sql.Model.IsoTextNotBeforeExpr"/>) once it
    /// passed on the earlier ones (<see cref="TableReuse.EarlierRowsPassed"/>): the staging keeps those rows' staged
    /// rows as they are, so no new failure among them can reach a table.
    /// </summary>
    private NodeResult RunTest(IWarehouseAdapter db, SqlRenderer renderer, PlannedTest test)
    {
        var checksum = TestChecksum(db.Dialect, test);
        DateOnly? readFrom = null;
        var run = test;
        if (test.AttachedTo is { } attached && session.Plan.Contains(attached) && session.Plan[attached] is { Staging: { } staging } node
            && BuildOf(node)?.RecomputedFrom is { } window && test.FailingRows is Sql.Model.SelectQuery { From: Sql.Model.TableFrom { Alias: null } from } query
            && ReadsRawRowsOf(node, from.Relation) && _reuse.EarlierRowsPassed(test, checksum, window))
        {
            readFrom = window;
            run = test with { FailingRows = query with { Where = Sql.Model.Sql.And(query.Where, new Sql.Model.IsoTextNotBeforeExpr(Sql.Model.Sql.Col(staging.EventTime), window)) } };
        }

        var result = TestRunner.Run(db, renderer, run, session.Now, Audited);
        if (result.Status == NodeResult.Pass)
            _reuse.Passed(test, checksum, readFrom);
        return result;
    }

    /// <summary>Whether <paramref name="relation"/> is what a staging node stages: its raw table, or the model its source reads.</summary>
    private static bool ReadsRawRowsOf(PlanNode staging, Sql.Model.RelationRef relation) => relation switch
    {
        Sql.Model.SourceTableRef table => staging.SourceTables.Contains(table.Table),
        Sql.Model.NodeRef model => staging.DependsOn.Contains(model.Node),
        _ => false,
    };

    /// <summary>The checksum of a test's definition: its kind, severity and query on the tables' own names.</summary>
    private static string TestChecksum(SqlDialect dialect, PlannedTest test)
    {
        var query = new SqlRenderer(dialect, dialect.QuoteRelation).Render(test.FailingRows);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{test.Kind}\n{test.SeverityName}\n{query}")));
    }

    /// <summary>The retry of transient warehouse errors for one node; the observer hears of each retry.</summary>
    private Polly.ResiliencePipeline Retry(string node) => Retries.Pipeline(message =>
    {
        lock (observer)
            observer.Info($"`{node}`: {message}");
    });

    private SqlRenderer Renderer(IWarehouseAdapter db) => new(db.Dialect, node => db.Dialect.QuoteRelation(Relation(node)));

    /// <summary>Builds one node on <paramref name="db"/>, or reuses its table in place; a failure is its result, not an exception.</summary>
    private NodeResult RunNode(IWarehouseAdapter db, PlanNode node)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var renderer = Renderer(db);
            if (Reused(db, node, renderer) is { } reused)
                return reused;
            var (rows, dropped) = Retry(node.Name).Execute(() =>
            {
                var built = node.Kind == NodeKind.Readout ? BuildReadout(db, node) : BuildTable(db, node, renderer);
                return (built, node.Audit is { } audit ? Audit(db, node, audit, built, renderer) : null);
            });
            return new NodeResult(node.Name, NodeResult.Success, clock.Elapsed.TotalSeconds, rows, null, dropped?.Dropped)
            {
                Nulled = dropped?.Nulled, Incremental = BuildOf(node), Excluded = ExcludedUnits(db, node, renderer), Unchanged = IsUnchanged(node.Name),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new NodeResult(node.Name, NodeResult.Error, clock.Elapsed.TotalSeconds, null, e.Message);
        }
    }

    /// <summary>Every raw table and every unselected upstream table must exist before anything is built.</summary>
    private string? Preflight()
    {
        var problems = new List<string>();
        foreach (var node in session.Selected)
        {
            foreach (var table in node.SourceTables.Where(t => !adapter.TableExists(t)))
            {
                var source = session.Project.Sources.First(s => s.Table == table);
                problems.Add($"source table `{table}` (source `{source.Name}`, {source.Location}) does not exist in target `{session.Target.Name}`" +
                    (session.Project.Definition.DemoData is not null ? "; run `metricc seed` to load the demo data" : ""));
            }

            foreach (var dependency in node.DependsOn.Where(d => !_selected.Contains(d) && !adapter.TableExists(d)))
                problems.Add($"`{node.Name}` needs `{dependency}`, which is not selected and has not been built yet; select `+{node.Name}` to build it too");
        }

        return problems.Count == 0 ? null : string.Join(Environment.NewLine, problems.Distinct());
    }

    private long BuildTable(IWarehouseAdapter db, PlanNode node, SqlRenderer renderer)
    {
        if (node.Holdout is { } holdout)
            return BuildHoldoutExposures(db, node, renderer, holdout);
        var build = Build(node.Name);
        var relation = db.Dialect.QuoteRelation(build);
        if (node.IsView)
        {
            // A view is built under its build name too, so its tests and downstream nodes read this run's rows; the
            // swap replaces it by a view on the final names.
            db.Execute(db.Dialect.DropViewIfExists(relation));
            MarkBuilt(node.Name);
            db.Execute(db.Dialect.CreateViewAs(relation, renderer.Render(node.Query!)));
            return db.CountRows(build);
        }

        var query = node.Query!;
        if (node.Incremental is not null)
        {
            var decision = Decide(db, node, renderer);
            lock (_incremental)
                _incremental[node.Name] = decision;
            _reuse.Built(node, decision.RecomputedFrom);
            if (decision.RecomputedFrom is { } start)
            {
                if (node.Staging is { } staging && db.SwapsInOneTransaction)
                    return BuildMerge(db, node, staging, start, renderer);
                query = IncrementalSql.Rebuild(node, start);
            }
        }
        else if (node.MetricTable is { RecomputesFromADay: true } spec && db.SwapsInOneTransaction && _reuse.RecomputeFrom(node, db.TableExists) is { } changed
                 && BuildPeriodsFrom(db, node, spec, changed, renderer) is { } merged)
        {
            return merged;
        }
        else
        {
            _reuse.Built(node, null);
        }

        db.Execute(db.Dialect.DropTableIfExists(relation));
        MarkBuilt(node.Name);
        db.Execute(db.Dialect.CreateTableAs(relation, renderer.Render(query)));
        var rows = db.CountRows(build);
        if (node.Staging is { } rebuilt && BuildOf(node)?.RecomputedFrom is { } from && _reuse.WorthComparing(node, from))
            RecordWindowChange(db, node, rebuilt, from, build, renderer);
        else if (node.Incremental is null && _reuse.WorthComparing(node) && db.TableExists(node.Name) && SameRows(db, build, node.Name, rows))
        {
            // The same rows as the table in place: it stays, and what reads it may be reused.
            db.Execute(db.Dialect.DropTableIfExists(relation));
            lock (_built)
                _built.Remove(node.Name);
            _reuse.Unchanged(node);
        }

        return rows;
    }

    /// <summary>
    /// A metric table whose inputs changed only from <paramref name="changed"/> on: the periods from the one holding that
    /// day (in the project's time zone) are computed into <c>&lt;node&gt;__mc_window</c> and replace the table's in the
    /// swap, as an incremental staging's window does. Null (the caller builds it in full) when the table keeps no earlier
    /// period, or when the window's dimension values are not the table's: a value new to the window, or one it lacks,
    /// changes the earlier periods too (every period has a row per value).
    /// </summary>
    private long? BuildPeriodsFrom(IWarehouseAdapter db, PlanNode node, MetricTableSpec spec, DateOnly changed, SqlRenderer renderer)
    {
        var metric = session.Project.Metrics.First(m => m.Name == spec.Metric);
        var time = session.Project.Time;
        var local = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(changed.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), time.Zone));
        var start = PeriodStart(spec.Grain, local);
        var dialect = db.Dialect;
        var kept = Sql.Model.Sql.Lt(Sql.Model.Sql.Col(MetricTableColumns.Date), new Sql.Model.DateLiteral(start));
        var table = dialect.QuoteRelation(node.Name);
        if (Convert.ToInt64(db.Query($"select count(*) as kept from {table} where {renderer.Expr(kept)}").Single()["kept"], System.Globalization.CultureInfo.InvariantCulture) == 0)
            return null;

        var window = dialect.QuoteRelation(WindowTable(node.Name));
        var merge = dialect.QuoteRelation(MergeView(node.Name));
        db.Execute(dialect.DropViewIfExists(merge));
        db.Execute(dialect.DropTableIfExists(window));
        lock (_built)
            _merges[node.Name] = kept;
        db.Execute(dialect.CreateTableAs(window, renderer.Render(Planner.MetricTableQuery(session.Project, metric, metric.Definition.Materialize!, start).Query)));
        if (spec.Dimensions.Count > 0)
        {
            var values = string.Join(", ", spec.Dimensions.Select(dialect.QuoteIdentifier));
            var fresh = $"select distinct {values} from {window}";
            var old = $"select distinct {values} from {table}";
            var differing = db.Query($"select count(*) as differing from ({Differing(fresh, old)}) as changed").Single()["differing"];
            if (Convert.ToInt64(differing, System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                lock (_built)
                    _merges.Remove(node.Name);
                db.Execute(dialect.DropTableIfExists(window));
                return null;
            }
        }

        db.Execute(dialect.CreateViewAs(merge, $"select * from {table} where {renderer.Expr(kept)} union all select * from {window}"));
        lock (_incremental)
            _incremental[node.Name] = new IncrementalBuild(IncrementalBuild.Incremental,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"kept the periods before {start:yyyy-MM-dd}; recomputed {start:yyyy-MM-dd} on (what it reads changed from {changed:yyyy-MM-dd} on)"), start);
        _reuse.Built(node, start);
        return db.CountRows(MergeView(node.Name));
    }

    /// <summary>The first day of the period of <paramref name="grain"/> that holds <paramref name="day"/> (weeks start on Monday, as every dialect's truncation does).</summary>
    private static DateOnly PeriodStart(Sql.Model.TimeGrain grain, DateOnly day) => grain switch
    {
        Sql.Model.TimeGrain.Day => day,
        Sql.Model.TimeGrain.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
        Sql.Model.TimeGrain.Month => new DateOnly(day.Year, day.Month, 1),
        Sql.Model.TimeGrain.Quarter => new DateOnly(day.Year, ((day.Month - 1) / 3 * 3) + 1, 1),
        Sql.Model.TimeGrain.Year => new DateOnly(day.Year, 1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(grain)),
    };

    /// <summary>
    /// Whether <paramref name="build"/> holds the rows of <paramref name="table"/>: as many, and none that the table lacks.
    /// Only for a staging with a unique key, whose rows are distinct, so that the two say the tables are equal.
    /// </summary>
    private static bool SameRows(IWarehouseAdapter db, string build, string table, long rows)
    {
        var dialect = db.Dialect;
        if (db.CountRows(table) != rows)
            return false;
        var missing = db.Query($"select count(*) as missing from (select * from {dialect.QuoteRelation(build)} except select * from {dialect.QuoteRelation(table)}) as d").Single()["missing"];
        return Convert.ToInt64(missing, System.Globalization.CultureInfo.InvariantCulture) == 0;
    }

    /// <summary>
    /// An incremental staging's change, to the day: its rows from <paramref name="start"/> on in <paramref name="staged"/>
    /// (the window table, or the rebuilt table) against the table in place's. Re-staging the lookback days mostly gives
    /// the rows they had, so the change starts at the first day whose rows differ (none: only the retention's drops).
    /// </summary>
    /// <returns>Whether the table changed.</returns>
    private bool RecordWindowChange(IWarehouseAdapter db, PlanNode node, StagingQuery staging, DateOnly start, string staged, SqlRenderer renderer)
    {
        var dialect = db.Dialect;
        var since = renderer.Expr(Sql.Model.Sql.Ge(Sql.Model.Sql.Col(staging.EventTime), new Sql.Model.DateLiteral(start)));
        var fresh = $"select * from {dialect.QuoteRelation(staged)} where {since}";
        var old = $"select * from {dialect.QuoteRelation(node.Name)} where {since}";
        var first = db.Query($"select min({dialect.QuoteIdentifier(staging.EventTime)}) as first_changed from ({Differing(fresh, old)}) as changed").Single()["first_changed"];
        if (LatestDay(first) is { } day)
            _reuse.Built(node, day);
        else if (node.RetentionDays is not null)
            _reuse.Built(node, DateOnly.MaxValue);
        else
        {
            _reuse.Unchanged(node);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The rows in one of two queries and not the other (distinct rows, as a staging's or a dimension's are); each side
    /// nested, since SQLite has no parentheses around a compound select.
    /// </summary>
    private static string Differing(string fresh, string old) =>
        $"select * from ({fresh} except {old}) as added union all select * from ({old} except {fresh}) as removed";

    /// <summary>The node's result when its table in place can stay (<see cref="TableReuse"/>); null when it must be built.</summary>
    private NodeResult? Reused(IWarehouseAdapter db, PlanNode node, SqlRenderer renderer) =>
        _reuse.Reason(node, db.TableExists) is { } reason
            ? new NodeResult(node.Name, NodeResult.Reused, 0, null, reason) { Excluded = ExcludedUnits(db, node, renderer) }
            : null;

    private bool IsUnchanged(string node) => _reuse.IsUnchanged(node);

    /// <summary>
    /// An incremental staging on an engine whose swap is one transaction: only the window's rows are written, to
    /// <c>&lt;node&gt;__mc_window</c>; this run reads the staged rows through the view <c>&lt;node&gt;__mc_merge</c> (the
    /// rows kept in place and the window's), and the swap deletes what the table in place no longer keeps and inserts the
    /// window's rows, in the transaction that swaps in every other table. Nothing copies the history.
    /// </summary>
    private long BuildMerge(IWarehouseAdapter db, PlanNode node, StagingQuery staging, DateOnly start, SqlRenderer renderer)
    {
        var dialect = db.Dialect;
        var window = dialect.QuoteRelation(WindowTable(node.Name));
        var merge = dialect.QuoteRelation(MergeView(node.Name));
        db.Execute(dialect.DropViewIfExists(merge));
        db.Execute(dialect.DropTableIfExists(window));
        lock (_built)
            _merges[node.Name] = staging.Kept(start);
        db.Execute(dialect.CreateTableAs(window, renderer.Render(staging.Window(node.Name, start))));
        if (_reuse.WorthComparing(node, start) && !RecordWindowChange(db, node, staging, start, WindowTable(node.Name), renderer))
        {
            // The window's rows are those in place, and nothing is past retention: the table stays as it is.
            lock (_built)
                _merges.Remove(node.Name);
            db.Execute(dialect.DropTableIfExists(window));
            return db.CountRows(node.Name);
        }

        var rows = staging.Merged(node.Name, WindowTable(node.Name), start);
        db.Execute(dialect.CreateViewAs(merge, renderer.Render(rows)));
        return db.CountRows(MergeView(node.Name));
    }

    /// <summary>
    /// The indexes of every incremental staging table this run built in full, created by the swap on the final name (the
    /// replaced table's went with it); a merge keeps them, so their cost is paid once per full build.
    /// </summary>
    private IEnumerable<string> StagingIndexes(SqlDialect dialect)
    {
        if (!dialect.LooksUpByIndex)
            yield break;
        foreach (var node in session.Plan.Nodes.Where(n => _built.Contains(n.Name)))
            if (node.Staging is { } staging)
                foreach (var columns in staging.Lookups)
                    yield return dialect.CreateIndex(IndexName($"{node.Name}__mc_by_{string.Join("_", columns)}"), dialect.QuoteRelation(node.Name), columns);
    }

    /// <summary>The name as it is, or, past PostgreSQL's 63 characters, cut and made unique by a hash of the whole.</summary>
    private static string IndexName(string name) => name.Length <= 63 ? name
        : $"{name[..50]}_{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..12]}";

    /// <summary>The statements of the swap that change an incremental staging's or a metric table's table in place.</summary>
    private IEnumerable<string> MergeStatements(SqlDialect dialect, SqlRenderer final)
    {
        foreach (var node in session.Plan.Nodes.Where(n => _merges.ContainsKey(n.Name)))
        {
            var table = dialect.QuoteRelation(node.Name);
            yield return dialect.DropViewIfExists(dialect.QuoteRelation(MergeView(node.Name)));
            yield return $"delete from {table} where not ({final.Expr(_merges[node.Name])})";
            yield return $"insert into {table} select * from {dialect.QuoteRelation(WindowTable(node.Name))}";
            yield return dialect.DropTableIfExists(dialect.QuoteRelation(WindowTable(node.Name)));
        }
    }

    /// <summary>
    /// Whether an incremental model can keep the older days of its table in place: not with <c>--full-refresh</c>, not
    /// on its first build, not when its definition changed since that table was built (or nothing says what it was built
    /// from), not when the table is empty. Otherwise the run recomputes from <c>lookback_days</c> before its latest day.
    /// </summary>
    private IncrementalBuild Decide(IWarehouseAdapter db, PlanNode node, SqlRenderer renderer)
    {
        var config = node.Incremental!;
        if (session.FullRefresh)
            return new IncrementalBuild(IncrementalBuild.Full, "--full-refresh");
        if (!db.TableExists(node.Name))
            return new IncrementalBuild(IncrementalBuild.Full, "first build: the table does not exist yet");
        var checksum = _reuse.Checksum(node.Name);
        if (!session.RunState.TryGetValue(session.Target.Name, out var recorded) || !recorded.Tables.TryGetValue(node.Name, out var record))
            return new IncrementalBuild(IncrementalBuild.Full, $"no record of the definition the table in place was built from (target/{RunState.FileName})");
        var previous = record.Checksum;
        if (previous != checksum)
            return new IncrementalBuild(IncrementalBuild.Full, $"the definition changed since the table in place was built (checksum {previous[..Math.Min(12, previous.Length)]} -> {checksum[..12]})");
        var latest = LatestDay(db.Query(renderer.Render(IncrementalSql.Latest(node))).Single()["latest"]);
        if (latest is not { } day)
            return new IncrementalBuild(IncrementalBuild.Full, $"the table in place has no row with a `{config.EventTime}`");
        var start = IncrementalSql.WindowStart(day, config.LookbackDays);
        return new IncrementalBuild(IncrementalBuild.Incremental,
            $"kept the days before {start:yyyy-MM-dd}; recomputed {start:yyyy-MM-dd} on ({config.LookbackDays} lookback day{(config.LookbackDays == 1 ? "" : "s")} up to the latest day {day:yyyy-MM-dd}, and every later day)",
            start);
    }

    /// <summary>The day of an event-time value as a driver returns it (a date, a timestamp or ISO text).</summary>
    private static DateOnly? LatestDay(object? value) => value switch
    {
        null or DBNull => null,
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.UtcDateTime),
        string text when text.Length >= 10 && DateOnly.TryParseExact(text[..10], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var parsed) => parsed,
        _ => throw new WarehouseException($"the event time `{value}` is not a date or a timestamp: an incremental model's `event_time` must be one"),
    };

    /// <summary>
    /// An experiment's SRM counts: the exposed units left out of the analysis, by status (a variant the YAML does not
    /// declare, several variants); null for every other node.
    /// </summary>
    private static IReadOnlyDictionary<string, long>? ExcludedUnits(IWarehouseAdapter db, PlanNode node, SqlRenderer renderer)
    {
        if (node.Kind != NodeKind.SrmCounts)
            return null;
        var query = new Sql.Model.SelectQuery(
            [Sql.Model.Sql.Item(Sql.Model.Sql.Col("assignment_status")), Sql.Model.Sql.As(Sql.Model.Sql.Sum(Sql.Model.Sql.Col("units")), "units")],
            Sql.Model.Sql.From(new Sql.Model.NodeRef(node.Name)), GroupBy: [Sql.Model.Sql.Col("assignment_status")]);
        var excluded = new SortedDictionary<string, long>(StringComparer.Ordinal) { [AssignmentStatus.UndeclaredVariant] = 0, [AssignmentStatus.MultipleVariants] = 0 };
        foreach (var row in db.Query(renderer.Render(query)))
            if (row["assignment_status"] is string status && status != AssignmentStatus.Analysed && row["units"] is not (null or DBNull))
                excluded[status] = excluded.GetValueOrDefault(status) + Convert.ToInt64(row["units"], System.Globalization.CultureInfo.InvariantCulture);
        return excluded;
    }

    private IncrementalBuild? BuildOf(PlanNode node)
    {
        lock (_incremental)
            return _incremental.GetValueOrDefault(node.Name);
    }

    /// <summary>The columns of every exposures table, as a holdout's is written.</summary>
    private static readonly IReadOnlyList<ColumnSpec> ExposureColumns =
    [
        new("unit_id", Sql.Model.SqlType.String),
        new("variant", Sql.Model.SqlType.String),
        new("variant_count", Sql.Model.SqlType.Integer),
        new("first_exposure_at", Sql.Model.SqlType.Timestamp),
        new("assignment_status", Sql.Model.SqlType.String),
        new("hash_value", Sql.Model.SqlType.String),
    ];

    /// <summary>
    /// A holdout's exposures: the eligible units from the warehouse, each assigned from its namespace position (a unit
    /// without a hash value cannot be placed and is left out of the analysis, as an undeclared variant is).
    /// </summary>
    private long BuildHoldoutExposures(IWarehouseAdapter db, PlanNode node, SqlRenderer renderer, Core.Semantics.BoundHoldout holdout)
    {
        var rows = db.Query(renderer.Render(node.Query!)).Select(r =>
        {
            var hash = r["hash_value"] is { } h and not DBNull ? Convert.ToString(h, System.Globalization.CultureInfo.InvariantCulture) : null;
            return new object?[]
            {
                r["unit_id"], hash is null ? null : holdout.VariantOf(hash), 1L, r["first_exposure_at"],
                hash is null ? AssignmentStatus.UndeclaredVariant : AssignmentStatus.Analysed, hash,
            };
        }).ToList();
        MarkBuilt(node.Name);
        _reuse.Built(node, null);
        db.WriteTable(Build(node.Name), ExposureColumns, rows);
        return rows.Count;
    }

    private long BuildReadout(IWarehouseAdapter db, PlanNode node)
    {
        var analysed = new HashSet<string>(StringComparer.Ordinal);
        var analysedAt = DateTime.UtcNow;
        var rows = new List<object?[]>();
        foreach (var experiment in session.Project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            var statistics = Relation(NodeNames.Statistics(experiment.Id));
            var srm = Relation(NodeNames.SrmCounts(experiment.Id));
            if (!db.TableExists(statistics) || !db.TableExists(srm))
            {
                observer.Info($"experiment `{experiment.Id}` has no statistics yet; its readout is skipped");
                continue;
            }

            var segmentRows = experiment.Segments.Count > 0 && db.TableExists(Relation(NodeNames.SegmentStatistics(experiment.Id)))
                ? db.Query($"select * from {db.Dialect.QuoteRelation(Relation(NodeNames.SegmentStatistics(experiment.Id)))}")
                : [];
            var audit = experiment.Assignment is { } assignment && db.TableExists(Relation(NodeNames.Exposures(experiment.Id)))
                ? AssignmentAuditor.Audit(assignment.Rule, db.Query(
                    $"select hash_value, variant, variant_count, first_exposure_at from {db.Dialect.QuoteRelation(Relation(NodeNames.Exposures(experiment.Id)))}"), session.Project.Time)
                : null;
            var readout = ReadoutBuilder.Build(ExperimentLowering.Lower(experiment), new ExperimentTables(
                db.Query($"select * from {db.Dialect.QuoteRelation(statistics)}"),
                db.Query($"select * from {db.Dialect.QuoteRelation(srm)}"),
                segmentRows,
                audit));
            _readouts.Add(readout);
            analysed.Add(experiment.Id);
            rows.AddRange(ResultsTable.Rows(readout, analysedAt));
        }

        rows.InsertRange(0, ResultsTable.Existing(db, node.Name, analysed).ToList());
        MarkBuilt(node.Name);
        _reuse.Built(node, null);
        db.WriteTable(Build(node.Name), ResultsTable.Columns, rows);
        return rows.Count;
    }

    private void DropPiiSalt()
    {
        if (session.PiiSalt is null)
            return;
        try
        {
            adapter.Execute(adapter.Dialect.DropTableIfExists(adapter.Dialect.QuoteRelation(NodeNames.PiiSalt)));
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            // The connection is gone; the next run overwrites the table and drops it again.
        }
    }

    /// <summary>Upstream nodes built in this run are read from their temporary tables; the rest from their final tables.</summary>
    private string Relation(string node)
    {
        lock (_built)
            return _merges.ContainsKey(node) ? MergeView(node) : _built.Contains(node) ? Build(node) : node;
    }

    private void MarkBuilt(string node)
    {
        // A retried build marks its node again: it is swapped in once.
        lock (_built)
            if (!_built.Contains(node))
                _built.Add(node);
    }

    private static string Build(string node) => node + ProjectRunner.BuildSuffix;

    /// <summary>An incremental staging's rows of this run: the view over the rows kept in place and <see cref="WindowTable"/>.</summary>
    private static string MergeView(string node) => node + ProjectRunner.MergeSuffix;

    /// <summary>An incremental staging's window, staged in this run.</summary>
    private static string WindowTable(string node) => node + ProjectRunner.WindowSuffix;

    /// <summary>Whether the warehouse still answers (a cheap catalogue query).</summary>
    private bool Alive() => Alive(adapter);

    private static bool Alive(IWarehouseAdapter db)
    {
        try
        {
            db.TableExists("metricc_connection_probe");
            return true;
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            return false;
        }
    }

    /// <summary>A staging node's audit, kept for its row-count parity test, which would run the same query again.</summary>
    private StagingCounts Audit(IWarehouseAdapter db, PlanNode node, StagingAudit audit, long staged, SqlRenderer renderer)
    {
        var counts = TestRunner.Audit(db, audit, staged, renderer);
        lock (_audits)
            _audits[node.Name] = counts;
        return counts;
    }

    private StagingCounts? Audited(string node)
    {
        lock (_audits)
            return _audits.GetValueOrDefault(node);
    }

    private void DropBuilt()
    {
        // Views first: on PostgreSQL a view holds on to what it reads. Then an incremental staging's view and window
        // table (a built view may read the view), then the build tables.
        bool IsView(string node) => session.Plan.Contains(node) && session.Plan[node].IsView;
        var dialect = adapter.Dialect;
        IEnumerable<string> statements =
        [
            .. _built.Where(IsView).Select(n => dialect.DropViewIfExists(dialect.QuoteRelation(Build(n)))),
            .. _merges.Keys.SelectMany(n => new[] { dialect.DropViewIfExists(dialect.QuoteRelation(MergeView(n))), dialect.DropTableIfExists(dialect.QuoteRelation(WindowTable(n))) }),
            .. _built.Where(n => !IsView(n)).Select(n => dialect.DropTableIfExists(dialect.QuoteRelation(Build(n)))),
        ];
        foreach (var statement in statements)
        {
            try
            {
                adapter.Execute(statement);
            }
            catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
            {
                // Best effort: what is left behind is dropped again by the next run before it starts.
            }
        }
    }
}
