using System.Net;
using System.Text.RegularExpressions;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Execution.Docs;
using MetricCompiler.Execution.Queries;
using MetricCompiler.Planning;
using MetricCompiler.Planning.Queries;

namespace MetricCompiler.Integration.Tests.Docs;

/// <summary>
/// The docs site of the demo project, compiled (no warehouse): a page per metric with its definition, SQL and uses; the
/// lineage SVG with a box per DAG node and a path per dependency; YAML text escaped; the same project, the same bytes.
/// </summary>
public sealed class DocsSiteTests : IDisposable
{
    private const string HostileDescription = "Pages <script>alert('x')</script> & <b>bold</b> \"quoted\"";
    private const string HostileOwner = "growth <i>team</i> & co";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-docs", Guid.NewGuid().ToString("N"));

    public DocsSiteTests()
    {
        DemoCopy.To(_root);
        var engagement = Path.Combine(_root, "project_template", "models", "metrics", "engagement.yml");
        var yaml = File.ReadAllText(engagement);
        Assert.Contains("    description: Pages viewed per exposed user.\n    owner: growth-analytics\n", yaml);
        File.WriteAllText(engagement, yaml.Replace(
            "    description: Pages viewed per exposed user.\n    owner: growth-analytics\n",
            $"    description: '{HostileDescription.Replace("'", "''")}'\n    owner: {HostileOwner}\n"));
    }

    private DocsProject Compile() => DocsProject.Compile(_root, null);

    [Fact]
    public void Every_metric_has_a_page_with_its_definition_compiled_sql_and_uses()
    {
        var docs = Compile();
        var site = DocsSite.Build(docs);
        var catalog = site[DocsPaths.Metrics];
        Assert.Equal(22, docs.Project.Metrics.Count);
        foreach (var metric in docs.Project.Metrics)
        {
            Assert.True(site.TryGetValue($"metrics/{metric.Name}.html", out var page), $"no page for metric `{metric.Name}`");
            Assert.Contains($"<a href=\"metrics/{metric.Name}.html\"><code>{metric.Name}</code></a>", catalog);
            Assert.Contains($"<dt>Type</dt><dd><code>{metric.Type.Name}</code></dd>", page);
            Assert.Contains($"<dt>Defined at</dt><dd><code>{metric.Location}</code></dd>", page);
            Assert.Contains($"- name: {metric.Name}\n", page);
            var sql = QueryRunner.Explain(docs.Project, new MetricQuery([metric.Name], ["metric_time__day"]), docs.Dialect);
            Assert.Contains(WebUtility.HtmlEncode(sql), page);
        }

        var dau = site["metrics/dau.html"];
        Assert.Contains("<dt>Owner</dt><dd>growth-analytics</dd>", dau);
        Assert.Matches("Dashboards and queries</dt><dd><a href=\"../tables/fct_dau.html\"><code>fct_dau</code></a> \\(per day by platform\\)", dau);
        Assert.Contains("<a href=\"../metrics/stickiness.html\"><code>stickiness</code></a>", Section(dau, "used-by"));
        Assert.Contains("<a href=\"../metrics/wau.html\"><code>wau</code></a>", Section(dau, "used-by"));
        var purchased = Section(site["metrics/purchased.html"], "used-by");
        Assert.Contains("<a href=\"../experiments/homepage_cta.html\"><code>homepage_cta</code></a> (primary)", purchased);
        var stickiness = site["metrics/stickiness.html"];
        Assert.Contains("<dt>Reads</dt><dd><a href=\"../metrics/dau.html\"><code>dau</code></a>, <a href=\"../metrics/mau.html\"><code>mau</code></a></dd>", stickiness);
        var daily = Section(site["metrics/daily_page_load_time.html"], "definition");
        Assert.Contains("source: page_loads", daily);
    }

    [Fact]
    public void Lineage_svg_has_a_box_per_dag_node_and_a_path_per_dependency()
    {
        var docs = Compile();
        var svg = Regex.Match(DocsSite.Build(docs)[DocsPaths.Lineage], "<svg class=\"lineage\".*?</svg>", RegexOptions.Singleline).Value;
        var boxes = Regex.Matches(svg, "<a class=\"node [a-z-]+\" href=\"([^\"]+)\" data-id=\"([^\"]+)\" data-rank=\"(\\d+)\"")
            .ToDictionary(m => m.Groups[2].Value, m => (Href: m.Groups[1].Value, Rank: int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture)));
        var paths = Regex.Matches(svg, "<path class=\"edge\" data-from=\"([^\"]+)\" data-to=\"([^\"]+)\"")
            .Select(m => (From: m.Groups[1].Value, To: m.Groups[2].Value)).ToList();

        var expectedNodes = docs.Plan.Nodes.Select(n => $"node:{n.Name}")
            .Concat(docs.Project.Metrics.Select(m => $"metric:{m.Name}"))
            .Concat(docs.Project.Sources.Where(s => s.Definition.Model is null).Select(s => $"source:{s.Name}"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expectedNodes, boxes.Keys.Order(StringComparer.Ordinal));

        var expectedEdges = new HashSet<(string, string)>();
        foreach (var node in docs.Plan.Nodes)
        {
            foreach (var dependency in node.DependsOn)
                expectedEdges.Add(($"node:{dependency}", $"node:{node.Name}"));
            foreach (var table in node.SourceTables)
                expectedEdges.Add(($"source:{docs.Project.Sources.Single(s => s.Table == table).Name}", $"node:{node.Name}"));
        }

        foreach (var metric in docs.Project.Metrics)
        {
            foreach (var input in metric.Inputs)
                expectedEdges.Add(($"metric:{input.Name}", $"metric:{metric.Name}"));
            foreach (var source in metric.Sources.Where(s => !metric.Inputs.Any(i => i.Sources.Contains(s))))
                expectedEdges.Add(($"node:{NodeNames.Staging(source.Name)}", $"metric:{metric.Name}"));
            if (metric.Definition.Materialize is not null)
                expectedEdges.Add(($"metric:{metric.Name}", $"node:{NodeNames.MetricTable(metric.Name)}"));
        }

        foreach (var experiment in docs.Project.Experiments)
            foreach (var metric in experiment.Metrics)
                expectedEdges.Add(($"metric:{metric.Metric.Name}", $"node:{NodeNames.UnitMetrics(experiment.Id)}"));

        Assert.Equal(expectedEdges.Order(), paths.Order());
        Assert.Equal(paths.Count, paths.Distinct().Count());
        // Layered: every dependency points to a later column.
        Assert.All(paths, p => Assert.True(boxes[p.From].Rank < boxes[p.To].Rank, $"{p.From} (rank {boxes[p.From].Rank}) -> {p.To} (rank {boxes[p.To].Rank})"));
        Assert.Equal(0, boxes["source:events"].Rank);
        Assert.Equal("tables/experiment_results.html", boxes["node:experiment_results"].Href);
        Assert.Equal(boxes.Values.Max(b => b.Rank), boxes["node:experiment_results"].Rank);
        Assert.Contains($"<title id=\"lineage-title\">Lineage: {boxes.Count} nodes, {paths.Count} dependencies</title>", svg);

        // Boxes of one column never overlap.
        var rects = Regex.Matches(svg, "data-rank=\"(\\d+)\"><title>[^<]*</title><rect x=\"([\\d.]+)\" y=\"([\\d.]+)\"")
            .Select(m => (Rank: m.Groups[1].Value, Y: double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(boxes.Count, rects.Count);
        foreach (var column in rects.GroupBy(r => r.Rank))
        {
            var ys = column.Select(r => r.Y).Order().ToList();
            Assert.All(ys.Zip(ys.Skip(1)), pair => Assert.True(pair.Second - pair.First >= LineageLayout.NodeHeight, $"boxes overlap in column {column.Key}"));
        }
    }

    [Fact]
    public void Yaml_text_is_html_escaped_everywhere()
    {
        var site = DocsSite.Build(Compile());
        var page = site["metrics/page_views.html"];
        Assert.Contains("<dt>Description</dt><dd>Pages &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;</dd>", page);
        Assert.Contains("<dt>Owner</dt><dd>growth &lt;i&gt;team&lt;/i&gt; &amp; co</dd>", page);
        Assert.Contains("description: &#39;Pages &lt;script&gt;alert(&#39;&#39;x&#39;&#39;)&lt;/script&gt;", Section(page, "definition"));
        foreach (var (path, content) in site.Where(f => f.Key.EndsWith(".html", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain("<script>alert", content);
            Assert.DoesNotContain("<b>bold", content);
            Assert.DoesNotContain("<i>team", content);
            // The one script is the search page's, allowed by its hash; every other page runs none.
            Assert.Equal(path == DocsPaths.Search ? 1 : 0, Regex.Matches(content, "<script>").Count);
            Assert.DoesNotMatch("(src|href)=\"(https?:)?//", content);
        }

        // The search index is JSON in a data block: the description's markup is \u003C-escaped, never a tag.
        var search = site[DocsPaths.Search];
        Assert.Contains("Pages \\u003Cscript\\u003Ealert(\\u0027x\\u0027)\\u003C/script\\u003E", search);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]+'", search);
    }

    [Fact]
    public void Same_project_gives_the_same_bytes_and_the_output_folder_is_guarded()
    {
        var first = DocsSite.Build(Compile());
        var second = DocsSite.Build(Compile());
        Assert.Equal(first.Keys, second.Keys);
        Assert.All(first, f => Assert.Equal(f.Value, second[f.Key]));
        Assert.Contains("not run yet", first[DocsPaths.Experiment("homepage_cta")], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("readouts/", string.Join("\n", first.Keys));

        var output = Path.Combine(_root, "site");
        var error = new StringWriter();
        Assert.Equal(0, CommandLine.Run(["docs", "generate", "--project-dir", _root, "--output", output], new StringWriter(), error));
        Assert.Equal("", error.ToString());
        var written = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(output, f).Replace('\\', '/'), File.ReadAllText);
        Assert.Equal(first.Keys.Append(DocsPaths.Marker).Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        Assert.All(first, f => Assert.Equal(f.Value, written[f.Key]));

        // A page of an earlier site that the new one lacks is removed; a folder metricc did not write is refused, untouched.
        File.WriteAllText(Path.Combine(output, "metrics", "retired_metric.html"), "old");
        Assert.Equal(0, CommandLine.Run(["docs", "generate", "--project-dir", _root, "--output", output], new StringWriter(), new StringWriter()));
        Assert.False(File.Exists(Path.Combine(output, "metrics", "retired_metric.html")));
        var foreign = Path.Combine(_root, "notes");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.txt"), "mine");
        error = new StringWriter();
        Assert.Equal(2, CommandLine.Run(["docs", "generate", "--project-dir", _root, "--output", foreign], new StringWriter(), error));
        Assert.Contains("holds no docs site metricc wrote", error.ToString());
        Assert.Equal(["keep.txt"], Directory.GetFiles(foreign).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Server_serves_the_site_and_refuses_paths_that_leave_it()
    {
        var site = Path.Combine(_root, "site");
        DocsSite.Write(site, DocsSite.Build(Compile()));
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "outside the site");
        await using var server = DocsServer.Start(site, 0);
        Assert.NotEqual(0, server.Port);

        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        var index = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html; charset=utf-8", index.Content.Headers.ContentType!.ToString());
        Assert.Equal(File.ReadAllText(Path.Combine(site, "index.html")), await index.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics/dau.html")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics/no_such_metric.html")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/index.html", new StringContent("x"))).StatusCode);

        // Raw request lines: an HTTP client would normalise these away before sending them.
        foreach (var target in new[] { "/../secret.txt", "/%2e%2e/secret.txt", "/metrics/..%2f..%2fsecret.txt", "/..\\secret.txt", "/%2e%2e%5csecret.txt", "//etc/passwd/../../secret.txt" })
        {
            var response = await Raw(server.Port, $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 400 ", response);
            Assert.DoesNotContain("outside the site", response);
        }

        Assert.StartsWith("HTTP/1.1 400 ", await Raw(server.Port, "nonsense\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 OK", await Raw(server.Port, "GET /search.html?q=dau HTTP/1.1\r\nHost: x\r\n\r\n"));
    }

    private static async Task<string> Raw(int port, string request)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>The HTML of one <c>&lt;section id=...&gt;</c>.</summary>
    private static string Section(string page, string id) =>
        Regex.Match(page, $"<section id=\"{id}\">.*?</section>", RegexOptions.Singleline) is { Success: true } m ? m.Value : throw new Xunit.Sdk.XunitException($"no section `{id}`");

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
