using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Expressions;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Metrics.Types;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Validation;

/// <summary>
/// Checks a loaded project as a whole and binds it: names, references, columns used by expressions, metric cycles and
/// experiment design. Every problem is reported; nothing stops at the first one. When nothing is wrong the result is
/// the <see cref="BoundProject"/>, in which every reference is resolved.
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

    public static BoundProject? Validate(ProjectDefinition project, DiagnosticBag diagnostics)
    {
        var errorsBefore = diagnostics.Items.Count(d => d.IsError);
        ValidateTargets(project, diagnostics);
        var time = ValidateTime(project, diagnostics);
        CheckUnique(project.Sources.Select(s => (s.Name, s.Location)), "source", diagnostics);
        CheckUnique(project.Metrics.Select(m => (m.Name, m.Location)), "metric", diagnostics);
        CheckUnique(project.Experiments.Select(e => (e.Id, e.Location)), "experiment", diagnostics);

        var sources = new Dictionary<string, BoundSource>(StringComparer.Ordinal);
        foreach (var source in project.Sources)
        {
            if (ValidateSource(source, diagnostics) is { } bound)
                sources.TryAdd(source.Name, bound);
        }

        var definitions = new Dictionary<string, MetricDefinition>(StringComparer.Ordinal);
        foreach (var metric in project.Metrics)
        {
            CheckIdentifier(metric.Name, "metric", metric.Location, diagnostics);
            definitions.TryAdd(metric.Name, metric);
        }

        var binder = new MetricBinder(sources, definitions, diagnostics);
        var metrics = new List<BoundMetric>();
        // The binder returns one instance per name, so a metric declared twice (reported above) is added once.
        var added = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in project.Metrics)
        {
            if (binder.Bind(metric) is { } bound && added.Add(bound.Name))
            {
                metrics.Add(bound);
                ValidateCap(bound, diagnostics);
            }
        }

        var experiments = new List<BoundExperiment>();
        foreach (var experiment in project.Experiments)
        {
            if (ValidateExperiment(experiment, sources, binder, diagnostics) is { } bound)
                experiments.Add(bound);
        }

        ValidateNamespaces(experiments, diagnostics);

        // A source can fail to bind on an error the loader already reported (a missing `entity`), so both are checked.
        if (diagnostics.Items.Count(d => d.IsError) > errorsBefore || project.Sources.Any(s => !sources.ContainsKey(s.Name)))
            return null;
        return new BoundProject(project,
            project.Sources.Select(s => sources[s.Name]).ToList(),
            metrics,
            experiments,
            time);
    }

    /// <summary><c>time_zone</c>: an IANA zone such as <c>Europe/Berlin</c>; UTC when not given.</summary>
    private static ProjectTime ValidateTime(ProjectDefinition project, DiagnosticBag diagnostics)
    {
        if (project.TimeZone is not { } zone)
            return ProjectTime.Utc;
        if (zone.Name is "UTC" or "Etc/UTC")
            return ProjectTime.Utc with { Location = zone.Location };
        try
        {
            return new ProjectTime(zone.Name, TimeZoneInfo.FindSystemTimeZoneById(zone.Name), zone.Location);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            diagnostics.Error(DiagnosticCodes.InvalidValue, zone.Location, $"time_zone `{zone.Name}` is not a known time zone",
                "use an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`");
            return ProjectTime.Utc;
        }
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

    private static BoundSource? ValidateSource(SourceDefinition source, DiagnosticBag diagnostics)
    {
        CheckIdentifier(source.Name, "source", source.Location, diagnostics);
        var ok = true;
        if (!TableNamePattern().IsMatch(source.Table))
        {
            diagnostics.Error(DiagnosticCodes.InvalidName, source.At("table"), $"source `{source.Name}`: table `{Shorten(source.Table)}` is not a table name",
                "a table is `name`, `schema.name` or `catalog.schema.name`, each part letters, digits and underscores");
            ok = false;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in source.Columns)
        {
            if (!WarehouseNamePattern().IsMatch(column.Name))
            {
                diagnostics.Error(DiagnosticCodes.InvalidName, column.Location, $"source `{source.Name}`: column `{Shorten(column.Name)}` is not a column name",
                    "column names are letters, digits and underscores, starting with a letter or underscore");
                ok = false;
            }

            if (!seen.Add(column.Name))
            {
                diagnostics.Error(DiagnosticCodes.DuplicateColumn, column.Location, $"source `{source.Name}` declares column `{column.Name}` twice");
                ok = false;
            }
        }

        var columns = source.Columns.Select(c => new BoundColumn(c.Name, c.Type, c.Description, c.Pii, c.NonNegative)).ToList();
        foreach (var column in source.Columns.Where(c => c.NonNegative && c.Type is not (ColumnType.Integer or ColumnType.Number)))
        {
            diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, column.Location,
                $"source `{source.Name}`: column `{column.Name}` is declared as {column.Type.ToString().ToLowerInvariant()}; `non_negative` applies to numbers",
                "declare it with `type: number` or `type: integer`, or remove `non_negative`");
            ok = false;
        }

        foreach (var column in source.Columns.Where(c => c.Pii && c.Type != ColumnType.String))
        {
            diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, column.Location,
                $"source `{source.Name}`: pii column `{column.Name}` is declared as {column.Type.ToString().ToLowerInvariant()}; staging hashes text",
                "declare it with `type: string` (an id or a phone number is text to the hash)");
            ok = false;
        }

        var columnNames = source.Columns.Select(c => c.Name).ToList();
        BoundColumn? Role(string field, string role, string? name, bool required)
        {
            if (string.IsNullOrEmpty(name))
            {
                if (required)
                    ok = false;
                return null;
            }

            var column = columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (column is null)
            {
                diagnostics.Error(DiagnosticCodes.UnknownColumn, source.At(field),
                    $"source `{source.Name}`: {role} column `{name}` is not declared under `columns`", NameSuggester.Hint(name, columnNames, "column"));
                ok = false;
            }

            return column;
        }

        var entity = Role("entity", "entity", source.Entity, true);
        var time = Role("event_time", "event time", source.EventTime, true);
        var key = Role("unique_key", "unique key", source.UniqueKey, false);
        if (time is not null && time.Type != ColumnType.Timestamp)
        {
            diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, source.At("event_time"),
                $"source `{source.Name}`: event time column `{time.Name}` is declared as {time.Type.ToString().ToLowerInvariant()}",
                "declare it with `type: timestamp`");
            ok = false;
        }

        if (time is not null && time.Pii)
        {
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, source.At("event_time"),
                $"source `{source.Name}`: the event time column `{time.Name}` cannot be pii", "every metric counts time from it; hash another column instead");
            ok = false;
        }

        var consent = ValidateConsent(source, columns, diagnostics, ref ok);
        var governance = new SourceGovernance(columns.Where(c => c.Pii).ToList(), consent, source.RetentionDays);
        return ok && entity is not null && time is not null ? new BoundSource(source, entity, time, key, columns, governance) : null;
    }

    /// <summary>The consent column is declared, not pii (its value is compared) and the value has the column's type.</summary>
    private static BoundConsent? ValidateConsent(SourceDefinition source, IReadOnlyList<BoundColumn> columns, DiagnosticBag diagnostics, ref bool ok)
    {
        if (source.Consent is not { } consent)
            return null;
        var column = columns.FirstOrDefault(c => string.Equals(c.Name, consent.Column.Name, StringComparison.OrdinalIgnoreCase));
        if (column is null)
        {
            diagnostics.Error(DiagnosticCodes.UnknownColumn, consent.Column.Location,
                $"source `{source.Name}`: consent column `{consent.Column.Name}` is not declared under `columns`",
                NameSuggester.Hint(consent.Column.Name, columns.Select(c => c.Name).ToList(), "column"));
            ok = false;
            return null;
        }

        if (column.Pii)
        {
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, consent.Column.Location,
                $"source `{source.Name}`: consent column `{column.Name}` is pii, so its value is hashed before it can be compared", "remove `pii: true` from the consent column");
            ok = false;
            return null;
        }

        SqlExpr? value = column.Type switch
        {
            ColumnType.String => new StringLiteral(consent.Value),
            ColumnType.Boolean => consent.Value.ToLowerInvariant() switch { "true" => new BooleanLiteral(true), "false" => new BooleanLiteral(false), _ => null },
            ColumnType.Number or ColumnType.Integer => double.TryParse(consent.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? new NumberLiteral(consent.Value) : null,
            _ => null,
        };
        if (value is null)
        {
            diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, consent.Location,
                $"source `{source.Name}`: consent value `{consent.Value}` is not a {column.Type.ToString().ToLowerInvariant()} value of column `{column.Name}`",
                column.Type == ColumnType.Boolean ? "write `value: true`" : "consent columns are strings, booleans or numbers");
            ok = false;
            return null;
        }

        return new BoundConsent(column, value, consent.Value);
    }

    private static BoundExperiment? ValidateExperiment(ExperimentDefinition experiment, IReadOnlyDictionary<string, BoundSource> sources, MetricBinder binder, DiagnosticBag diagnostics)
    {
        var context = $"experiment `{experiment.Id}`";
        var errorsBefore = diagnostics.Items.Count(d => d.IsError);
        CheckIdentifier(experiment.Id, "experiment id", experiment.Location, diagnostics);

        BoundExposure? exposure = null;
        var exposureSource = experiment.Exposure.Source.Name.Length > 0 ? binder.Source(experiment.Exposure.Source, $"{context}: exposure") : null;
        if (exposureSource is not null)
        {
            VariantOrigin? origin;
            if (experiment.Holdout is { } holdout)
            {
                var attributes = BindHashAttributes(holdout.HashAttributes, exposureSource, holdout.Location, $"{context} holdout", diagnostics);
                origin = attributes is null ? null : new HeldOutByHash(new BoundHoldout(holdout, attributes,
                    new MetricCompiler.Assignment.NamespaceRange(holdout.Share.Name, holdout.Share.Start, holdout.Share.End)));
            }
            else
            {
                var variantColumn = exposureSource.FindColumn(experiment.Exposure.VariantColumn);
                if (variantColumn is null)
                    diagnostics.Error(DiagnosticCodes.UnknownColumn, experiment.Exposure.Location,
                        $"{context}: variant column `{experiment.Exposure.VariantColumn}` is not a column of source `{exposureSource.Name}`",
                        NameSuggester.Hint(experiment.Exposure.VariantColumn, exposureSource.Columns.Select(c => c.Name).ToList(), "column"));
                origin = variantColumn is null ? null : new LoggedVariant(variantColumn);
            }

            var filter = binder.Expression(experiment.Exposure.Filter, exposureSource, $"{context} exposure");
            if (origin is not null && (experiment.Exposure.Filter is null || filter is not null))
                exposure = new BoundExposure(exposureSource, origin, filter);
        }

        ValidateVariants(experiment, context, diagnostics);
        var segments = ValidateSegments(experiment, sources, binder, context, diagnostics);

        if (experiment.Start > experiment.End && experiment.End != DateOnly.MinValue)
            diagnostics.Error(DiagnosticCodes.StartAfterEnd, experiment.At("start"),
                $"{context} starts on {experiment.Start:yyyy-MM-dd}, after its end {experiment.End:yyyy-MM-dd}", "swap `start` and `end`, or fix the dates");

        if (experiment.PrimaryMetrics.Count == 0)
            diagnostics.Error(DiagnosticCodes.NoPrimaryMetric, experiment.At("metrics"), $"{context} has no primary metric",
                "list the metric the decision rests on under `metrics: primary:`");

        var guarded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var guardrail in experiment.Guardrails.Where(g => !guarded.Add(g.Metric.Name)))
            diagnostics.Warning(DiagnosticCodes.MetricListedTwice, guardrail.Metric.Location,
                $"{context}: metric `{guardrail.Metric.Name}` is listed twice under guardrails; only the first entry is checked");

        var listed = new Dictionary<string, MetricRole>(StringComparer.Ordinal);
        var metrics = new List<BoundExperimentMetric>();
        var references = experiment.PrimaryMetrics.Select(m => (Reference: m, Role: MetricRole.Primary, Guardrail: (GuardrailDefinition?)null))
            .Concat(experiment.SecondaryMetrics.Select(m => (Reference: m, Role: MetricRole.Secondary, Guardrail: (GuardrailDefinition?)null)))
            .Concat(experiment.Guardrails.Select(g => (Reference: g.Metric, Role: MetricRole.Guardrail, Guardrail: (GuardrailDefinition?)g)));
        foreach (var (reference, role, guardrail) in references)
        {
            var roleName = role.ToString().ToLowerInvariant();
            var metric = binder.Metric(reference, $"{context}: {roleName} metric");
            if (metric is null)
                continue;
            if (metric is SimpleMetric { Aggregation: Aggregation.Percentile, Fraction: { } fraction } && !(fraction > 0 && fraction < 1))
            {
                diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                    $"{context}: {roleName} metric `{reference.Name}` is the percentile {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}, which an experiment cannot compare",
                    "the quantile test needs a level strictly between 0 and 1, such as `percentile: 0.95`; the minimum and maximum have no confidence interval");
                continue;
            }

            if (!metric.InExperiments)
            {
                diagnostics.Error(DiagnosticCodes.UnsupportedCombination, reference.Location,
                    $"{context}: {roleName} metric `{reference.Name}` is a {metric.Type.Name} metric, which has no value per exposed unit",
                    $"experiments analyse metrics with a value per unit: {string.Join(", ", UnitValueTypes)}; derived metrics qualify when none of their inputs is offset");
                continue;
            }

            if (listed.TryGetValue(reference.Name, out var earlier))
            {
                if (!(earlier != MetricRole.Guardrail && role == MetricRole.Guardrail))
                    diagnostics.Warning(DiagnosticCodes.MetricListedTwice, reference.Location,
                        $"{context}: metric `{reference.Name}` is listed as {earlier.ToString().ToLowerInvariant()} and again as {roleName}; it is analysed once, as {earlier.ToString().ToLowerInvariant()}");
                else if (guardrail is not null)
                    metrics[metrics.FindIndex(m => m.Metric.Name == reference.Name)] = metrics.First(m => m.Metric.Name == reference.Name) with { Guardrail = guardrail };
                continue;
            }

            listed[reference.Name] = role;
            metrics.Add(new BoundExperimentMetric(metric, role, guardrail));
        }

        var assignment = exposure is null ? null : ValidateAssignment(experiment, exposure, context, diagnostics);
        var covariates = ValidateCovariates(experiment, binder, context, diagnostics);
        var attributeCovariates = ValidateAttributeCovariates(experiment, binder, context, diagnostics);
        var control = experiment.Control;
        if (diagnostics.Items.Count(d => d.IsError) > errorsBefore || exposure is null || control is null || segments is null)
            return null;
        return new BoundExperiment(experiment, exposure, control, metrics, segments, assignment) { Covariates = covariates, AttributeCovariates = attributeCovariates };
    }

    /// <summary>
    /// <c>analysis.covariates</c>: each a declared simple metric that is 0 for a unit without rows (count, sum,
    /// count_distinct, proportion), so its pre-exposure value is defined for every unit; each once.
    /// </summary>
    private static IReadOnlyList<SimpleMetric> ValidateCovariates(ExperimentDefinition experiment, MetricBinder binder, string context, DiagnosticBag diagnostics)
    {
        var result = new List<SimpleMetric>();
        foreach (var reference in experiment.Analysis.Covariates)
        {
            var metric = binder.Metric(reference, $"{context}: covariate");
            if (metric is null)
                continue;
            if (metric is not SimpleMetric { ZeroWhenEmpty: true, HasUnitValue: true } simple)
            {
                diagnostics.Error(DiagnosticCodes.InvalidCovariate, reference.Location,
                    $"{context}: covariate `{reference.Name}` is a {(metric is SimpleMetric s ? $"`agg: {Aggregations.YamlName(s.Aggregation)}`" : metric.Type.Name)} metric; its value before exposure is not defined for every unit",
                    "a covariate is a count, sum, count_distinct or proportion metric of one source: its value in the `cuped.lookback_days` before first exposure, 0 without events");
                continue;
            }

            if (result.Any(r => r.Name == simple.Name))
            {
                diagnostics.Error(DiagnosticCodes.InvalidCovariate, reference.Location, $"{context}: covariate `{reference.Name}` is listed twice",
                    "list each covariate once: the same column twice is collinear");
                continue;
            }

            result.Add(simple);
        }

        return result;
    }

    /// <summary>
    /// <c>analysis.covariates</c>' unit attributes: a column of a declared source with one row per unit (MC3011); numeric,
    /// or text/boolean with at least two distinct <c>levels</c> (MC3010); each attribute once.
    /// </summary>
    private static IReadOnlyList<BoundAttributeCovariate> ValidateAttributeCovariates(ExperimentDefinition experiment, MetricBinder binder, string context, DiagnosticBag diagnostics)
    {
        var result = new List<BoundAttributeCovariate>();
        foreach (var attribute in experiment.Analysis.AttributeCovariates)
        {
            var source = binder.Source(attribute.Source, $"{context}: covariate `{attribute.Attribute}`");
            if (source is null)
                continue;
            var column = source.FindColumn(attribute.Attribute);
            if (column is null)
            {
                diagnostics.Error(DiagnosticCodes.InvalidAttributeCovariate, attribute.Location, $"{context}: covariate attribute `{attribute.Attribute}` is not a column of source `{source.Name}`",
                    NameSuggester.Hint(attribute.Attribute, source.Columns.Select(c => c.Name).ToList(), "column"));
                continue;
            }

            if (!source.IsOneRowPerEntity)
            {
                diagnostics.Error(DiagnosticCodes.AttributeSourceNotPerUnit, attribute.Location,
                    $"{context}: covariate attribute `{attribute.Attribute}`: source `{source.Name}` does not declare one row per unit (`unique_key: {source.Entity.Name}`)",
                    "a unit attribute comes from a source with one row per unit, such as a users table");
                continue;
            }

            var numeric = column.Type is ColumnType.Integer or ColumnType.Number;
            if (attribute.Levels is null && !numeric)
            {
                diagnostics.Error(DiagnosticCodes.InvalidAttributeCovariate, attribute.Location,
                    $"{context}: covariate attribute `{attribute.Attribute}` is a {column.Type.ToString().ToLowerInvariant()} column without `levels`",
                    "list its categories: `levels: [first, second, ...]` (the first is the reference, the rest get one 0/1 column each)");
                continue;
            }

            if (attribute.Levels is { } levels && (levels.Count < 2 || levels.Distinct(StringComparer.Ordinal).Count() != levels.Count || column.Type == ColumnType.Timestamp))
            {
                diagnostics.Error(DiagnosticCodes.InvalidAttributeCovariate, attribute.Location,
                    column.Type == ColumnType.Timestamp
                        ? $"{context}: covariate attribute `{attribute.Attribute}` is a timestamp column; it cannot have levels"
                        : $"{context}: covariate attribute `{attribute.Attribute}` needs at least two distinct levels, not [{string.Join(", ", levels)}]",
                    "a categorical attribute lists each category once; the first is the reference");
                continue;
            }

            var bound = new BoundAttributeCovariate(attribute, source, column);
            if (result.Any(r => r.Name == bound.Name))
            {
                diagnostics.Error(DiagnosticCodes.InvalidAttributeCovariate, attribute.Location, $"{context}: covariate attribute `{attribute.Attribute}` is listed twice",
                    "list each covariate once: the same column twice is collinear");
                continue;
            }

            result.Add(bound);
        }

        return result;
    }

    /// <summary>The hash attributes are columns of the exposure source; overrides name declared variants.</summary>
    private static BoundAssignment? ValidateAssignment(ExperimentDefinition experiment, BoundExposure exposure, string context, DiagnosticBag diagnostics)
    {
        if (experiment.Assignment is not { } assignment)
            return null;
        context = $"{context} assignment";
        var attributes = BindHashAttributes(assignment.HashAttributes, exposure.Source, assignment.Location, context, diagnostics);
        var ok = attributes is not null;
        var variants = experiment.Variants.Select(v => v.Name).ToList();
        foreach (var (unit, variant) in assignment.Overrides.Where(o => !variants.Contains(o.Value)))
        {
            diagnostics.Error(DiagnosticCodes.InvalidValue, assignment.At("overrides"),
                $"{context}: override of unit `{unit}` names variant `{variant}`, which the experiment does not declare", $"variants: {string.Join(", ", variants)}");
            ok = false;
        }

        if (!ok || attributes is null || !MetricCompiler.Assignment.UnitHash.Versions.Contains(assignment.HashVersion))
            return null;
        var rule = new MetricCompiler.Assignment.AssignmentRule(
            assignment.Seed ?? experiment.Id,
            assignment.HashVersion,
            variants,
            experiment.Variants.Select(v => v.Weight).ToList(),
            assignment.Coverage,
            assignment.Namespace is { } ns ? new MetricCompiler.Assignment.NamespaceRange(ns.Name, ns.Start, ns.End) : null,
            assignment.Overrides);
        return new BoundAssignment(assignment, attributes, rule);
    }

    /// <summary>
    /// Hash attributes: columns of the exposure source, text (the SDKs hash text) and not pii (the raw id must reach the
    /// hash); the entity when none is named. Null when any is invalid (the diagnostics say why).
    /// </summary>
    private static IReadOnlyList<BoundColumn>? BindHashAttributes(IReadOnlyList<NameReference> references, BoundSource source, SourceLocation fallback,
        string context, DiagnosticBag diagnostics)
    {
        var ok = true;
        var attributes = new List<BoundColumn>();
        foreach (var reference in references)
        {
            if (source.FindColumn(reference.Name) is { } column)
            {
                attributes.Add(column);
                continue;
            }

            diagnostics.Error(DiagnosticCodes.UnknownColumn, reference.Location,
                $"{context}: hash attribute `{reference.Name}` is not a column of the exposure source `{source.Name}`",
                NameSuggester.Hint(reference.Name, source.Columns.Select(c => c.Name).ToList(), "column"));
            ok = false;
        }

        if (attributes.Count == 0 && ok)
            attributes.Add(source.Entity);
        SourceLocation At(BoundColumn column) => references.FirstOrDefault(r => r.Name == column.Name)?.Location ?? fallback;
        foreach (var column in attributes.Where(c => c.Type != ColumnType.String))
        {
            diagnostics.Error(DiagnosticCodes.ColumnTypeMismatch, At(column),
                $"{context}: hash attribute `{column.Name}` is declared as {column.Type.ToString().ToLowerInvariant()}; the SDKs hash text",
                "declare the column with `type: string` (an id is text to the hash even when it looks like a number)");
            ok = false;
        }

        foreach (var column in attributes.Where(c => c.Pii))
        {
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, At(column),
                $"{context}: hash attribute `{column.Name}` is pii, so staging hashes it and the audit could not recompute the SDK's assignment",
                "hash a non-personal id, or leave the assignment undeclared for this experiment");
            ok = false;
        }

        return ok ? attributes : null;
    }

    /// <summary>Experiments that run at the same time in one namespace must take shares that do not overlap (mutually exclusive).</summary>
    private static void ValidateNamespaces(IReadOnlyList<BoundExperiment> experiments, DiagnosticBag diagnostics)
    {
        // Each experiment's share of a namespace, and where it is written: an assignment's namespace or a holdout's range.
        var shares = experiments
            .Select(e => e.Assignment is { Rule.Namespace: { } ns } a ? (Experiment: e, Share: ns, At: a.Definition.Namespace!.Location, What: "experiment")
                : e.Holdout is { } h ? (Experiment: e, Share: h.Range, At: h.Definition.Location, What: "holdout")
                : default)
            .Where(s => s.Experiment is not null)
            .ToList();
        for (var i = 0; i < shares.Count; i++)
        for (var j = i + 1; j < shares.Count; j++)
        {
            var (a, b) = (shares[i], shares[j]);
            var concurrent = a.Experiment.Definition.Start <= b.Experiment.Definition.End && b.Experiment.Definition.Start <= a.Experiment.Definition.End;
            if (concurrent && a.Share.Overlaps(b.Share))
                diagnostics.Error(DiagnosticCodes.NamespaceOverlap, b.At,
                    $"{b.What} `{b.Experiment.Id}` takes [{Format(b.Share.Start)}, {Format(b.Share.End)}) of namespace `{b.Share.Name}`, which overlaps [{Format(a.Share.Start)}, {Format(a.Share.End)}) of {a.What} `{a.Experiment.Id}` while both run",
                    "experiments in one namespace are mutually exclusive, and a holdout's range is kept out of all of them: give them shares that do not overlap, or dates that do not");
        }
    }

    /// <summary>The metric types that have a value per exposed unit, for the hint when an experiment names another.</summary>
    /// <summary>
    /// A cap applies to mean-type values (count, sum, average, and each part of a ratio); a 0/1 proportion has nothing
    /// to cap, and a metric without a value per unit is never analysed in an experiment.
    /// </summary>
    private static void ValidateCap(BoundMetric metric, DiagnosticBag diagnostics)
    {
        if (metric.Definition.Cap is not { } cap)
            return;
        const string hint = "cap a count, sum, average or ratio metric; a proportion is 0 or 1 per unit, so there is no outlier to cap";
        if (metric is SimpleMetric { Aggregation: Aggregation.Percentile })
        {
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, cap.Location,
                $"metric `{metric.Name}`: a percentile cannot be capped", "a quantile is robust to outliers already: capping values above it does not move it");
            return;
        }

        if (!metric.HasUnitValue)
        {
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, cap.Location,
                $"metric `{metric.Name}`: `cap` applies to per-unit values in experiments, and a {metric.Type.Name} metric has none", hint);
            return;
        }

        if (new UnitValueBuilder(0).Statistics(metric) is MeanStatistics { Kind: MetricCompiler.Statistics.MetricKind.Proportion })
            diagnostics.Error(DiagnosticCodes.UnsupportedCombination, cap.Location,
                $"metric `{metric.Name}`: a proportion cannot be capped", hint);
    }

    private static IReadOnlyList<string> UnitValueTypes => MetricTypes.All.Where(t => t.HasUnitValues).Select(t => t.Name).ToList();

    private static IReadOnlyList<BoundSegment>? ValidateSegments(ExperimentDefinition experiment, IReadOnlyDictionary<string, BoundSource> sources, MetricBinder binder, string context, DiagnosticBag diagnostics)
    {
        CheckUnique(experiment.Analysis.Segments.Select(s => (s.Name, s.Location)), $"{context} segment", diagnostics);
        var result = new List<BoundSegment>();
        var ok = true;
        foreach (var segment in experiment.Analysis.Segments)
        {
            CheckIdentifier(segment.Name, "segment", segment.Location, diagnostics);
            var source = binder.Source(segment.Source, $"{context}: segment `{segment.Name}`");
            if (source is null)
            {
                ok = false;
                continue;
            }

            var column = source.FindColumn(segment.Column);
            if (column is null)
            {
                diagnostics.Error(DiagnosticCodes.UnknownColumn, segment.Location, $"{context}: segment column `{segment.Column}` is not a column of source `{source.Name}`",
                    NameSuggester.Hint(segment.Column, source.Columns.Select(c => c.Name).ToList(), "column"));
                ok = false;
                continue;
            }

            result.Add(new BoundSegment(segment, source, column));
        }

        return ok ? result : null;
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

    /// <summary>The longest source, metric or segment name: `fct_&lt;name&gt;__mc_build` and derived columns stay within 63 characters.</summary>
    public const int MaxNameLength = 40;

    /// <summary>The longest experiment id: `exp_&lt;id&gt;__segment_statistics__mc_build` is 63 characters at 29.</summary>
    public const int MaxExperimentIdLength = 29;

    private const string BuildSuffix = "__mc_build";

    private static void CheckIdentifier(string name, string what, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (name.StartsWith('<'))
            return;
        var limit = what == "experiment id" ? MaxExperimentIdLength : MaxNameLength;
        if (name.Length > limit)
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"{what} name `{Shorten(name)}` is {name.Length:N0} characters long; at most {limit} are allowed",
                what == "experiment id"
                    ? $"experiment tables are named `exp_<id>__segment_statistics` (plus `{BuildSuffix}` while they are built), which must fit PostgreSQL's 63-character identifiers"
                    : "names become table and column names (with prefixes such as `fct_` and suffixes such as `__mc_build`), which must fit PostgreSQL's 63-character identifiers");
        else if (!IdentifierPattern().IsMatch(name))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"{what} name `{name}` is not a valid name",
                "use lowercase letters, digits and underscores, starting with a letter; names become table and column names");
        else if (name.Contains("__", StringComparison.Ordinal))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"{what} name `{name}` contains `__`",
                "a double underscore is reserved for the names metricc generates (`exp_<id>__exposures`, `<metric>__pre`); use a single one");
        else if (what == "metric" && ReservedColumns.Contains(name))
            diagnostics.Error(DiagnosticCodes.InvalidName, location, $"metric name `{name}` is reserved",
                $"unit-metrics tables already have a `{name}` column; choose another name");
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
