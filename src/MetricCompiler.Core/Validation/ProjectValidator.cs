using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Expressions;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Core.Validation;

/// <summary>
/// Checks a loaded project as a whole: names, references, columns used by expressions, metric cycles and experiment
/// design. Every problem is reported; nothing stops at the first one.
/// </summary>
public static partial class ProjectValidator
{
    public static IReadOnlyList<string> Adapters => Sql.Dialects.SqlDialects.Names;

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    /// <summary>A warehouse name: letters, digits and underscores (the dialect quotes it where the engine needs it).</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex WarehouseNamePattern();

    /// <summary>A table, optionally qualified by schema (and catalog).</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")]
    private static partial Regex TableNamePattern();

    public static void Validate(ProjectDefinition project, DiagnosticBag diagnostics)
    {
        ValidateTargets(project, diagnostics);
        CheckUnique(project.Sources.Select(s => (s.Name, s.Location)), "source", diagnostics);
        CheckUnique(project.Metrics.Select(m => (m.Name, m.Location)), "metric", diagnostics);
        CheckUnique(project.Experiments.Select(e => (e.Id, e.Location)), "experiment", diagnostics);
        foreach (var source in project.Sources)
            ValidateSource(source, diagnostics);
        foreach (var metric in project.Metrics)
            ValidateMetric(project, metric, diagnostics);
        ValidateMetricGraph(project, diagnostics);
        foreach (var experiment in project.Experiments)
            ValidateExperiment(project, experiment, diagnostics);
    }

    private static void ValidateTargets(ProjectDefinition project, DiagnosticBag diagnostics)
    {
        foreach (var target in project.Targets)
        {
            if (!Adapters.Contains(target.Adapter))
                diagnostics.Error(DiagnosticCodes.InvalidValue, target.Location, $"target `{target.Name}`: unknown adapter `{target.Adapter}`",
                    NameSuggester.Suggest(target.Adapter, Adapters) is { } s ? $"did you mean `{s}`?" : $"adapters: {string.Join(", ", Adapters)}");
            foreach (var (key, value) in target.Settings)
            {
                if (key is "password" or "token" or "secret" or "private_key")
                    diagnostics.Error(DiagnosticCodes.InvalidValue, target.Location, $"target `{target.Name}`: `{key}` must not be written in the project file",
                        $"put the secret in an environment variable and write `{key}_env: VARIABLE_NAME`");
            }
        }

        if (project.DefaultTarget is { } name && project.Targets.All(t => t.Name != name))
            diagnostics.Error(DiagnosticCodes.UnknownTarget, new SourceLocation(project.ProjectFile, 1, 1), $"default_target `{name}` is not declared under `targets`",
                NameSuggester.Hint(name, project.Targets.Select(t => t.Name).ToList(), "target"));
    }

    private static void ValidateSource(SourceDefinition source, DiagnosticBag diagnostics)
    {
        CheckIdentifier(source.Name, "source", source.Location, diagnostics);
        if (!TableNamePattern().IsMatch(source.Table))
            diagnostics.Error(DiagnosticCodes.InvalidName, source.At("table"), $"source `{source.Name}`: table `{Shorten(source.Table)}` is not a table name",
                "a table is `name`, `schema.name` or `catalog.schema.name`, each part letters, digits and underscores");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in source.Columns)
        {
            if (!WarehouseNamePattern().IsMatch(column.Name))
                diagnostics.Error(DiagnosticCodes.InvalidName, column.Location, $"source `{source.Name}`: column `{Shorten(column.Name)}` is not a column name",
                    "column names are letters, digits and underscores, starting with a letter or underscore");
            if (!seen.Add(column.Name))
                diagnostics.Error(DiagnosticCodes.DuplicateColumn, column.Location, $"source `{source.Name}` declares column `{column.Name}` twice");
        }

        var columnNames = source.Columns.Select(c => c.Name).ToList();
        foreach (var (field, role) in new[] { ("entity", "entity"), ("event_time", "event time"), ("unique_key", "unique key") })
        {
            var name = field switch { "entity" => source.Entity, "event_time" => source.EventTime, _ => source.UniqueKey };
            if (string.IsNullOrEmpty(name))
                continue;
            var column = source.FindColumn(name);
            if (column is null)
                diagnostics.Error(DiagnosticCodes.UnknownColumn, source.At(field),
                    $"source `{source.Name}`: {role} column `{name}` is not declared under `columns`", NameSuggester.Hint(name, columnNames, "column"));
            else if (field == "event_time" && column.Type != ColumnType.Timestamp)
                diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, source.At(field),
                    $"source `{source.Name}`: event time column `{name}` is declared as {column.Type.ToString().ToLowerInvariant()}",
                    "declare it with `type: timestamp`");
        }
    }

    private static void ValidateMetric(ProjectDefinition project, MetricDefinition metric, DiagnosticBag diagnostics)
    {
        CheckIdentifier(metric.Name, "metric", metric.Location, diagnostics);
        var context = $"metric `{metric.Name}`";
        if (metric.IsRatio)
        {
            if (metric.Numerator is null)
                diagnostics.Error(DiagnosticCodes.MissingKey, metric.Location, $"{context}: a ratio needs a `numerator` metric");
            if (metric.Denominator is null)
                diagnostics.Error(DiagnosticCodes.MissingKey, metric.Location, $"{context}: a ratio needs a `denominator` metric");
            foreach (var reference in new[] { metric.Numerator, metric.Denominator })
            {
                if (reference is not null && project.FindMetric(reference.Name) is null)
                    diagnostics.Error(DiagnosticCodes.UnknownMetric, reference.Location, $"{context} references unknown metric `{reference.Name}`",
                        NameSuggester.Hint(reference.Name, project.Metrics.Select(m => m.Name).ToList(), "metric"));
            }

            foreach (var key in new[] { "source", "expr", "filter" })
            {
                if (metric.FieldLocations.ContainsKey(key))
                    diagnostics.Error(DiagnosticCodes.UnsupportedCombination, metric.At(key), $"{context}: a ratio takes no `{key}`",
                        "put source, expr and filter on the numerator and denominator metrics");
            }

            return;
        }

        foreach (var key in new[] { "numerator", "denominator" })
        {
            if (metric.FieldLocations.ContainsKey(key))
                diagnostics.Error(DiagnosticCodes.UnsupportedCombination, metric.At(key), $"{context}: `{key}` is only for `agg: ratio`");
        }

        if (metric.Source is null)
        {
            diagnostics.Error(DiagnosticCodes.MissingKey, metric.Location, $"{context}: required key `source` is missing");
            return;
        }

        var source = project.FindSource(metric.Source.Name);
        if (source is null)
        {
            diagnostics.Error(DiagnosticCodes.UnknownSource, metric.Source.Location, $"{context} references unknown source `{metric.Source.Name}`",
                NameSuggester.Hint(metric.Source.Name, project.Sources.Select(s => s.Name).ToList(), "source"));
            return;
        }

        if (metric.Expr is null && metric.Aggregation is MetricAggregation.Sum or MetricAggregation.Average or MetricAggregation.CountDistinct)
            diagnostics.Error(DiagnosticCodes.MissingKey, metric.Location,
                $"{context}: `agg: {AggregationName(metric.Aggregation)}` needs an `expr` naming what to aggregate", "for example `expr: revenue`");
        if (metric.Expr is not null && metric.Aggregation == MetricAggregation.Proportion)
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, metric.At("expr"),
                $"{context}: `agg: proportion` takes no `expr`; it is 1 when the unit has a qualifying event", "describe the qualifying events with `filter`");

        CheckSnippet(metric.Expr, source, context, diagnostics);
        CheckSnippet(metric.Filter, source, context, diagnostics);
    }

    /// <summary>Ratio metrics point at other metrics; report any cycle with its full path, and ratios of ratios.</summary>
    private static void ValidateMetricGraph(ProjectDefinition project, DiagnosticBag diagnostics)
    {
        var byName = project.Metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First());
        var state = new Dictionary<string, int>(); // 1 = visiting, 2 = done
        var reported = new HashSet<string>();
        foreach (var metric in project.Metrics)
            Visit(metric, []);

        foreach (var metric in project.Metrics.Where(m => m.IsRatio))
        {
            foreach (var reference in new[] { metric.Numerator, metric.Denominator })
            {
                if (reference is null || !byName.TryGetValue(reference.Name, out var target) || reference.Name == metric.Name)
                    continue;
                var role = reference == metric.Numerator ? "numerator" : "denominator";
                if (target.IsRatio)
                    diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                        $"metric `{metric.Name}`: the {role} `{reference.Name}` is itself a ratio",
                        "numerator and denominator must be count, sum, count_distinct or proportion metrics");
                else if (target.Aggregation == MetricAggregation.Average)
                    diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                        $"metric `{metric.Name}`: the {role} `{reference.Name}` is an average, which has no value for units without events",
                        "use the sum and the count it averages as numerator and denominator instead");
            }
        }

        void Visit(MetricDefinition metric, List<string> path)
        {
            if (state.GetValueOrDefault(metric.Name) == 2)
                return;
            if (state.GetValueOrDefault(metric.Name) == 1)
            {
                var cycle = path.Skip(path.IndexOf(metric.Name)).Append(metric.Name).ToList();
                var key = string.Join(">", cycle.Skip(1).Order());
                if (reported.Add(key))
                    diagnostics.Error(DiagnosticCodes.MetricCycle, metric.Location,
                        $"metric definitions form a cycle: {string.Join(" -> ", cycle)}", "a ratio's numerator and denominator must not lead back to it");
                return;
            }

            state[metric.Name] = 1;
            path.Add(metric.Name);
            foreach (var reference in new[] { metric.Numerator, metric.Denominator })
            {
                if (reference is not null && byName.TryGetValue(reference.Name, out var next))
                    Visit(next, path);
            }

            path.RemoveAt(path.Count - 1);
            state[metric.Name] = 2;
        }
    }

    private static void ValidateExperiment(ProjectDefinition project, ExperimentDefinition experiment, DiagnosticBag diagnostics)
    {
        var context = $"experiment `{experiment.Id}`";
        CheckIdentifier(experiment.Id, "experiment id", experiment.Location, diagnostics);

        var exposureSource = project.FindSource(experiment.Exposure.Source.Name);
        if (experiment.Exposure.Source.Name.Length > 0 && exposureSource is null)
            diagnostics.Error(DiagnosticCodes.UnknownSource, experiment.Exposure.Source.Location,
                $"{context}: exposure source `{experiment.Exposure.Source.Name}` is not declared",
                NameSuggester.Hint(experiment.Exposure.Source.Name, project.Sources.Select(s => s.Name).ToList(), "source"));
        if (exposureSource is not null)
        {
            if (exposureSource.FindColumn(experiment.Exposure.VariantColumn) is null)
                diagnostics.Error(DiagnosticCodes.UnknownColumn, experiment.Exposure.Location,
                    $"{context}: variant column `{experiment.Exposure.VariantColumn}` is not a column of source `{exposureSource.Name}`",
                    NameSuggester.Hint(experiment.Exposure.VariantColumn, exposureSource.Columns.Select(c => c.Name).ToList(), "column"));
            CheckSnippet(experiment.Exposure.Filter, exposureSource, $"{context} exposure", diagnostics);
        }

        ValidateVariants(experiment, context, diagnostics);
        ValidateSegments(project, experiment, context, diagnostics);

        if (experiment.Start > experiment.End && experiment.End != DateOnly.MinValue)
            diagnostics.Error(DiagnosticCodes.StartAfterEnd, experiment.At("start"),
                $"{context} starts on {experiment.Start:yyyy-MM-dd}, after its end {experiment.End:yyyy-MM-dd}", "swap `start` and `end`, or fix the dates");

        if (experiment.PrimaryMetrics.Count == 0)
            diagnostics.Error(DiagnosticCodes.NoPrimaryMetric, experiment.At("metrics"), $"{context} has no primary metric",
                "list the metric the decision rests on under `metrics: primary:`");

        var metricNames = project.Metrics.Select(m => m.Name).ToList();
        var listed = new Dictionary<string, string>(StringComparer.Ordinal);
        var guarded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var guardrail in experiment.Guardrails.Where(g => !guarded.Add(g.Metric.Name)))
            diagnostics.Warning(DiagnosticCodes.MetricListedTwice, guardrail.Metric.Location,
                $"{context}: metric `{guardrail.Metric.Name}` is listed twice under guardrails; only the first entry is checked");
        var references = experiment.PrimaryMetrics.Select(m => (m, "primary"))
            .Concat(experiment.SecondaryMetrics.Select(m => (m, "secondary")))
            .Concat(experiment.Guardrails.Select(g => (g.Metric, "guardrail")));
        foreach (var (reference, role) in references)
        {
            var metric = project.FindMetric(reference.Name);
            if (metric is null)
            {
                diagnostics.Error(DiagnosticCodes.UnknownMetric, reference.Location, $"{context}: {role} metric `{reference.Name}` is not declared",
                    NameSuggester.Hint(reference.Name, metricNames, "metric"));
                continue;
            }

            if (listed.TryGetValue(reference.Name, out var earlier) && !(earlier != "guardrail" && role == "guardrail"))
                diagnostics.Warning(DiagnosticCodes.MetricListedTwice, reference.Location,
                    $"{context}: metric `{reference.Name}` is listed as {earlier} and again as {role}; it is analysed once, as {earlier}");
            listed.TryAdd(reference.Name, role);
        }
    }

    private static void ValidateSegments(ProjectDefinition project, ExperimentDefinition experiment, string context, DiagnosticBag diagnostics)
    {
        CheckUnique(experiment.Analysis.Segments.Select(s => (s.Name, s.Location)), $"{context} segment", diagnostics);
        foreach (var segment in experiment.Analysis.Segments)
        {
            CheckIdentifier(segment.Name, "segment", segment.Location, diagnostics);
            var source = project.FindSource(segment.Source.Name);
            if (source is null)
            {
                diagnostics.Error(DiagnosticCodes.UnknownSource, segment.Source.Location, $"{context}: segment `{segment.Name}` reads unknown source `{segment.Source.Name}`",
                    NameSuggester.Hint(segment.Source.Name, project.Sources.Select(s => s.Name).ToList(), "source"));
                continue;
            }

            if (source.FindColumn(segment.Column) is null)
                diagnostics.Error(DiagnosticCodes.UnknownColumn, segment.Location, $"{context}: segment column `{segment.Column}` is not a column of source `{source.Name}`",
                    NameSuggester.Hint(segment.Column, source.Columns.Select(c => c.Name).ToList(), "column"));
        }
    }

    private static void ValidateVariants(ExperimentDefinition experiment, string context, DiagnosticBag diagnostics)
    {
        if (experiment.Variants.Count < 2)
            diagnostics.Error(DiagnosticCodes.ControlVariant, experiment.At("variants"), $"{context} needs at least two variants (a control and a treatment)");
        CheckUnique(experiment.Variants.Select(v => (v.Name, v.Location)), $"{context} variant", diagnostics);
        var controls = experiment.Variants.Count(v => v.IsControl);
        if (controls != 1 && experiment.Variants.Count > 0)
            diagnostics.Error(DiagnosticCodes.ControlVariant, experiment.At("variants"),
                controls == 0 ? $"{context} has no control variant" : $"{context} has {controls} control variants",
                "mark exactly one variant with `control: true`");
        foreach (var variant in experiment.Variants.Where(v => v.Weight is <= 0 or > 1))
            diagnostics.Error(DiagnosticCodes.OutOfRange, variant.Location, $"{context}: variant `{variant.Name}` has weight {Format(variant.Weight)}; weights are shares between 0 and 1");
        var total = experiment.Variants.Sum(v => v.Weight);
        if (experiment.Variants.Count > 0 && Math.Abs(total - 1) > 1e-6)
            diagnostics.Error(DiagnosticCodes.WeightsDoNotSumToOne, experiment.At("variants"),
                $"{context}: variant weights sum to {Format(total)}, not 1",
                $"weights are traffic shares: {string.Join(" + ", experiment.Variants.Select(v => Format(v.Weight)))} must equal 1");
    }

    private static void CheckSnippet(SqlSnippet? snippet, SourceDefinition source, string context, DiagnosticBag diagnostics)
    {
        if (snippet is not null)
            UserExpressions.Bind(snippet, source, context, diagnostics);
    }

    private static void CheckUnique(IEnumerable<(string Name, SourceLocation Location)> items, string what, DiagnosticBag diagnostics)
    {
        var first = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var (name, location) in items)
        {
            if (first.TryGetValue(name, out var earlier))
                diagnostics.Error(DiagnosticCodes.DuplicateName, location, $"{what} `{name}` is declared twice", $"first declared at {earlier}");
            else
                first[name] = location;
        }
    }

    /// <summary>Column names the planner itself writes into unit-metrics tables; a metric cannot take them.</summary>
    private static readonly HashSet<string> ReservedColumns = new(StringComparer.Ordinal) { "unit_id", "variant", "first_exposure_at" };

    private static void CheckIdentifier(string name, string what, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (name.StartsWith('<'))
            return;
        if (!IdentifierPattern().IsMatch(name))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"{what} name `{name}` is not a valid name",
                "use lowercase letters, digits and underscores, starting with a letter; names become table and column names");
        else if (name.Contains("__", StringComparison.Ordinal))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"{what} name `{name}` contains `__`",
                "a double underscore is reserved for the names metricc generates (`exp_<id>__exposures`, `<metric>__pre`); use a single one");
        else if (what == "metric" && ReservedColumns.Contains(name))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"metric name `{name}` is reserved",
                $"unit-metrics tables already have a `{name}` column; choose another name");
    }

    public static string AggregationName(MetricAggregation aggregation) => aggregation switch
    {
        MetricAggregation.CountDistinct => "count_distinct",
        _ => aggregation.ToString().ToLowerInvariant(),
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
