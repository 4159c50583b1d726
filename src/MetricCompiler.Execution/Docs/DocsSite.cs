using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Metrics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Execution.Queries;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Queries;
using F = MetricCompiler.Execution.Reports.ReportFormat;

namespace MetricCompiler.Execution.Docs;

/// <summary>
/// The static docs site of a compiled project (<c>metricc docs generate</c>): an index, the metric catalog (one page per
/// metric: definition, owner, compiled SQL, where it is used), dimensions, sources, the plan's tables with their SQL,
/// experiments with their latest readouts, the lineage DAG as inline SVG, and search (one inline script over an
/// inline JSON index). Every link is relative, so the pages work from <c>file://</c> and behind <c>metricc docs serve</c>
/// alike; every text from YAML is HTML-escaped; the same project and readouts give the same bytes.
/// </summary>
public static class DocsSite
{
    /// <summary>Every file of the site, by its path relative to the site's root, in ordinal order.</summary>
    public static SortedDictionary<string, string> Build(DocsProject docs)
    {
        var site = new Builder(docs);
        return site.Build();
    }

    /// <summary>
    /// Writes the site into <paramref name="outputDirectory"/>: every file under a temporary name first, then all renamed
    /// into place; files of an earlier site that the new one lacks are removed. A folder that holds other files and no
    /// <see cref="DocsPaths.Marker"/> is refused, so that <c>--output</c> never deletes what metricc did not write.
    /// </summary>
    /// <exception cref="DocsOutputException">The folder is not empty and not an earlier docs site.</exception>
    /// <exception cref="Artifacts.ArtifactException">A file could not be written (nothing was renamed into place).</exception>
    public static void Write(string outputDirectory, IReadOnlyDictionary<string, string> files)
    {
        var root = Path.GetFullPath(outputDirectory);
        var marker = Path.Combine(root, DocsPaths.Marker);
        if (Directory.Exists(root) && !File.Exists(marker) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new DocsOutputException($"`{outputDirectory}` is not empty and holds no docs site metricc wrote (no {DocsPaths.Marker}); give an empty or new folder with --output");

        var staged = new Artifacts.StagedFiles();
        try
        {
            foreach (var (path, content) in files)
                staged.Add(Artifacts.ArtifactWriter.Stage(Path.Combine(root, path), content));
            staged.Add(Artifacts.ArtifactWriter.Stage(marker, "This folder is a docs site written by `metricc docs generate`, which rewrites it.\n"));
        }
        catch (Artifacts.ArtifactException)
        {
            staged.Discard();
            throw;
        }

        staged.Commit();
        var expected = files.Keys.Select(k => Path.GetFullPath(Path.Combine(root, k))).Append(marker).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => !expected.Contains(f)).ToList())
            Artifacts.ArtifactWriter.TryDelete(stale);
    }

    private sealed class Builder(DocsProject docs)
    {
        private readonly SortedDictionary<string, string> _files = new(StringComparer.Ordinal);
        private readonly BoundProject _project = docs.Project;
        private readonly ExecutionPlan _plan = docs.Plan;
        private readonly YamlExcerpt _yaml = new(docs.Project.Definition.RootDirectory);
        private readonly Dictionary<string, CompiledNode> _compiled = docs.Compiled.ToDictionary(c => c.Node.Name, StringComparer.Ordinal);
        private readonly List<SearchEntry> _search = [];
        private readonly Dictionary<string, JsonNode?> _readouts = new(StringComparer.Ordinal);
        private LineageGraph _lineage = null!;
        private LineageLayout _layout = null!;

        public SortedDictionary<string, string> Build()
        {
            _lineage = LineageGraph.Build(_project, _plan);
            _layout = LineageLayout.Compute(_lineage);
            CopyReadouts();
            foreach (var metric in Metrics)
                MetricPage(metric);
            foreach (var source in Sources)
                SourcePage(source);
            foreach (var node in _plan.Nodes)
                NodePage(node);
            foreach (var experiment in Experiments)
                ExperimentPage(experiment);
            MetricsPage();
            DimensionsPage();
            SourcesPage();
            TablesPage();
            ExperimentsPage();
            LineagePage();
            IndexPage();
            SearchPage();
            return _files;
        }

        private IEnumerable<BoundMetric> Metrics => _project.Metrics.OrderBy(m => m.Name, StringComparer.Ordinal);

        private IEnumerable<BoundSource> Sources => _project.Sources.OrderBy(s => s.Name, StringComparer.Ordinal);

        private IEnumerable<BoundExperiment> Experiments => _project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal);

        // ---------------------------------------------------------------- readouts

        private void CopyReadouts()
        {
            foreach (var experiment in Experiments)
            {
                var json = Read(Path.Combine(docs.TargetDirectory, "results", $"{experiment.Id}.json"));
                if (json is null)
                    continue;
                try
                {
                    _readouts[experiment.Id] = JsonNode.Parse(json);
                }
                catch (JsonException)
                {
                    continue; // not a readout: treated as not run
                }

                _files[DocsPaths.Readout(experiment.Id, "json")] = json;
                foreach (var extension in new[] { "html", "md" })
                    if (Read(Path.Combine(docs.TargetDirectory, "readouts", $"{experiment.Id}.{extension}")) is { } text)
                        _files[DocsPaths.Readout(experiment.Id, extension)] = text;
            }
        }

        private static string? Read(string path)
        {
            try
            {
                return File.Exists(path) ? File.ReadAllText(path) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        private string DecisionOf(string experiment) =>
            _readouts.GetValueOrDefault(experiment)?["decision"]?.GetValue<string>() is { } decision
                ? decision.ToUpperInvariant().Replace('_', '-')
                : "not run yet";

        // ---------------------------------------------------------------- metrics

        private void MetricPage(BoundMetric metric)
        {
            var page = DocsPaths.Metric(metric.Name);
            var r = DocsPaths.ToRoot(page);
            var d = metric.Definition;
            var o = new StringBuilder();
            o.Append($"<p class=\"eyebrow\">Metric</p>\n<h1>{X(metric.Label)}</h1>\n<p class=\"id\"><code>{X(metric.Name)}</code></p>\n");
            o.Append("<dl class=\"facts\">\n");
            Fact(o, "Type", $"<code>{X(metric.Type.Name)}</code>");
            Fact(o, "Computes", X(metric.Summary));
            Fact(o, "Description", Text(d.Description));
            Fact(o, "Owner", Text(d.Owner));
            Fact(o, "Desired direction", X(metric.DesiredDirection.ToString().ToLowerInvariant()));
            Fact(o, "Per unit", metric.HasUnitValue ? "yes: usable in experiments" : "no: dashboards and queries only");
            if (d.Tags.Count > 0)
                Fact(o, "Tags", string.Join(" ", d.Tags.Select(t => $"<span class=\"tag\">{X(t)}</span>")));
            if (d.Cap is { } cap)
                Fact(o, "Cap", $"per-unit values capped at {X(cap.Describe())} in experiments");
            var throughInputs = metric.Inputs.SelectMany(i => i.Sources).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            Fact(o, "Reads", Links(metric.Inputs.Select(i => (r + DocsPaths.Metric(i.Name), i.Name))
                .Concat(metric.Sources.Where(s => !throughInputs.Contains(s.Name)).Select(s => (r + DocsPaths.Source(s.Name), s.Name)))));
            Fact(o, "Defined at", $"<code>{X(d.Location.ToString())}</code>");
            o.Append("</dl>\n");

            o.Append("<section id=\"definition\">\n<h2>Definition</h2>\n");
            o.Append(Pre(_yaml.Of(d.Location), "yaml"));
            o.Append("</section>\n");

            var table = NodeNames.MetricTable(metric.Name);
            o.Append("<section id=\"used-by\">\n<h2>Where it is used</h2>\n<dl class=\"facts\">\n");
            var dashboards = new List<string>();
            if (d.Materialize is { } materialize)
            {
                var dimensions = materialize.Dimensions.Count == 0 ? "" : $" by {string.Join(", ", materialize.Dimensions.Select(x => X(x.Name)))}";
                dashboards.Add($"<a href=\"{r}{DocsPaths.Node(table)}\"><code>{X(table)}</code></a> (per {X(materialize.Grain.ToString().ToLowerInvariant())}{dimensions}), the table dashboards read");
            }

            dashboards.Add($"<code>metricc query --metrics {X(metric.Name)}</code> at any grain and dimension");
            Fact(o, "Dashboards and queries", string.Join("<br>", dashboards));
            Fact(o, "Experiments", Joined(Experiments.SelectMany(e => e.Metrics.Where(m => m.Metric.Name == metric.Name)
                .Select(m => $"<a href=\"{r}{DocsPaths.Experiment(e.Id)}\"><code>{X(e.Id)}</code></a> ({F.RoleName(m.Role)})"))));
            Fact(o, "Metrics computed from it", Links(Metrics.Where(m => m.Inputs.Any(i => i.Name == metric.Name)).Select(m => (r + DocsPaths.Metric(m.Name), m.Name))));
            var readers = _compiled.ContainsKey(table) ? _plan.Children(table) : [];
            Fact(o, "Models and tables reading it", Links(readers.Select(n => (r + DocsPaths.Node(n.Name), n.Name))));
            Fact(o, "Data tests", Links(_plan.Tests.Where(t => t.Reads.Contains(table)).Select(t => (r + DocsPaths.Node(table) + "#tests", t.Name))));
            o.Append("</dl>\n</section>\n");

            o.Append("<section id=\"sql\">\n<h2>Compiled SQL</h2>\n");
            o.Append($"<p class=\"note\">What <code>metricc query --metrics {X(metric.Name)} --group-by metric_time__day --target {X(docs.Target.Name)} --explain</code> runs ({X(docs.Dialect.Name)}).</p>\n");
            o.Append(Pre(QuerySql(metric), "sql"));
            if (_compiled.ContainsKey(table))
                o.Append($"<p>Materialized as <a href=\"{r}{DocsPaths.Node(table)}\"><code>{X(table)}</code></a>; its SQL is on that page.</p>\n");
            o.Append("</section>\n");

            Page(page, $"{metric.Label} ({metric.Name})", o.ToString());
            _search.Add(new SearchEntry("metric", metric.Name, metric.Label, d.Description ?? metric.Summary, d.Owner, page));
        }

        private string QuerySql(BoundMetric metric)
        {
            try
            {
                return QueryRunner.Explain(_project, new MetricQuery([metric.Name], [MetricTime.Column(Sql.Model.TimeGrain.Day)]), docs.Dialect);
            }
            catch (CompilationException e)
            {
                return $"-- not available on {docs.Dialect.Name}: {string.Join("; ", e.Diagnostics.Select(x => x.Message))}\n";
            }
            catch (QueryException e)
            {
                return $"-- not available as a query: {e.Message}\n";
            }
        }

        private void MetricsPage()
        {
            var o = new StringBuilder();
            o.Append($"<h1>Metric catalog</h1>\n<p>{_project.Metrics.Count} metrics, in name order. Each page has the definition as written, the compiled SQL and where the metric is used.</p>\n");
            o.Append("<table class=\"catalog\">\n<thead><tr><th>Metric</th><th>Label</th><th>Type</th><th>Owner</th><th>Per unit</th><th>Used by</th><th>Description</th></tr></thead>\n<tbody>\n");
            foreach (var m in Metrics)
            {
                var uses = Experiments.Count(e => e.Metrics.Any(x => x.Metric.Name == m.Name)) + Metrics.Count(x => x.Inputs.Any(i => i.Name == m.Name))
                    + (_compiled.ContainsKey(NodeNames.MetricTable(m.Name)) ? 1 : 0);
                o.Append($"<tr data-metric=\"{X(m.Name)}\"><td><a href=\"{DocsPaths.Metric(m.Name)}\"><code>{X(m.Name)}</code></a></td><td>{X(m.Label)}</td>");
                o.Append($"<td><code>{X(m.Type.Name)}</code></td><td>{Text(m.Definition.Owner)}</td><td>{(m.HasUnitValue ? "yes" : "no")}</td><td class=\"num\">{uses}</td><td>{X(m.Definition.Description ?? m.Summary)}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            Page(DocsPaths.Metrics, "Metric catalog", o.ToString());
        }

        // ---------------------------------------------------------------- dimensions and sources

        private void DimensionsPage()
        {
            var o = new StringBuilder();
            o.Append("<h1>Dimensions</h1>\n<p>What <code>metricc query --group-by</code> and <code>materialize: {dimensions: [...]}</code> accept: ");
            o.Append("a column of a metric's own source, or of a source with one row per entity, joined by that entity. ");
            o.Append($"Time grains: {string.Join(", ", Enum.GetValues<Sql.Model.TimeGrain>().Select(g => $"<code>{MetricTime.Column(g)}</code>"))}, in the project's time zone <code>{X(_project.Time.ZoneId)}</code>.</p>\n");
            o.Append("<table>\n<thead><tr><th>Dimension</th><th>Source</th><th>Type</th><th>Joins by</th><th>Personal data</th><th>Description</th></tr></thead>\n<tbody>\n");
            foreach (var source in Sources)
            {
                foreach (var column in source.Columns.Where(c => c.Name != source.EventTime.Name))
                {
                    var name = $"{source.Name}__{column.Name}";
                    o.Append($"<tr id=\"{X(name)}\"><td><code>{X(name)}</code></td><td><a href=\"{DocsPaths.Source(source.Name)}\">{X(source.Name)}</a></td>");
                    o.Append($"<td>{X(column.Type.ToString().ToLowerInvariant())}</td><td>{(source.IsOneRowPerEntity ? $"<code>{X(source.Entity.Name)}</code>" : "&#8211;")}</td>");
                    o.Append($"<td>{(column.Pii ? "yes (salted SHA-256 in staging)" : "no")}</td><td>{X(column.Description)}</td></tr>\n");
                    _search.Add(new SearchEntry("dimension", name, $"{column.Name} of {source.Name}", column.Description, null, $"{DocsPaths.Dimensions}#{name}"));
                }
            }

            o.Append("</tbody>\n</table>\n");
            Page(DocsPaths.Dimensions, "Dimensions", o.ToString());
        }

        private void SourcePage(BoundSource source)
        {
            var page = DocsPaths.Source(source.Name);
            var r = DocsPaths.ToRoot(page);
            var d = source.Definition;
            var o = new StringBuilder();
            o.Append($"<p class=\"eyebrow\">Source</p>\n<h1>{X(source.Name)}</h1>\n");
            o.Append("<dl class=\"facts\">\n");
            Fact(o, "Description", Text(d.Description));
            Fact(o, "Reads", d.Model is { } model ? $"the SQL model <a href=\"{r}{DocsPaths.Node(model.Name)}\"><code>{X(model.Name)}</code></a>" : $"table <code>{X(source.Table)}</code>");
            Fact(o, "Entity", $"<code>{X(source.Entity.Name)}</code>{(source.IsOneRowPerEntity ? " (one row per entity: its columns are dimensions of every metric on this entity)" : "")}");
            Fact(o, "Event time", $"<code>{X(source.EventTime.Name)}</code>");
            Fact(o, "Unique key", source.UniqueKey is { } key ? $"<code>{X(key.Name)}</code> (staging keeps one row per key)" : "<em>none</em>");
            var rules = source.Rules;
            var governance = new List<string>();
            if (rules.PiiColumns.Count > 0)
                governance.Add($"personal data hashed: {string.Join(", ", rules.PiiColumns.Select(c => $"<code>{X(c.Name)}</code>"))}");
            if (rules.Consent is { } consent)
                governance.Add($"keeps rows with <code>{X(consent.Column.Name)} = {X(consent.ValueText)}</code>");
            if (rules.RetentionDays is { } days)
                governance.Add($"drops rows older than {days} days");
            Fact(o, "Governance", governance.Count == 0 ? "<em>none</em>" : string.Join("<br>", governance));
            var staging = NodeNames.Staging(source.Name);
            Fact(o, "Staged as", _compiled.ContainsKey(staging) ? $"<a href=\"{r}{DocsPaths.Node(staging)}\"><code>{X(staging)}</code></a>" : "<em>not staged: no metric or experiment reads it</em>");
            Fact(o, "Metrics reading it", Links(Metrics.Where(m => m.Sources.Any(s => s.Name == source.Name)).Select(m => (r + DocsPaths.Metric(m.Name), m.Name))));
            Fact(o, "Experiments exposing from it", Links(Experiments.Where(e => e.Exposure.Source.Name == source.Name).Select(e => (r + DocsPaths.Experiment(e.Id), e.Id))));
            Fact(o, "Defined at", $"<code>{X(source.Location.ToString())}</code>");
            o.Append("</dl>\n<section id=\"columns\">\n<h2>Columns</h2>\n<table>\n<thead><tr><th>Column</th><th>Type</th><th>Personal data</th><th>Description</th></tr></thead>\n<tbody>\n");
            foreach (var column in source.Columns)
                o.Append($"<tr><td><code>{X(column.Name)}</code></td><td>{X(column.Type.ToString().ToLowerInvariant())}</td><td>{(column.Pii ? "yes" : "no")}</td><td>{X(column.Description)}</td></tr>\n");
            o.Append("</tbody>\n</table>\n</section>\n");
            o.Append("<section id=\"definition\">\n<h2>Definition</h2>\n").Append(Pre(_yaml.Of(source.Location), "yaml")).Append("</section>\n");
            Page(page, $"Source {source.Name}", o.ToString());
            _search.Add(new SearchEntry("source", source.Name, d.Model is null ? source.Table : $"model {d.Model.Name}", d.Description, null, page));
        }

        private void SourcesPage()
        {
            var o = new StringBuilder();
            o.Append($"<h1>Sources</h1>\n<p>{_project.Sources.Count} sources. Staging types their columns, drops rows without an entity or time, removes duplicate keys and applies governance; ");
            o.Append($"see <a href=\"{DocsPaths.Tables}\">tables</a> for the staging, model, metric and experiment tables built from them.</p>\n");
            o.Append("<table>\n<thead><tr><th>Source</th><th>Reads</th><th>Entity</th><th>Event time</th><th>Columns</th><th>Description</th></tr></thead>\n<tbody>\n");
            foreach (var s in Sources)
            {
                o.Append($"<tr><td><a href=\"{DocsPaths.Source(s.Name)}\"><code>{X(s.Name)}</code></a></td><td><code>{X(s.Definition.Model is { } m ? $"model {m.Name}" : s.Table)}</code></td>");
                o.Append($"<td><code>{X(s.Entity.Name)}</code></td><td><code>{X(s.EventTime.Name)}</code></td><td class=\"num\">{s.Columns.Count}</td><td>{X(s.Definition.Description)}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            Page(DocsPaths.Sources, "Sources", o.ToString());
        }

        // ---------------------------------------------------------------- plan nodes

        private void NodePage(PlanNode node)
        {
            var page = DocsPaths.Node(node.Name);
            var r = DocsPaths.ToRoot(page);
            var compiled = _compiled[node.Name];
            var o = new StringBuilder();
            o.Append($"<p class=\"eyebrow\">{X(KindTitle(node))}</p>\n<h1><code>{X(node.Name)}</code></h1>\n");
            o.Append("<dl class=\"facts\">\n");
            Fact(o, "What it holds", X(node.Description));
            Fact(o, "Built as", node.Query is null ? "rows written by the statistics engine (no SQL)" : node.IsView ? "a view" : "a table");
            Fact(o, "Reads", Joined(node.DependsOn.Select(n => $"<a href=\"{r}{DocsPaths.Node(n)}\"><code>{X(n)}</code></a>")
                .Concat(node.SourceTables.Select(t => $"table <code>{X(t)}</code>"))));
            Fact(o, "Read by", Links(_plan.Children(node.Name).Select(n => (r + DocsPaths.Node(n.Name), n.Name))));
            var metrics = Metrics.Where(m => NodeNames.MetricTable(m.Name) == node.Name
                || (node.Kind == NodeKind.UnitMetrics && _project.FindExperiment(node.ExperimentId ?? "") is { } e && e.Metrics.Any(x => x.Metric.Name == m.Name))).ToList();
            if (metrics.Count > 0)
                Fact(o, "Metrics", Links(metrics.Select(m => (r + DocsPaths.Metric(m.Name), m.Name))));
            if (node.ExperimentId is { } experiment)
                Fact(o, "Experiment", $"<a href=\"{r}{DocsPaths.Experiment(experiment)}\"><code>{X(experiment)}</code></a>");
            if (node.Tags.Count > 0)
                Fact(o, "Tags", string.Join(" ", node.Tags.Select(t => $"<span class=\"tag\">{X(t)}</span>")));
            Fact(o, "Defined at", $"<code>{X(node.Origin.ToString())}</code>");
            Fact(o, "Checksum", $"<code>{X(compiled.Checksum[..16])}</code>");
            o.Append("</dl>\n");

            var tests = docs.Tests.Where(t => t.Test.AttachedTo == node.Name).ToList();
            if (tests.Count > 0)
            {
                o.Append("<section id=\"tests\">\n<h2>Data tests run after it</h2>\n");
                foreach (var (test, sql) in tests)
                {
                    o.Append($"<h3><code>{X(test.Name)}</code> <span class=\"tag\">{X(test.Kind)}</span> <span class=\"tag\">{X(test.SeverityName)}</span></h3>\n<p>{X(test.Description)}</p>\n");
                    o.Append(Pre(sql, "sql"));
                }

                o.Append("</section>\n");
            }

            o.Append("<section id=\"sql\">\n<h2>Compiled SQL</h2>\n");
            o.Append(compiled.Sql is null
                ? "<p>No SQL: the statistics engine computes this table from the statistics and sample-ratio tables.</p>\n"
                : $"<p class=\"note\"><code>target/{X(compiled.RelativePath)}</code> for target <code>{X(docs.Target.Name)}</code> ({X(docs.Dialect.Name)}).</p>\n{Pre(compiled.Sql, "sql")}");
            o.Append("</section>\n");
            Page(page, node.Name, o.ToString());
            _search.Add(new SearchEntry("table", node.Name, node.KindName, node.Description, null, page));
        }

        private static string KindTitle(PlanNode node) => node.Kind switch
        {
            NodeKind.Staging => "Staging table",
            NodeKind.Model => node.IsView ? "SQL model (view)" : "SQL model",
            NodeKind.MetricTable => "Metric table",
            NodeKind.Readout => "Readout table",
            _ => "Experiment table",
        };

        private void TablesPage()
        {
            var o = new StringBuilder();
            o.Append($"<h1>Tables</h1>\n<p>The {_plan.Nodes.Count} nodes of the compiled plan for target <code>{X(docs.Target.Name)}</code>, in run order: each is built after everything it reads. ");
            o.Append($"The <a href=\"{DocsPaths.Lineage}\">lineage graph</a> draws them with the sources and metrics between them.</p>\n");
            o.Append("<table>\n<thead><tr><th>#</th><th>Table</th><th>Kind</th><th>Reads</th><th>What it holds</th></tr></thead>\n<tbody>\n");
            var i = 0;
            foreach (var node in _plan.Nodes)
            {
                o.Append($"<tr data-node=\"{X(node.Name)}\"><td class=\"num\">{++i}</td><td><a href=\"{DocsPaths.Node(node.Name)}\"><code>{X(node.Name)}</code></a></td><td>{X(node.KindName)}</td>");
                o.Append($"<td>{Joined(node.DependsOn.Select(n => $"<code>{X(n)}</code>").Concat(node.SourceTables.Select(t => $"<code>{X(t)}</code>")))}</td><td>{X(node.Description)}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            Page(DocsPaths.Tables, "Tables", o.ToString());
        }

        // ---------------------------------------------------------------- experiments

        private void ExperimentPage(BoundExperiment experiment)
        {
            var page = DocsPaths.Experiment(experiment.Id);
            var r = DocsPaths.ToRoot(page);
            var d = experiment.Definition;
            var o = new StringBuilder();
            o.Append($"<p class=\"eyebrow\">Experiment</p>\n<h1>{X(d.Name ?? d.Id)}</h1>\n<p class=\"id\"><code>{X(d.Id)}</code></p>\n");
            o.Append("<dl class=\"facts\">\n");
            Fact(o, "Hypothesis", Text(d.Hypothesis));
            Fact(o, "Owner", Text(d.Owner));
            Fact(o, "Dates", $"{d.Start:yyyy-MM-dd} .. {d.End:yyyy-MM-dd} ({d.End.DayNumber - d.Start.DayNumber + 1} days, {X(_project.Time.ZoneId)})");
            Fact(o, "Variants", string.Join("<br>", experiment.Variants.Select(v =>
                $"<code>{X(v.Name)}</code> ({(v.IsControl ? "control, " : "")}weight {v.Weight.ToString("0.###", CultureInfo.InvariantCulture)}){(string.IsNullOrWhiteSpace(v.Description) ? "" : ": " + X(v.Description))}")));
            Fact(o, "Exposures", $"<a href=\"{r}{DocsPaths.Source(experiment.Exposure.Source.Name)}\"><code>{X(experiment.Exposure.Source.Name)}</code></a>");
            foreach (var role in new[] { MetricRole.Primary, MetricRole.Secondary, MetricRole.Guardrail })
                Fact(o, F.RoleHeading(role), Joined(experiment.Metrics.Where(m => m.Role == role).Select(m =>
                    $"<a href=\"{r}{DocsPaths.Metric(m.Metric.Name)}\"><code>{X(m.Metric.Name)}</code></a>" +
                    (m.Guardrail is { } g ? $" (harmful: {X(g.HarmfulDirection.ToString().ToLowerInvariant())}, margin {F.Percent(g.Margin, 1, signed: false)})" : ""))));
            Fact(o, "Tables", Links(_plan.Nodes.Where(n => n.ExperimentId == experiment.Id).Select(n => (r + DocsPaths.Node(n.Name), n.Name))));
            Fact(o, "Defined at", $"<code>{X(d.Location.ToString())}</code>");
            o.Append("</dl>\n");

            o.Append("<section id=\"readout\">\n<h2>Latest readout</h2>\n");
            if (_readouts.GetValueOrDefault(experiment.Id) is not { } readout)
            {
                o.Append("<p class=\"not-run\"><strong>Not run yet.</strong> <code>metricc run</code> writes the readout; <code>metricc docs generate</code> then shows it here.</p>\n");
            }
            else
            {
                var decision = DecisionOf(experiment.Id);
                o.Append($"<p class=\"verdict\">Decision <strong class=\"decision\">{X(decision)}</strong>, analysed {X(readout["analysed_at"]?.GetValue<string>())}</p>\n<ul>\n");
                foreach (var reason in readout["reasons"]?.AsArray() ?? [])
                    o.Append($"<li>{F.HtmlProse(reason?.GetValue<string>() ?? "")}</li>\n");
                o.Append("</ul>\n<table>\n<thead><tr><th>Metric</th><th>Role</th><th>Variant</th><th class=\"num\">Lift</th><th class=\"num\">Interval</th><th class=\"num\">p</th></tr></thead>\n<tbody>\n");
                foreach (var m in readout["metrics"]?.AsArray() ?? [])
                {
                    o.Append($"<tr class=\"metric\" data-metric=\"{X(Str(m, "metric"))}\"><td>{X(Str(m, "label"))}</td><td>{X(Str(m, "role"))}</td><td><code>{X(Str(m, "variant"))}</code></td>");
                    o.Append($"<td class=\"num\">{F.Percent(Num(m, "relative_lift"))}</td><td class=\"num\">{F.Interval(Num(m, "relative_ci_low"), Num(m, "relative_ci_high"))}</td><td class=\"num\">{F.P(Num(m, "p_value"))}</td></tr>\n");
                }

                o.Append("</tbody>\n</table>\n<p class=\"links\">The full readout: ");
                var links = new List<string>();
                if (_files.ContainsKey(DocsPaths.Readout(experiment.Id, "html")))
                    links.Add($"<a class=\"readout\" href=\"{r}{DocsPaths.Readout(experiment.Id, "html")}\">HTML</a>");
                if (_files.ContainsKey(DocsPaths.Readout(experiment.Id, "md")))
                    links.Add($"<a href=\"{r}{DocsPaths.Readout(experiment.Id, "md")}\">Markdown</a>");
                links.Add($"<a href=\"{r}{DocsPaths.Readout(experiment.Id, "json")}\">results JSON</a>");
                o.Append(string.Join(" &#183; ", links)).Append(".</p>\n");
            }

            o.Append("</section>\n<section id=\"definition\">\n<h2>Definition</h2>\n").Append(Pre(_yaml.Of(d.Location), "yaml")).Append("</section>\n");
            Page(page, $"Experiment {d.Name ?? d.Id}", o.ToString());
            _search.Add(new SearchEntry("experiment", d.Id, d.Name ?? d.Id, d.Hypothesis, d.Owner, page));
        }

        private static string? Str(JsonNode? node, string key) => node?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        private static double? Num(JsonNode? node, string key) => node?[key] is JsonValue v && v.TryGetValue<double>(out var x) ? x : null;

        private void ExperimentsPage()
        {
            var o = new StringBuilder();
            o.Append($"<h1>Experiments</h1>\n<p>{_project.Experiments.Count} experiments, each with its latest readout (the files <code>metricc run</code> wrote under <code>target/</code>).</p>\n");
            o.Append("<table>\n<thead><tr><th>Experiment</th><th>Name</th><th>Dates</th><th>Owner</th><th>Primary</th><th>Latest decision</th></tr></thead>\n<tbody>\n");
            foreach (var e in Experiments)
            {
                var d = e.Definition;
                o.Append($"<tr data-experiment=\"{X(e.Id)}\"><td><a href=\"{DocsPaths.Experiment(e.Id)}\"><code>{X(e.Id)}</code></a></td><td>{X(d.Name)}</td><td>{d.Start:yyyy-MM-dd} .. {d.End:yyyy-MM-dd}</td>");
                o.Append($"<td>{Text(d.Owner)}</td><td>{Joined(e.Metrics.Where(m => m.Role == MetricRole.Primary).Select(m => $"<code>{X(m.Metric.Name)}</code>"))}</td><td class=\"decision\">{X(DecisionOf(e.Id))}</td></tr>\n");
            }

            o.Append("</tbody>\n</table>\n");
            Page(DocsPaths.Experiments, "Experiments", o.ToString());
        }

        // ---------------------------------------------------------------- lineage, index, search

        private void LineagePage()
        {
            var o = new StringBuilder();
            o.Append($"<h1>Lineage</h1>\n<p>{_lineage.Nodes.Count} nodes and {_lineage.Edges.Count} dependencies, read left to right: sources, staging, SQL models, metrics, ");
            o.Append("the tables built from them and each experiment's tables up to the readout. A box links to its page.</p>\n");
            o.Append($"<div class=\"graph\">\n{LineageSvg.Render(_lineage, _layout, "")}</div>\n");
            Page(DocsPaths.Lineage, "Lineage", o.ToString(), wide: true);
        }

        private void IndexPage()
        {
            var p = _project.Definition;
            var o = new StringBuilder();
            o.Append($"<p class=\"eyebrow\">Project</p>\n<h1>{X(p.Name)}</h1>\n");
            o.Append("<dl class=\"facts\">\n");
            Fact(o, "Target", $"<code>{X(docs.Target.Name)}</code> ({X(docs.Target.Adapter)}; SQL as {X(docs.Dialect.Name)})");
            Fact(o, "Time zone", $"<code>{X(_project.Time.ZoneId)}</code>");
            Fact(o, "Files", p.Files.Count.ToString(CultureInfo.InvariantCulture));
            o.Append("</dl>\n<ul class=\"sections\">\n");
            o.Append($"<li><a href=\"{DocsPaths.Metrics}\">Metric catalog</a>: {p.Metrics.Count} metrics</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Dimensions}\">Dimensions</a>: {_project.Sources.Sum(s => s.Columns.Count(c => c.Name != s.EventTime.Name))} columns of {p.Sources.Count} sources</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Sources}\">Sources</a>: {p.Sources.Count}</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Tables}\">Tables</a>: {_plan.Nodes.Count} nodes (staging, models, metric and experiment tables) with their compiled SQL</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Experiments}\">Experiments</a>: {p.Experiments.Count}, with their latest readouts</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Lineage}\">Lineage</a>: the DAG as a graph</li>\n");
            o.Append($"<li><a href=\"{DocsPaths.Search}\">Search</a></li>\n</ul>\n");
            if (_project.Experiments.Count > 0)
            {
                o.Append("<h2>Latest decisions</h2>\n<ul>\n");
                foreach (var e in Experiments)
                    o.Append($"<li><a href=\"{DocsPaths.Experiment(e.Id)}\"><code>{X(e.Id)}</code></a>: {X(DecisionOf(e.Id))}</li>\n");
                o.Append("</ul>\n");
            }

            Page(DocsPaths.Index, p.Name, o.ToString());
        }

        private void SearchPage()
        {
            var entries = new JsonArray(_search.OrderBy(s => s.Kind, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal).Select(s => (JsonNode)new JsonObject
            {
                ["k"] = s.Kind,
                ["n"] = s.Name,
                ["t"] = s.Title,
                ["d"] = F.OneLine(s.Description ?? ""),
                ["o"] = s.Owner ?? "",
                ["u"] = s.Page,
            }).ToArray());
            var o = new StringBuilder();
            o.Append("<h1>Search</h1>\n<form class=\"search-page\" role=\"search\" action=\"\" method=\"get\"><input id=\"q\" name=\"q\" type=\"search\" autofocus ");
            o.Append($"placeholder=\"metric, dimension, table, source or experiment\" aria-label=\"Search\"></form>\n<p id=\"search-status\" class=\"note\">Search needs JavaScript; the <a href=\"{DocsPaths.Metrics}\">catalog</a> lists everything.</p>\n");
            o.Append("<ol id=\"results\"></ol>\n");
            // The index is a data block, not a script: JSON with <, > and & escaped, so no text can end the element.
            o.Append($"<script type=\"application/json\" id=\"search-index\">{entries.ToJsonString()}</script>\n");
            Page(DocsPaths.Search, "Search", o.ToString(), script: SearchScript);
        }

        // ---------------------------------------------------------------- page chrome

        private void Page(string page, string title, string body, string? script = null, bool wide = false)
        {
            var r = DocsPaths.ToRoot(page);
            var csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:" + (script is null ? "" : $"; script-src 'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(script)))}'");
            var o = new StringBuilder();
            o.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
            o.Append($"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n");
            o.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
            o.Append($"<meta name=\"generator\" content=\"metricc {Artifacts.ArtifactWriter.Version}\">\n");
            o.Append($"<title>{X(title)} &#183; {X(_project.Name)} docs</title>\n<style>\n{Css}</style>\n</head>\n<body>\n");
            o.Append($"<header class=\"site\"><a class=\"brand\" href=\"{r}{DocsPaths.Index}\">{X(_project.Name)}</a>\n<nav>");
            foreach (var (href, label) in new[] { (DocsPaths.Metrics, "Metrics"), (DocsPaths.Dimensions, "Dimensions"), (DocsPaths.Sources, "Sources"), (DocsPaths.Tables, "Tables"), (DocsPaths.Experiments, "Experiments"), (DocsPaths.Lineage, "Lineage") })
                o.Append($"<a href=\"{r}{href}\"{(href == page ? " aria-current=\"page\"" : "")}>{label}</a>");
            o.Append($"</nav>\n<form class=\"search\" role=\"search\" action=\"{r}{DocsPaths.Search}\" method=\"get\"><input name=\"q\" type=\"search\" placeholder=\"Search\" aria-label=\"Search the docs\"></form></header>\n");
            o.Append($"<main{(wide ? " class=\"wide\"" : "")}>\n{body}</main>\n");
            o.Append($"<footer>Generated by metricc {Artifacts.ArtifactWriter.Version} from the compiled plan of <code>{X(_project.Name)}</code> (target <code>{X(docs.Target.Name)}</code>).</footer>\n");
            if (script is not null)
                o.Append($"<script>{script}</script>\n");
            o.Append("</body>\n</html>\n");
            _files[page] = o.ToString();
        }

        private static void Fact(StringBuilder o, string term, string html) => o.Append($"<dt>{X(term)}</dt><dd>{html}</dd>\n");

        private static string Text(string? text) => string.IsNullOrWhiteSpace(text) ? "<em>not stated</em>" : X(text);

        private static string Joined(IEnumerable<string> html)
        {
            var list = html.ToList();
            return list.Count == 0 ? "<em>none</em>" : string.Join(", ", list);
        }

        private static string Links(IEnumerable<(string Href, string Name)> links) =>
            Joined(links.DistinctBy(l => l.Href).Select(l => $"<a href=\"{X(l.Href)}\"><code>{X(l.Name)}</code></a>"));

        private static string Pre(string? text, string language) =>
            text is null ? "<p><em>not available</em></p>\n" : $"<pre class=\"{language}\"><code>{X(text)}</code></pre>\n";

        private static string X(string? text) => F.Html(text);
    }

    private sealed record SearchEntry(string Kind, string Name, string Title, string? Description, string? Owner, string Page);

    /// <summary>The search page's one script: reads the query from the URL (<c>#q=</c> or <c>?q=</c>) or the box, lists matches; text only (no HTML from the index).</summary>
    private const string SearchScript = """
        (function () {
          var index = JSON.parse(document.getElementById('search-index').textContent);
          var input = document.getElementById('q');
          var list = document.getElementById('results');
          var status = document.getElementById('search-status');
          function fromUrl() {
            var hash = new URLSearchParams(location.hash.replace(/^#/, ''));
            return hash.get('q') || new URLSearchParams(location.search).get('q') || '';
          }
          function score(entry, terms) {
            var name = entry.n.toLowerCase();
            var text = (entry.n + ' ' + entry.t + ' ' + entry.d + ' ' + entry.o + ' ' + entry.k).toLowerCase();
            var total = 0;
            for (var i = 0; i < terms.length; i++) {
              var term = terms[i];
              if (text.indexOf(term) < 0) return 0;
              total += name === term ? 100 : name.indexOf(term) === 0 ? 50 : name.indexOf(term) >= 0 ? 20 : 1;
            }
            return total;
          }
          function run(query) {
            var terms = query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
            list.textContent = '';
            if (terms.length === 0) { status.textContent = 'Search ' + index.length + ' entries: metrics, dimensions, sources, tables and experiments.'; return; }
            var hits = [];
            index.forEach(function (entry) { var s = score(entry, terms); if (s > 0) hits.push({ entry: entry, score: s }); });
            hits.sort(function (a, b) { return b.score - a.score || (a.entry.n < b.entry.n ? -1 : a.entry.n > b.entry.n ? 1 : 0); });
            status.textContent = hits.length + (hits.length === 1 ? ' result' : ' results') + ' for \u201c' + query + '\u201d';
            hits.forEach(function (hit) {
              var item = document.createElement('li');
              item.className = 'result';
              item.setAttribute('data-kind', hit.entry.k);
              item.setAttribute('data-name', hit.entry.n);
              var kind = document.createElement('span');
              kind.className = 'tag';
              kind.textContent = hit.entry.k;
              var link = document.createElement('a');
              link.href = hit.entry.u;
              link.textContent = hit.entry.n;
              var text = document.createElement('p');
              text.textContent = hit.entry.t + (hit.entry.d ? ': ' + hit.entry.d : '') + (hit.entry.o ? ' (' + hit.entry.o + ')' : '');
              item.appendChild(kind);
              item.appendChild(document.createTextNode(' '));
              item.appendChild(link);
              item.appendChild(text);
              list.appendChild(item);
            });
          }
          input.value = fromUrl();
          run(input.value);
          input.addEventListener('input', function () {
            try { history.replaceState(null, '', '#q=' + encodeURIComponent(input.value)); } catch (e) { }
            run(input.value);
          });
          window.addEventListener('hashchange', function () { input.value = fromUrl(); run(input.value); });
        })();

        """;

    private const string Css = """
        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #f6f8fa; color: #1f2328; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
        header.site { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px; padding: 10px 24px; background: #ffffff; border-bottom: 1px solid #d1d9e0; }
        header.site .brand { font-weight: 700; font-size: 16px; color: #1f2328; text-decoration: none; }
        header.site nav { display: flex; flex-wrap: wrap; gap: 4px 14px; flex: 1; }
        header.site nav a { color: #0969da; text-decoration: none; }
        header.site nav a[aria-current] { color: #1f2328; font-weight: 600; }
        input[type=search] { font: inherit; padding: 4px 8px; border: 1px solid #d1d9e0; border-radius: 6px; min-width: 220px; }
        form.search-page input { width: 100%; max-width: 640px; font-size: 16px; padding: 8px 10px; }
        main { max-width: 1100px; margin: 20px auto; padding: 24px 32px; background: #ffffff; border: 1px solid #d1d9e0; border-radius: 8px; }
        main.wide { max-width: none; margin: 20px; }
        a { color: #0969da; }
        .eyebrow { margin: 0; font-size: 12px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; color: #59636e; }
        h1 { margin: 2px 0 4px; font-size: 24px; line-height: 1.25; }
        .id { margin: 0 0 8px; color: #59636e; }
        h2 { margin: 28px 0 10px; padding-bottom: 6px; font-size: 18px; border-bottom: 1px solid #d1d9e0; }
        h3 { margin: 16px 0 6px; font-size: 14px; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
        code { background: #eff2f5; padding: 0.1em 0.35em; border-radius: 4px; }
        pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: 12px 14px; overflow-x: auto; line-height: 1.45; }
        pre code { background: none; padding: 0; }
        dl.facts { display: grid; grid-template-columns: 190px 1fr; gap: 6px 18px; margin: 16px 0 0; }
        dl.facts dt { color: #59636e; font-weight: 600; }
        dl.facts dd { margin: 0; }
        table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
        th, td { padding: 6px 8px; border-bottom: 1px solid #e1e4e8; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; color: #59636e; font-weight: 600; }
        .num { text-align: right; white-space: nowrap; }
        .tag { display: inline-block; padding: 0 8px; border-radius: 999px; background: #eff2f5; color: #59636e; font-size: 12px; font-weight: 600; }
        .note { color: #59636e; font-size: 12.5px; }
        .verdict { font-size: 18px; margin: 4px 0; }
        .not-run { padding: 10px 14px; background: #fffbeb; border: 1px solid #d4a72c; border-radius: 6px; }
        ol#results { padding-left: 0; list-style: none; }
        ol#results li { padding: 8px 0; border-bottom: 1px solid #e1e4e8; }
        ol#results li a { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
        ol#results li p { margin: 2px 0 0; color: #59636e; }
        .graph { overflow: auto; border: 1px solid #d1d9e0; border-radius: 6px; background: #ffffff; }
        svg.lineage { display: block; }
        svg.lineage a:hover rect { stroke-width: 2.5; }
        footer { max-width: 1100px; margin: 0 auto 24px; padding: 0 32px; color: #59636e; font-size: 12px; }

        """;
}

/// <summary>The <c>--output</c> folder cannot take the site (bad usage: it holds files metricc did not write).</summary>
public sealed class DocsOutputException(string message) : Exception(message);
