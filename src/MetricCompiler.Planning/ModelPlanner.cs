using System.Globalization;
using SortKey = MetricCompiler.Sql.Model.SortKey;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Models;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Planning;

/// <summary>
/// Places SQL models in the DAG (their <c>ref</c> and <c>source</c> calls resolved against the plan's nodes and the
/// project's sources) and turns every data test into a query of failing rows attached to a node.
/// </summary>
internal static class ModelPlanner
{
    /// <summary>The nodes of the SQL models; <paramref name="others"/> are every other node (what a ref may name).</summary>
    public static List<PlanNode> Models(BoundProject project, IReadOnlyCollection<PlanNode> others, DiagnosticBag diagnostics)
    {
        var definition = project.Definition;
        var names = others.Select(n => n.Name).Concat(definition.Models.Select(m => m.Name)).ToHashSet(StringComparer.Ordinal);
        var properties = new Dictionary<string, ModelProperties>(StringComparer.Ordinal);
        foreach (var props in definition.ModelProperties)
        {
            if (properties.TryGetValue(props.Name.Name, out var first))
                diagnostics.Error(DiagnosticCodes.DuplicateName, props.Name.Location, $"`models:` describes `{props.Name.Name}` twice (first at {first.Location})",
                    "keep one entry per SQL model: merge their tests and descriptions");
            else
                properties[props.Name.Name] = props;
        }

        var nodes = new List<PlanNode>();
        foreach (var model in definition.Models)
        {
            if (others.FirstOrDefault(n => n.Name == model.Name) is { } clash)
            {
                diagnostics.Error(DiagnosticCodes.DuplicateName, model.Location, $"SQL model `{model.Name}` has the name of the {clash.KindName} node defined at {clash.Origin}",
                    "rename the file: node names are tables in the warehouse");
                continue;
            }

            if (project.Sources.FirstOrDefault(s => string.Equals(s.Table, model.Name, StringComparison.OrdinalIgnoreCase) && s.Definition.Model is null) is { } raw)
            {
                diagnostics.Error(DiagnosticCodes.DuplicateName, model.Location, $"SQL model `{model.Name}` would replace the raw table of source `{raw.Name}`",
                    "rename the file: a model's table must not be a source's table");
                continue;
            }

            var parts = Resolve(project, model.Sql, names, diagnostics, out var refs, out var tables);
            if (parts is null)
                continue;
            properties.TryGetValue(model.Name, out var props);
            nodes.Add(new PlanNode(model.Name, NodeKind.Model,
                props?.Description ?? $"SQL model `{model.Name}` ({model.File}).",
                new TemplateQuery(parts), refs, tables, model.Location, ["model", .. props?.Tags ?? []])
            {
                IsView = model.Sql.Materialization == ModelMaterialization.View,
                Incremental = model.Sql.Incremental,
                DefinitionChecksum = model.Checksum,
            });
        }

        foreach (var props in definition.ModelProperties.Where(p => definition.Models.All(m => m.Name != p.Name.Name)))
            diagnostics.Error(DiagnosticCodes.UnknownRef, props.Name.Location, $"`models:` describes `{props.Name.Name}`, but no SQL model has that name",
                Suggest(props.Name.Name, definition.Models.Select(m => m.Name), "SQL models are the .sql files matched by `sql_models:` (default models/**/*.sql)"));
        return nodes;
    }

    /// <summary>A template's parts with every call resolved, or null (with diagnostics) when a name is unknown.</summary>
    private static List<TemplatePart>? Resolve(BoundProject project, RenderedSql sql, IReadOnlySet<string> nodes, DiagnosticBag diagnostics,
        out List<string> refs, out List<string> tables)
    {
        var parts = new List<TemplatePart>();
        refs = [];
        tables = [];
        var ok = true;
        foreach (var part in sql.Parts)
        {
            switch (part)
            {
                case SqlTextPart text:
                    parts.Add(new TemplateText(text.Text));
                    break;
                case SqlRefPart reference when nodes.Contains(reference.Name.Name):
                    parts.Add(new TemplateRelation(new NodeRef(reference.Name.Name)));
                    refs.Add(reference.Name.Name);
                    break;
                case SqlRefPart reference:
                    diagnostics.Error(DiagnosticCodes.UnknownRef, reference.Name.Location, $"`ref('{reference.Name.Name}')` names no node of the plan",
                        Suggest(reference.Name.Name, nodes, "a ref names a SQL model, a staging table (`stg_<source>`), a metric table (`fct_<metric>`) or an experiment table; `metricc ls` lists them"));
                    ok = false;
                    break;
                case SqlSourcePart source when project.Sources.FirstOrDefault(s => s.Name == source.Name.Name) is { } found:
                    if (found.Definition.Model is { } model)
                    {
                        parts.Add(new TemplateRelation(new NodeRef(model.Name)));
                        refs.Add(model.Name);
                    }
                    else
                    {
                        parts.Add(new TemplateRelation(new SourceTableRef(found.Table)));
                        tables.Add(found.Table);
                    }

                    break;
                case SqlSourcePart source:
                    diagnostics.Error(DiagnosticCodes.UnknownTemplateSource, source.Name.Location, $"`source(..., '{source.Name.Name}')` names no declared source",
                        Suggest(source.Name.Name, project.Sources.Select(s => s.Name), "the last argument of `source` is the `name` of a source in the YAML"));
                    ok = false;
                    break;
            }
        }

        refs = refs.Distinct(StringComparer.Ordinal).ToList();
        tables = tables.Distinct(StringComparer.Ordinal).ToList();
        return ok ? parts : null;
    }

    /// <summary>A located diagnostic for a cycle that runs through a SQL model: at the ref in a model that closes it.</summary>
    public static void ReportCycle(BoundProject project, IReadOnlyList<string> path, IReadOnlyList<PlanNode> nodes, DiagnosticBag diagnostics)
    {
        var cycle = string.Join(" -> ", path);
        foreach (var name in path)
        {
            if (project.Definition.Models.FirstOrDefault(m => m.Name == name) is not { } model)
                continue;
            var inCycle = path.ToHashSet(StringComparer.Ordinal);
            var at = model.Sql.Refs.FirstOrDefault(r => inCycle.Contains(r.Name.Name))?.Name.Location
                ?? model.Sql.Sources.Select(s => s.Name).FirstOrDefault()?.Location
                ?? model.Location;
            diagnostics.Error(DiagnosticCodes.ModelCycle, at, $"SQL model `{model.Name}` is part of a dependency cycle: {cycle}",
                "a model cannot read, directly or through other nodes, a node that reads it; a source with `model:` makes its staging node read the model");
            return;
        }

        var first = nodes.First(n => n.Name == path[0]);
        diagnostics.Error(DiagnosticCodes.ModelCycle, first.Origin, $"the plan has a dependency cycle: {cycle}");
    }

    public static List<PlannedTest> Tests(BoundProject project, IReadOnlyList<PlanNode> nodes, DiagnosticBag diagnostics)
    {
        var definition = project.Definition;
        var byName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var tests = new List<PlannedTest>();
        foreach (var source in project.Sources)
        {
            var relation = source.Definition.Model is { } model ? (RelationRef)new NodeRef(model.Name) : new SourceTableRef(source.Table);
            foreach (var test in source.Definition.Tests)
            {
                if (test.Kind == DataTestKind.RowCountParity)
                {
                    var staging = NodeNames.Staging(source.Name);
                    if (byName.GetValueOrDefault(staging)?.Audit is not { } audit)
                        continue;
                    var limits = string.Join(", ", new[] { test.WarnDroppedShare is { } w ? $"warn above {RowCountParity.Percent(w)}" : null, test.MaxDroppedShare is { } m ? $"fail above {RowCountParity.Percent(m)}" : null }.OfType<string>());
                    tests.Add(new PlannedTest($"row_count_parity_source_{source.Name}", "row_count_parity", staging, [staging], audit.Query, test.Severity, test.Location,
                        $"staging `{staging}` keeps the raw rows of `{source.Name}` but a small share ({limits.Replace(",", ";", StringComparison.Ordinal)})")
                    {
                        Parity = new RowCountParity(audit, test.MaxDroppedShare, test.WarnDroppedShare),
                    });
                    continue;
                }

                var column = source.FindColumn(test.Column.Name);
                if (column is null)
                {
                    diagnostics.Error(DiagnosticCodes.UnknownColumn, test.Column.Location, $"source `{source.Name}` has no column `{test.Column.Name}` to test",
                        Suggest(test.Column.Name, source.Columns.Select(c => c.Name), "declare the column under `columns:`"));
                    continue;
                }

                var planned = Generic(project, test, $"source_{source.Name}", relation, column.Name, column.Type, NodeNames.Staging(source.Name), byName, diagnostics);
                if (planned is not null)
                    tests.Add(planned);
            }
        }

        foreach (var source in project.Sources.Where(s => s.Definition.Freshness is not null))
        {
            // Measured on the staged rows (typed, parsed event times), so it runs right after staging.
            var staging = NodeNames.Staging(source.Name);
            var freshness = source.Definition.Freshness!;
            var limits = string.Join(", ", new[] { freshness.WarnAfter is { } w ? $"warn after {w}" : null, freshness.ErrorAfter is { } e ? $"error after {e}" : null }.OfType<string>());
            tests.Add(new PlannedTest($"source_freshness_{source.Name}", "freshness", staging, [staging],
                new SelectQuery([Max(Col(source.EventTime.Name)).As(FreshnessColumns.Latest)], From(new NodeRef(staging))),
                freshness.ErrorAfter is null ? TestSeverity.Warn : TestSeverity.Error, freshness.Location,
                $"the latest `{source.EventTime.Name}` of source `{source.Name}` is recent ({limits})") { Freshness = freshness });
        }

        foreach (var props in definition.ModelProperties.Where(p => byName.TryGetValue(p.Name.Name, out var n) && n.Kind == NodeKind.Model))
            foreach (var test in props.Tests)
                if (Generic(project, test, props.Name.Name, new NodeRef(props.Name.Name), test.Column.Name, null, props.Name.Name, byName, diagnostics) is { } planned)
                    tests.Add(planned);

        foreach (var metric in project.Metrics.Where(m => m.Definition.Tests.Count > 0))
        {
            var table = NodeNames.MetricTable(metric.Name);
            if (!byName.ContainsKey(table))
            {
                diagnostics.Error(DiagnosticCodes.InvalidDataTest, metric.Definition.At("tests"), $"metric `{metric.Name}` has tests but no table to test them on",
                    "tests on a metric check its `fct_` table: add `materialize: {grain: day}`");
                continue;
            }

            foreach (var test in metric.Definition.Tests)
            {
                if (!MetricTableColumns(metric).Contains(test.Column.Name))
                {
                    diagnostics.Error(DiagnosticCodes.UnknownColumn, test.Column.Location, $"table `{table}` has no column `{test.Column.Name}`",
                        $"its columns: {string.Join(", ", MetricTableColumns(metric))}");
                    continue;
                }

                if (Generic(project, test, table, new NodeRef(table), test.Column.Name, null, table, byName, diagnostics) is { } planned)
                    tests.Add(planned);
            }
        }

        var names = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var order = nodes.Select((n, i) => (n.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        foreach (var sqlTest in definition.SqlTests)
        {
            var parts = Resolve(project, sqlTest.Sql, names, diagnostics, out var refs, out var tables);
            if (parts is null)
                continue;
            var reads = refs.Concat(tables.Select(t => project.Sources.First(s => s.Table == t)).Select(s => NodeNames.Staging(s.Name)))
                .Where(names.Contains).Distinct(StringComparer.Ordinal).ToList();
            var attached = reads.OrderBy(r => order.GetValueOrDefault(r, -1)).LastOrDefault();
            tests.Add(new PlannedTest(sqlTest.Name, "sql", attached, reads, new TemplateQuery(parts), sqlTest.Severity, sqlTest.Location,
                $"custom SQL test {sqlTest.File}: every row it returns is a failure"));
        }

        // Two tests may come out with the same name (the same check declared twice): number the later ones.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        return tests.Select(t =>
            {
                var count = seen[t.Name] = seen.GetValueOrDefault(t.Name) + 1;
                // A test runs once every node it reads is built: after the last of them in run order.
                var attached = t.Reads.OrderBy(r => order.GetValueOrDefault(r, -1)).LastOrDefault();
                return (count == 1 ? t : t with { Name = $"{t.Name}_{count}" }) with { AttachedTo = attached };
            })
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static IReadOnlyList<string> MetricTableColumns(BoundMetric metric) =>
        [.. metric.Definition.Materialize!.Dimensions.Select(d => d.Name), MetricCompiler.Planning.MetricTableColumns.Date, MetricCompiler.Planning.MetricTableColumns.Value];

    private static PlannedTest? Generic(BoundProject project, DataTestDefinition test, string owner, RelationRef relation, string column, ColumnType? type,
        string attachedTo, IReadOnlyDictionary<string, PlanNode> nodes, DiagnosticBag diagnostics)
    {
        var c = Col(column);
        var reads = relation is NodeRef n ? new List<string> { n.Node } : [];
        if (!reads.Contains(attachedTo))
            reads.Add(attachedTo);
        string name;
        string description;
        QueryExpr query;
        switch (test.Kind)
        {
            case DataTestKind.NotNull:
                name = $"not_null_{owner}_{column}";
                description = $"`{column}` of `{owner}` is never null";
                query = new SelectQuery([new StarExpr().Item()], From(relation), Where: new IsNullExpr(c));
                break;
            case DataTestKind.Unique:
                name = $"unique_{owner}_{column}";
                description = $"`{column}` of `{owner}` has no repeated value";
                query = new SelectQuery([c.Item(), Col("n_records").Item()], From(new CteRef("value_counts")), Where: Gt(Col("n_records"), Num(1)),
                    OrderBy: [new SortKey(c)])
                {
                    With =
                    [
                        new CommonTableExpression("value_counts",
                            new SelectQuery([c.Item(), CountStar().As("n_records")], From(relation), Where: new IsNullExpr(c, Negated: true), GroupBy: [c])),
                    ],
                };
                break;
            case DataTestKind.AcceptedValues:
                name = $"accepted_values_{owner}_{column}";
                description = $"`{column}` of `{owner}` is one of {string.Join(", ", test.Values!.Select(v => $"'{v}'"))}";
                var values = test.Values!.Select(v => Literal(v, type)).ToList();
                query = new SelectQuery([c.Item(), CountStar().As("n_records")], From(relation),
                    Where: And(new IsNullExpr(c, Negated: true), values.Count == 0 ? null : new InListExpr(c, values, Negated: true)), GroupBy: [c],
                    OrderBy: [new SortKey(c)]);
                break;
            case DataTestKind.Relationships:
                var field = test.Field ?? column;
                var to = test.To!;
                RelationRef parent;
                if (project.Sources.FirstOrDefault(s => s.Name == to.Name) is { } source)
                {
                    parent = source.Definition.Model is { } model ? new NodeRef(model.Name) : new SourceTableRef(source.Table);
                    if (parent is NodeRef m)
                        reads.Add(m.Node);
                }
                else if (nodes.ContainsKey(to.Name))
                {
                    parent = new NodeRef(to.Name);
                    reads.Add(to.Name);
                }
                else
                {
                    diagnostics.Error(DiagnosticCodes.InvalidDataTest, to.Location, $"relationships test on `{owner}.{column}`: `{to.Name}` is neither a source nor a node",
                        Suggest(to.Name, project.Sources.Select(s => s.Name).Concat(nodes.Keys), "`to:` names a source (its table) or a node (a model, `stg_<source>`, ...)"));
                    return null;
                }

                name = $"relationships_{owner}_{column}__{to.Name}_{field}";
                description = $"every `{column}` of `{owner}` is a `{field}` of `{to.Name}`";
                query = new SelectQuery([Col("child", column).As(column)],
                    new JoinFrom(From(relation, "child"), JoinKind.Left, From(parent, "parent"), Eq(Col("child", column), Col("parent", field))),
                    Where: And(new IsNullExpr(Col("child", column), Negated: true), new IsNullExpr(Col("parent", field))),
                    OrderBy: [new SortKey(Col("child", column))]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(test));
        }

        return new PlannedTest(name, KindName(test.Kind), attachedTo, reads.Distinct(StringComparer.Ordinal).ToList(), query, test.Severity, test.Location, description);
    }

    private static SqlExpr Literal(string value, ColumnType? type)
    {
        var numeric = type is ColumnType.Integer or ColumnType.Number || type is null;
        if (numeric && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? Num(integer) : Num(number);
        return Str(value);
    }

    private static string KindName(DataTestKind kind) => kind switch
    {
        DataTestKind.NotNull => "not_null",
        DataTestKind.Unique => "unique",
        DataTestKind.AcceptedValues => "accepted_values",
        DataTestKind.Relationships => "relationships",
        DataTestKind.RowCountParity => "row_count_parity",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static string Suggest(string name, IEnumerable<string> candidates, string otherwise) =>
        NameSuggester.Suggest(name, candidates.ToList()) is { } s ? $"did you mean `{s}`? {otherwise}" : otherwise;
}
