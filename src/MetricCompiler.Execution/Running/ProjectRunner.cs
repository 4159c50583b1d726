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
        if (PiiSalt(session, out var saltError) is { } salt)
            session = session with { PiiSalt = salt };
        else if (saltError is not null)
            return RunOutcome.Failed(ExitCodes.Usage, saltError, session.Diagnostics);
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

            return new RunOutcome(error is null ? ExitCodes.Success : Math.Max(exitCode, ExitCodes.Failure), session.Diagnostics, session.Compiled,
                results, error is null ? execution.Readouts : [], error);
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
    /// <c>metricc test</c>: runs the data tests of the selection against the tables in place (nothing is built or
    /// replaced); a test whose tables are not built yet is skipped, with the reason.
    /// </summary>
    public RunOutcome Test(RunRequest request)
    {
        var prepared = Prepare(request, out var session, compileSelectionOnly: false);
        if (session is null)
            return prepared!.Outcome;
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
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
            return RunOutcome.Failed(ExitCodes.Warehouse, $"cannot open the warehouse of target `{session.Target.Name}`: {e.Message}", session.Diagnostics);
        }

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
                    : TestRunner.Run(adapter, renderer, test);
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
        var load = ProjectLoader.Load(request.ProjectPath, request.Vars);
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
        var compiled = PlanCompiler.Compile(plan, dialect);
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

        var targetDirectory = Path.Combine(project.RootDirectory, "target");
        var writer = new ArtifactWriter(targetDirectory);
        var selection = selected.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var everything = selection.Count == plan.Nodes.Count;
        try
        {
            writer.WriteCompiled(compileSelectionOnly && !everything ? compiled.Where(c => selection.Contains(c.Node.Name)).ToList() : compiled,
                removeStale: everything || !compileSelectionOnly);
            writer.WriteManifest(bound, target, compiled, plan.Tests);
            writer.WriteCompiledTests(PlanCompiler.CompileTests(plan, dialect));
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
    SqlDialect Dialect)
{
    /// <summary>The salt of pii columns (a secret: never printed, written to a file or put in SQL text).</summary>
    public string? PiiSalt { get; init; }
}

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
                    : TestRunner.Run(adapter, renderer, test);
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

            observer.NodeStarted(i + 1, total, node);
            var clock = Stopwatch.StartNew();
            try
            {
                var rows = node.Kind == NodeKind.Readout ? BuildReadout(node) : BuildTable(node, renderer);
                var dropped = node.Audit is { } audit ? Audit(audit, rows, renderer) : null;
                var result = new NodeResult(node.Name, NodeResult.Success, clock.Elapsed.TotalSeconds, rows, null, dropped);
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

        if (failedTests.Count > 0)
        {
            // The atomic promise: a failing test keeps every table as it was, not only those downstream of it.
            DropBuilt();
            return $"{failedTests.Count} data test(s) failed ({string.Join(", ", failedTests)}); what they guard was skipped and no table was replaced";
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
            var views = session.Plan.Nodes.Where(n => n.IsView && _built.Contains(n.Name)).ToList();
            var final = new SqlRenderer(adapter.Dialect, node => adapter.Dialect.QuoteRelation(node));
            adapter.SwapTables(_built.Where(b => views.All(v => v.Name != b)).Select(b => (Build(b), b)).ToList(),
                views.SelectMany(v => new[] { adapter.Dialect.DropViewIfExists(adapter.Dialect.QuoteRelation(Build(v.Name))), adapter.Dialect.DropViewIfExists(adapter.Dialect.QuoteRelation(v.Name)) }).ToList(),
                views.Select(v => adapter.Dialect.CreateViewAs(adapter.Dialect.QuoteRelation(v.Name), final.Render(v.Query!))).ToList());
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
        if (node.Holdout is { } holdout)
            return BuildHoldoutExposures(node, renderer, holdout);
        var build = Build(node.Name);
        var relation = adapter.Dialect.QuoteRelation(build);
        if (node.IsView)
        {
            // A view is built under its build name too, so its tests and downstream nodes read this run's rows; the
            // swap replaces it by a view on the final names.
            adapter.Execute(adapter.Dialect.DropViewIfExists(relation));
            _built.Add(node.Name);
            adapter.Execute(adapter.Dialect.CreateViewAs(relation, renderer.Render(node.Query!)));
            return adapter.CountRows(build);
        }

        adapter.Execute(adapter.Dialect.DropTableIfExists(relation));
        _built.Add(node.Name);
        adapter.Execute(adapter.Dialect.CreateTableAs(relation, renderer.Render(node.Query!)));
        return adapter.CountRows(build);
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
    private long BuildHoldoutExposures(PlanNode node, SqlRenderer renderer, Core.Semantics.BoundHoldout holdout)
    {
        var rows = adapter.Query(renderer.Render(node.Query!)).Select(r =>
        {
            var hash = r["hash_value"] is { } h and not DBNull ? Convert.ToString(h, System.Globalization.CultureInfo.InvariantCulture) : null;
            return new object?[]
            {
                r["unit_id"], hash is null ? null : holdout.VariantOf(hash), 1L, r["first_exposure_at"],
                hash is null ? AssignmentStatus.UndeclaredVariant : AssignmentStatus.Analysed, hash,
            };
        }).ToList();
        _built.Add(node.Name);
        adapter.WriteTable(Build(node.Name), ExposureColumns, rows);
        return rows.Count;
    }

    /// <summary>The rows each staging rule dropped, read over the raw table; what is left beyond the staged rows were duplicates.</summary>
    private IReadOnlyDictionary<string, long> Audit(StagingAudit audit, long staged, SqlRenderer renderer)
    {
        var row = adapter.Query(renderer.Render(audit.Query)).Single();
        long Value(string column) => row.TryGetValue(column, out var v) && v is not null and not DBNull ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var dropped = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var column in audit.DroppedColumns)
            dropped[column] = Value(column);
        dropped[StagingAuditColumns.Duplicates] = Math.Max(0, Value(StagingAuditColumns.RawRows) - dropped.Values.Sum() - staged);
        return dropped;
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
        // Views first: on PostgreSQL a view holds on to the tables it reads.
        foreach (var node in _built.OrderBy(n => session.Plan.Contains(n) && session.Plan[n].IsView ? 0 : 1))
        {
            try
            {
                var relation = adapter.Dialect.QuoteRelation(Build(node));
                adapter.Execute(session.Plan.Contains(node) && session.Plan[node].IsView ? adapter.Dialect.DropViewIfExists(relation) : adapter.Dialect.DropTableIfExists(relation));
            }
            catch (Exception e) when (ProjectRunner.IsWarehouseFailure(e))
            {
                // Best effort: a leftover temporary table is dropped again by the next run.
            }
        }
    }
}
