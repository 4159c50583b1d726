using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using MetricCompiler.Core.Loading;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Compiler.Tests.Docs;

/// <summary>
/// docs/schema/metrics.schema.json, the JSON Schema editors use for the YAML: every template and spec example is
/// valid under it, mistakes are not, and its keys are exactly the loader's (<see cref="YamlKeys"/>), mapping by mapping.
/// </summary>
public sealed class JsonSchemaTests
{
    private const string SchemaPath = "docs/schema/metrics.schema.json";
    private const string Modeline = "# yaml-language-server: $schema=";

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(Path.Combine(MarkdownDocument.RepositoryRoot(), SchemaPath))));

    public static IEnumerable<object[]> TemplateFiles() =>
        new[] { "metrics.yml" }
            .Concat(Directory.EnumerateFiles(Path.Combine(MarkdownDocument.RepositoryRoot(), "project_template"), "*.yml", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(MarkdownDocument.RepositoryRoot(), f).Replace('\\', '/')))
            .Order(StringComparer.Ordinal)
            .Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void Every_template_file_is_valid_and_names_the_schema_by_a_relative_path(string file)
    {
        var path = Path.Combine(MarkdownDocument.RepositoryRoot(), file);
        var text = File.ReadAllText(path);
        var errors = Validate(text);
        Assert.True(errors.Count == 0, $"{file} is not valid under {SchemaPath}:\n  {string.Join("\n  ", errors)}");

        var modeline = text.Split('\n').SingleOrDefault(l => l.StartsWith(Modeline, StringComparison.Ordinal));
        Assert.True(modeline is not null, $"{file} has no `{Modeline}...` line");
        var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, modeline[Modeline.Length..].Trim()));
        Assert.Equal(Path.GetFullPath(Path.Combine(MarkdownDocument.RepositoryRoot(), SchemaPath)), target);
    }

    [Fact]
    public void Every_complete_project_example_of_the_spec_is_valid()
    {
        var blocks = MarkdownDocument.Load("docs/spec.md").YamlBlocks.Where(b => b.FirstLine == "# complete-project").ToList();
        Assert.NotEmpty(blocks);
        var failures = blocks
            .Select(b => (Block: b, Errors: Validate(b.Text)))
            .Where(x => x.Errors.Count > 0)
            .Select(x => $"docs/spec.md:{x.Block.Line}:\n  {string.Join("\n  ", x.Errors)}")
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("version: 1\nmetrics:\n  - {name: m, source: events, agg: count, colour: blue}\n", "/metrics/0")]
    [InlineData("version: 1\nmetrics:\n  - {name: m, source: events, agg: median}\n", "/metrics/0/agg")]
    [InlineData("version: 1\nexperiments:\n  - id: e\n    exposure: {source: exposures}\n    variants: [{name: a, weight: half, control: true}]\n    start: 2026-01-05\n    end: 2026-01-18\n    metrics: {primary: [m]}\n", "/experiments/0/variants/0/weight")]
    [InlineData("version: 1\nexperiments:\n  - id: e\n    exposure: {source: exposures}\n    start: 5 January\n    end: 2026-01-18\n    metrics: {primary: [m]}\n", "/experiments/0/start")]
    [InlineData("version: 1\ntargets:\n  dev: {path: target/warehouse.duckdb}\n", "/targets/dev")]
    [InlineData("version: 1\nsources:\n  - name: events\n    entity: user_id\n    event_time: at\n    columns: [{name: at, type: datetime}]\n", "/sources/0/columns/0/type")]
    public void A_mistake_the_loader_rejects_is_invalid_under_the_schema_too(string yaml, string location)
    {
        var errors = Validate(yaml);
        Assert.True(errors.Any(e => e.StartsWith(location, StringComparison.Ordinal)), $"expected an error at {location}, got:\n  {string.Join("\n  ", errors)}");
    }

    [Fact]
    public void The_schema_has_exactly_the_keys_the_loader_reads_in_each_mapping()
    {
        var definitions = Definitions();
        var problems = new List<string>();
        foreach (var (mapping, keys) in YamlKeys.ByMapping)
        {
            if (!definitions.TryGetValue(mapping, out var definition))
            {
                problems.Add($"{SchemaPath} has no $defs/{mapping} for the loader's `{mapping}` mapping");
                continue;
            }

            var properties = Properties(definition);
            foreach (var key in keys.Where(k => !properties.Contains(k)))
                problems.Add($"the loader reads `{key}` in a `{mapping}` mapping; $defs/{mapping} lacks it");
            foreach (var key in properties.Where(k => !keys.Contains(k)))
                problems.Add($"$defs/{mapping} allows `{key}`, which the loader rejects there (MC1002)");
            foreach (var key in keys.Where(k => YamlKeys.Refused.Contains(k) && properties.Contains(k)))
                if (definition["properties"]![key]?.GetValueKind() != JsonValueKind.False)
                    problems.Add($"$defs/{mapping}: the loader refuses `{key}` with an error; the schema must say `\"{key}\": false`");
            if (definition["additionalProperties"]?.GetValue<bool>() != false)
                problems.Add($"$defs/{mapping} must say additionalProperties: false, as the loader reports unknown keys");
        }

        // Every closed object of the schema is one of the loader's mappings; a target is open (its settings are free-form).
        foreach (var (name, definition) in definitions)
            if (definition["properties"] is not null && name is not ("target" or "$root") && !YamlKeys.ByMapping.ContainsKey(name))
                problems.Add($"$defs/{name} is not a mapping the loader reads (YamlKeys.ByMapping)");
        Assert.Equal([YamlKeys.TargetAdapter], Properties(definitions["target"]));
        Assert.Equal(Properties(definitions[YamlKeys.Project]), Properties(definitions["$root"]));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Every $defs entry by name, and the root (what a file is validated against) as <c>$root</c>.</summary>
    private static Dictionary<string, JsonObject> Definitions()
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(MarkdownDocument.RepositoryRoot(), SchemaPath)))!.AsObject();
        var definitions = root["$defs"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.AsObject(), StringComparer.Ordinal);
        var reference = root["$ref"]!.GetValue<string>();
        definitions["$root"] = definitions[reference["#/$defs/".Length..]];
        return definitions;
    }

    private static List<string> Properties(JsonObject definition) =>
        definition["properties"]?.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToList() ?? [];

    /// <summary>The schema's errors for a YAML text, each as <c>instance location: message</c>.</summary>
    private static List<string> Validate(string yaml)
    {
        var json = YamlToJson(yaml);
        using var document = JsonDocument.Parse(json?.ToJsonString() ?? "null");
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
            return [];
        return (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({d.EvaluationPath})"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>YAML as the JSON an editor's language server sees: plain scalars typed (null, bool, number), quoted ones text.</summary>
    private static JsonNode? YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, Convert(p.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    private static JsonNode? Plain(string text)
    {
        if (text is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (text is "true" or "True" or "TRUE")
            return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE")
            return JsonValue.Create(false);
        if (Regex.IsMatch(text, @"^[-+]?\d+$") && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole))
            return JsonValue.Create(whole);
        if (Regex.IsMatch(text, @"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$") && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return JsonValue.Create(number);
        return JsonValue.Create(text);
    }
}
