using System.Globalization;
using System.Text;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Execution.Queries;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Execution.Diff;

/// <summary>A compiled node as <c>manifest.json</c> records it: its kind, checksum, compiled SQL and dependencies.</summary>
public sealed record SnapshotNode(string Name, string Kind, string Checksum, string? Sql, IReadOnlyList<string> DependsOn, string? ExperimentId)
{
    /// <summary>
    /// The SQL without the positions of YAML definitions (the header's <c>-- defined at:</c> line, <c>file:line:col</c> in
    /// comments), which move when YAML above a definition changes: equal for two nodes that compute the same thing.
    /// </summary>
    public string? SqlWithoutOrigin => Sql is null ? null : Origins.WithoutPositions(Sql);
}

/// <summary>Removes where definitions are written from compiled SQL, so that moving a definition is not a change.</summary>
public static partial class Origins
{
    private const string DefinedAt = "-- defined at:";

    public static string WithoutPositions(string sql) =>
        Position().Replace(string.Join('\n', sql.Split('\n').Where(line => !line.StartsWith(DefinedAt, StringComparison.Ordinal))), "$1");

    [System.Text.RegularExpressions.GeneratedRegex(@"([\w./-]+\.(?:ya?ml|sql)):\d+:\d+")]
    private static partial System.Text.RegularExpressions.Regex Position();
}

/// <summary>
/// A metric, compiled the way a dashboard reads it (<c>metricc query --metrics m --group-by metric_time__day --explain</c>),
/// with the tables that query reads and the metrics it is computed from.
/// </summary>
public sealed record SnapshotMetric(string Name, string Sql, IReadOnlyList<string> Reads, IReadOnlyList<string> Inputs, string? MetricTable, string Summary);

/// <summary>An experiment: its dates, the metrics it analyses by role, and a fingerprint of every setting the decision reads.</summary>
public sealed record SnapshotExperiment(
    string Id,
    DateOnly Start,
    DateOnly End,
    IReadOnlyList<string> Primary,
    IReadOnlyList<string> Secondary,
    IReadOnlyList<string> Guardrails,
    IReadOnlyList<string> UnitMetrics,
    string Settings);

/// <summary>One side of a diff: a project compiled for a target, in memory (nothing is written under <c>target/</c>).</summary>
public sealed record ProjectSnapshot(
    string TargetName,
    string Dialect,
    TimeZoneInfo TimeZone,
    IReadOnlyDictionary<string, SnapshotNode> Nodes,
    IReadOnlyDictionary<string, SnapshotMetric> Metrics,
    IReadOnlyDictionary<string, SnapshotExperiment> Experiments)
{
    /// <summary>Today in the project's time zone: the date that decides which experiments are running.</summary>
    public DateOnly Today(DateTime utcNow) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utcNow, TimeZone));

    /// <summary>Each node's children: the manifest's <c>child_map</c>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ChildMap()
    {
        var children = Nodes.Keys.ToDictionary(n => n, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var node in Nodes.Values)
            foreach (var dependency in node.DependsOn)
                if (children.TryGetValue(dependency, out var list))
                    list.Add(node.Name);
        return children.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
    }
}

/// <summary>The outcome of compiling one side: the snapshot, or the diagnostics (or the message) that stopped it.</summary>
public sealed record SnapshotResult(ProjectSnapshot? Snapshot, IReadOnlyList<Diagnostic> Diagnostics, string? Error, bool BadTarget = false);

/// <summary>Loads, validates, plans and renders a project the way <c>metricc compile</c> does, keeping everything in memory.</summary>
public static class ProjectSnapshots
{
    public static SnapshotResult Compile(string projectDirectory, string? targetName)
    {
        var load = ProjectLoader.Load(projectDirectory);
        if (!load.Succeeded || load.Bound is not { } bound)
            return new SnapshotResult(null, load.Diagnostics, "the project is invalid");

        Core.Model.TargetDefinition target;
        try
        {
            target = AdapterFactory.Resolve(bound.Definition, targetName);
        }
        catch (TargetException e)
        {
            return new SnapshotResult(null, load.Diagnostics, e.Message, BadTarget: true);
        }

        ExecutionPlan plan;
        try
        {
            plan = Planner.Plan(bound);
        }
        catch (CompilationException e)
        {
            return new SnapshotResult(null, [.. load.Diagnostics, .. e.Diagnostics], "the project is invalid");
        }

        var dialect = SqlDialects.ForAdapter(target.Adapter);
        var unsupported = EngineSupport.Check(bound.Metrics.Where(m => m.Definition.Materialize is not null), dialect, "materialize");
        if (unsupported.Count > 0)
            return new SnapshotResult(null, [.. load.Diagnostics, .. unsupported], "the project is invalid");

        var nodes = PlanCompiler.Compile(plan, dialect).ToDictionary(
            c => c.Node.Name,
            c => new SnapshotNode(c.Node.Name, c.Node.KindName, c.Checksum, c.Sql, c.Node.DependsOn, c.Node.ExperimentId),
            StringComparer.Ordinal);
        var metricTables = plan.Nodes.Where(n => n.Kind == NodeKind.MetricTable).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var metrics = bound.Metrics.ToDictionary(m => m.Name, m => Metric(bound, m, dialect, metricTables), StringComparer.Ordinal);
        var experiments = bound.Experiments.ToDictionary(e => e.Id, Experiment, StringComparer.Ordinal);
        return new SnapshotResult(new ProjectSnapshot(target.Name, dialect.Name, bound.Time.Zone, nodes, metrics, experiments), load.Diagnostics, null);
    }

    private static SnapshotMetric Metric(BoundProject bound, Core.Metrics.BoundMetric metric, SqlDialect dialect, HashSet<string> metricTables)
    {
        var table = NodeNames.MetricTable(metric.Name);
        var materialized = metricTables.Contains(table) ? table : null;
        var inputs = metric.Inputs.Select(i => i.Name).ToList();
        var staged = metric.Sources.Select(s => NodeNames.Staging(s.Name)).ToList();
        try
        {
            var request = new MetricQuery([metric.Name], [MetricTime.Column(TimeGrain.Day)]);
            var planned = QueryPlanner.Plan(bound, request);
            return new SnapshotMetric(metric.Name, QueryRunner.Explain(bound, request, dialect), planned.Reads.Concat(staged).Distinct(StringComparer.Ordinal).ToList(), inputs, materialized, metric.Summary);
        }
        catch (Exception e) when (e is QueryException or CompilationException)
        {
            // A metric a dashboard cannot read by day on this engine is still compared, by what it computes.
            return new SnapshotMetric(metric.Name, $"-- {metric.Type.Name}: {metric.Summary}\n", staged, inputs, materialized, metric.Summary);
        }
    }

    private static SnapshotExperiment Experiment(BoundExperiment experiment)
    {
        var d = experiment.Definition;
        var a = d.Analysis;
        var settings = new StringBuilder();
        void Add(string key, object? value) => settings.Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        Add("start", d.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("end", d.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        foreach (var v in d.Variants)
            Add($"variant {v.Name}", $"{v.Weight.ToString(CultureInfo.InvariantCulture)} control={v.IsControl}");
        Add("primary", string.Join(",", d.PrimaryMetrics.Select(m => m.Name)));
        Add("secondary", string.Join(",", d.SecondaryMetrics.Select(m => m.Name)));
        foreach (var g in d.Guardrails)
            Add($"guardrail {g.Metric.Name}", $"{g.HarmfulDirection} {g.Margin.ToString(CultureInfo.InvariantCulture)}");
        Add("alpha", a.Alpha);
        Add("correction", a.Correction);
        Add("method", a.Method);
        Add("cuped", a.Cuped);
        Add("srm_threshold", a.SrmThreshold);
        Add("minimum_detectable_effect", a.MinimumDetectableEffect);
        Add("power", a.Power);
        Add("sequential_tuning", a.SequentialTuning);
        Add("prior", a.Prior);
        Add("balance_threshold", a.BalanceThreshold);
        Add("scale", a.Scale);
        foreach (var s in a.Segments)
            Add($"segment {s.Name}", $"{s.Source.Name}.{s.Column}");
        Add("decision", d.Decision);
        return new SnapshotExperiment(
            d.Id,
            d.Start,
            d.End,
            d.PrimaryMetrics.Select(m => m.Name).ToList(),
            d.SecondaryMetrics.Select(m => m.Name).ToList(),
            d.Guardrails.Select(g => g.Metric.Name).ToList(),
            experiment.UnitMetrics().Select(m => m.Name).ToList(),
            settings.ToString());
    }
}
