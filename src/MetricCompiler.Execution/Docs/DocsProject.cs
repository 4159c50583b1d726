using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Execution.Docs;

/// <summary>
/// What the docs site describes: the bound project, the compiled plan for one target (the same objects
/// <c>metricc compile</c> writes to <c>target/compiled</c> and <c>manifest.json</c>) and the folder holding the readouts
/// of the last run.
/// </summary>
public sealed record DocsProject(
    BoundProject Project,
    TargetDefinition Target,
    SqlDialect Dialect,
    ExecutionPlan Plan,
    IReadOnlyList<CompiledNode> Compiled,
    IReadOnlyList<(PlannedTest Test, string Sql)> Tests,
    string TargetDirectory)
{
    /// <summary>The warnings loading the project gave (errors make <see cref="Compile"/> throw).</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; init; } = [];

    /// <summary>Loads, binds, plans and compiles the project for <paramref name="targetName"/> (default: the project's).</summary>
    /// <exception cref="CompilationException">The project is invalid (located diagnostics).</exception>
    /// <exception cref="TargetException">No such target.</exception>
    public static DocsProject Compile(string projectDirectory, string? targetName)
    {
        var load = ProjectLoader.Load(projectDirectory);
        if (!load.Succeeded || load.Bound is not { } bound)
            throw new CompilationException(load.Diagnostics);
        var target = AdapterFactory.Resolve(bound.Definition, targetName);
        ExecutionPlan plan;
        try
        {
            plan = Planner.Plan(bound);
        }
        catch (CompilationException e)
        {
            throw new CompilationException([.. load.Diagnostics, .. e.Diagnostics]);
        }

        var dialect = SqlDialects.ForAdapter(target.Adapter);
        var unsupported = EngineSupport.Check(bound.Metrics.Where(m => m.Definition.Materialize is not null), dialect, "materialize");
        if (unsupported.Count > 0)
            throw new CompilationException([.. load.Diagnostics, .. unsupported]);
        return new DocsProject(bound, target, dialect, plan, PlanCompiler.Compile(plan, dialect), PlanCompiler.CompileTests(plan, dialect),
            Path.Combine(bound.Definition.RootDirectory, "target"))
        {
            Diagnostics = load.Diagnostics,
        };
    }
}
