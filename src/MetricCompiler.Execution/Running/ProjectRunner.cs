using System.Diagnostics;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Execution.Artifacts;
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
public sealed class ProjectRunner(IRunObserver observer)
{
    public const string BuildSuffix = "__mc_build";

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

        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var writer = new ArtifactWriter(session.TargetDirectory);
        IWarehouseAdapter adapter;
        try
        {
            adapter = AdapterFactory.Open(session.Target, session.Project.Definition.RootDirectory);
        }
        catch (TargetException e)
        {
            return RunOutcome.Failed(ExitCodes.Usage, e.Message, session.Diagnostics);
        }
        catch (Exception e) when (IsWarehouseFailure(e))
        {
            return RunOutcome.Failed(ExitCodes.Warehouse,
                $"cannot open the warehouse of target `{session.Target.Name}`: {e.Message}; nothing was run or replaced", session.Diagnostics);
        }

        try
        {
            observer.Info($"Running {session.Selected.Count} node(s) on target `{session.Target.Name}` ({adapter.Description})");
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

            var execution = new DagExecution(session, adapter, observer);
            var staged = new StagedFiles();

            // Every artifact of the run is written (under temporary names) before the swap, so a full disk or a
            // read-only target/ fails the run while the previous tables are still in place; after the swap they are
            // only renamed, and warehouse and artifacts agree.
            var error = execution.Execute(readouts =>
            {
                var analysedAt = DateTime.UtcNow;
                foreach (var readout in readouts)
                    staged.AddRange(writer.StageReadout(readout, analysedAt, session.Project.FindExperiment(readout.ExperimentId)?.Definition, session.Project.Time.ZoneId));
                staged.Add(writer.StageRunResults("run", session.Target, startedAt, clock.Elapsed.TotalSeconds, execution.Results, null));
            });
            var exitCode = ExitCodes.Success;
            if (error is null)
            {
                try
                {
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
                TryWrite(() => writer.WriteRunResults("run", session.Target, startedAt, clock.Elapsed.TotalSeconds, execution.Results, error));
            }

            return new RunOutcome(error is null ? ExitCodes.Success : Math.Max(exitCode, ExitCodes.Failure), session.Diagnostics, session.Compiled,
                execution.Results, error is null ? execution.Readouts : [], error);
        }
        finally
        {
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

    private Prepared? Prepare(RunRequest request, out RunSession? session, bool compileSelectionOnly)
    {
        session = null;
        var load = ProjectLoader.Load(request.ProjectPath);
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

        IReadOnlyList<PlanNode> selected;
        try
        {
            selected = NodeSelector.Select(plan, request.Select ?? [], request.Exclude ?? []);
        }
        catch (SelectorException e)
        {
            return new Prepared(RunOutcome.Failed(ExitCodes.Usage, e.Message, load.Diagnostics));
        }

        var dialect = SqlDialects.ForAdapter(target.Adapter);
        var compiled = PlanCompiler.Compile(plan, dialect);
        var targetDirectory = Path.Combine(project.RootDirectory, "target");
        var writer = new ArtifactWriter(targetDirectory);
        var selection = selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var everything = selection.Count == plan.Nodes.Count;
        try
        {
            writer.WriteCompiled(compileSelectionOnly && !everything ? compiled.Where(c => selection.Contains(c.Node.Name)).ToList() : compiled,
                removeStale: everything || !compileSelectionOnly);
            writer.WriteManifest(bound, target, compiled);
        }
        catch (ArtifactException e)
        {
            return new Prepared(RunOutcome.Failed(ExitCodes.Failure, e.Message, load.Diagnostics));
        }

        var written = compileSelectionOnly ? compiled.Where(c => selection.Contains(c.Node.Name)).ToList() : compiled;
        session = new RunSession(bound, target, plan, selected, compiled, targetDirectory, load.Diagnostics, dialect);
        return new Prepared(new RunOutcome(ExitCodes.Success, load.Diagnostics, written, [], [], null));
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
    SqlDialect Dialect);

/// <summary>One run of the selected nodes against one warehouse.</summary>
internal sealed class DagExecution(RunSession session, IWarehouseAdapter adapter, IRunObserver observer)
{
    private readonly HashSet<string> _selected = session.Selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
    private readonly List<string> _built = [];
    private readonly List<NodeResult> _results = [];
    private readonly List<ExperimentReadout> _readouts = [];

    public IReadOnlyList<NodeResult> Results => _results;

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
        var total = session.Selected.Count;
        for (var i = 0; i < total; i++)
        {
            var node = session.Selected[i];
            observer.NodeStarted(i + 1, total, node);
            var clock = Stopwatch.StartNew();
            try
            {
                var rows = node.Kind == NodeKind.Readout ? BuildReadout(node) : BuildTable(node, renderer);
                var result = new NodeResult(node.Name, NodeResult.Success, clock.Elapsed.TotalSeconds, rows, null);
                _results.Add(result);
                observer.NodeFinished(i + 1, total, node, result);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var result = new NodeResult(node.Name, NodeResult.Error, clock.Elapsed.TotalSeconds, null, e.Message);
                _results.Add(result);
                observer.NodeFinished(i + 1, total, node, result);
                _results.AddRange(session.Selected.Skip(i + 1).Select(n => new NodeResult(n.Name, NodeResult.Skipped, 0, null, $"not run: `{node.Name}` failed")));
                ConnectionLost = !Alive();
                if (ConnectionLost)
                    return $"node `{node.Name}` failed: the connection to the warehouse was lost ({e.Message}); no table was replaced, " +
                        "and temporary tables left behind are dropped by the next run; rerun when the warehouse is back";
                DropBuilt();
                return $"node `{node.Name}` failed; no table was replaced: {e.Message}";
            }
        }

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
            adapter.SwapTables(_built.Select(b => (Build(b), b)).ToList());
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

    private long BuildTable(PlanNode node, SqlRenderer renderer)
    {
        var build = Build(node.Name);
        var relation = adapter.Dialect.QuoteRelation(build);
        adapter.Execute(adapter.Dialect.DropTableIfExists(relation));
        _built.Add(node.Name);
        adapter.Execute(adapter.Dialect.CreateTableAs(relation, renderer.Render(node.Query!)));
        return adapter.CountRows(build);
    }

    private long BuildReadout(PlanNode node)
    {
        var analysed = new HashSet<string>(StringComparer.Ordinal);
        var analysedAt = DateTime.UtcNow;
        var rows = new List<object?[]>();
        foreach (var experiment in session.Project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            var statistics = Relation(NodeNames.Statistics(experiment.Id));
            var srm = Relation(NodeNames.SrmCounts(experiment.Id));
            if (!adapter.TableExists(statistics) || !adapter.TableExists(srm))
            {
                observer.Info($"experiment `{experiment.Id}` has no statistics yet; its readout is skipped");
                continue;
            }

            var segmentRows = experiment.Segments.Count > 0 && adapter.TableExists(Relation(NodeNames.SegmentStatistics(experiment.Id)))
                ? adapter.Query($"select * from {adapter.Dialect.QuoteRelation(Relation(NodeNames.SegmentStatistics(experiment.Id)))}")
                : [];
            var audit = experiment.Assignment is { } assignment && adapter.TableExists(Relation(NodeNames.Exposures(experiment.Id)))
                ? AssignmentAuditor.Audit(assignment.Rule, adapter.Query(
                    $"select hash_value, variant, variant_count, first_exposure_at from {adapter.Dialect.QuoteRelation(Relation(NodeNames.Exposures(experiment.Id)))}"), session.Project.Time)
                : null;
            var readout = ReadoutBuilder.Build(ExperimentLowering.Lower(experiment), new ExperimentTables(
                adapter.Query($"select * from {adapter.Dialect.QuoteRelation(statistics)}"),
                adapter.Query($"select * from {adapter.Dialect.QuoteRelation(srm)}"),
                segmentRows,
                audit));
            _readouts.Add(readout);
            analysed.Add(experiment.Id);
            rows.AddRange(ResultsTable.Rows(readout, analysedAt));
        }

        rows.InsertRange(0, ResultsTable.Existing(adapter, node.Name, analysed).ToList());
        _built.Add(node.Name);
        adapter.WriteTable(Build(node.Name), ResultsTable.Columns, rows);
        return rows.Count;
    }

    /// <summary>Upstream nodes built in this run are read from their temporary tables; the rest from their final tables.</summary>
    private string Relation(string node) => _built.Contains(node) ? Build(node) : node;

    private static string Build(string node) => node + ProjectRunner.BuildSuffix;

    /// <summary>Whether the warehouse still answers (a cheap catalogue query).</summary>
    private bool Alive()
    {
        try
        {
            adapter.TableExists("metricc_connection_probe");
            return true;
        }
        catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
        {
            return false;
        }
    }

    private void DropBuilt()
    {
        foreach (var node in _built)
        {
            try
            {
                adapter.Execute(adapter.Dialect.DropTableIfExists(adapter.Dialect.QuoteRelation(Build(node))));
            }
            catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
            {
                // Best effort: a leftover temporary table is dropped again by the next run.
            }
        }
    }
}
