namespace MetricCompiler.Execution.Docs;

/// <summary>Where each page of the docs site lives, relative to the site's root folder (links are relative too).</summary>
public static class DocsPaths
{
    public const string Index = "index.html";
    public const string Metrics = "metrics.html";
    public const string Dimensions = "dimensions.html";
    public const string Sources = "sources.html";
    public const string Tables = "tables.html";
    public const string Experiments = "experiments.html";
    public const string Lineage = "lineage.html";
    public const string Search = "search.html";

    /// <summary>The file in an output folder that marks it as a docs site (so stale pages may be removed from it).</summary>
    public const string Marker = ".metricc-docs";

    public static string Metric(string name) => $"metrics/{name}.html";

    public static string Source(string name) => $"sources/{name}.html";

    public static string Node(string name) => $"tables/{name}.html";

    public static string Experiment(string id) => $"experiments/{id}.html";

    /// <summary>The readouts <c>metricc run</c> wrote, copied into the site so it stands on its own.</summary>
    public static string Readout(string id, string extension) => $"readouts/{id}.{extension}";

    /// <summary>The relative prefix from <paramref name="page"/> back to the site's root: <c>""</c> or <c>"../"</c>.</summary>
    public static string ToRoot(string page) => string.Concat(Enumerable.Repeat("../", page.Count(c => c == '/')));
}
