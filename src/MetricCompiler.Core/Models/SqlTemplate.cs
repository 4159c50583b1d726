using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using Scriban;
using Scriban.Parsing;
using Scriban.Runtime;
using Scriban.Syntax;

namespace MetricCompiler.Core.Models;

/// <summary>A piece of rendered model SQL: text, or a relation a <c>ref</c> / <c>source</c> call named.</summary>
public abstract record SqlPart;

public sealed record SqlTextPart(string Text) : SqlPart;

/// <summary><c>{{ ref('name') }}</c>: another node of the plan (a model, a staging table, a metric table, ...).</summary>
public sealed record SqlRefPart(NameReference Name) : SqlPart;

/// <summary><c>{{ source('raw', 'events') }}</c>: the raw table of a declared source (the last argument names it).</summary>
public sealed record SqlSourcePart(NameReference Name) : SqlPart;

public enum ModelMaterialization
{
    Table,
    View,
    /// <summary>A table of which a run recomputes only the latest days (<see cref="IncrementalConfig"/>).</summary>
    Incremental,
}

/// <summary>
/// <c>{{ config(materialized='incremental', event_time='event_date', lookback_days=3) }}</c>: a run recomputes the days
/// from <see cref="LookbackDays"/> days before the latest day in the table onwards (late events inside that window are
/// counted) and keeps the older days as they are.
/// </summary>
/// <param name="EventTime">The output column (a date or a timestamp) whose day places each row.</param>
/// <param name="Location">The <c>config</c> call.</param>
public sealed record IncrementalConfig(string EventTime, int LookbackDays, SourceLocation Location)
{
    public const int DefaultLookbackDays = 1;

    public const int MaxLookbackDays = 3650;
}

/// <summary>A template after rendering: its SQL as parts, and what its <c>config(...)</c> call said.</summary>
public sealed record RenderedSql(IReadOnlyList<SqlPart> Parts, ModelMaterialization Materialization, TestSeverity Severity = TestSeverity.Error)
{
    /// <summary>Set when <see cref="Materialization"/> is <see cref="ModelMaterialization.Incremental"/>.</summary>
    public IncrementalConfig? Incremental { get; init; }

    public IEnumerable<SqlRefPart> Refs => Parts.OfType<SqlRefPart>();

    public IEnumerable<SqlSourcePart> Sources => Parts.OfType<SqlSourcePart>();
}

/// <summary>
/// Renders dbt-style SQL templates with Scriban's Liquid parser, which reads <c>{{ ref('x') }}</c>,
/// <c>{% if a == 1 and b %}</c> and <c>{% for x in list %}</c> as dbt users write them. What Liquid spells differently
/// is translated first, keeping every other character in place so that Scriban's positions are the file's:
/// <c>{% elif %}</c> becomes <c>{%elsif %}</c>, <c>{# comments #}</c> become spaces, and <c>{{ config(materialized='view') }}</c>
/// (keyword arguments, which Liquid has not) is read here and blanked.
/// </summary>
public static class SqlTemplate
{
    public static readonly IReadOnlyList<string> Functions = ["ref", "source", "var", "config"];

    private static readonly Regex Config = new(@"\{\{-?\s*config\s*\((?<args>[^)]*)\)\s*-?\}\}", RegexOptions.CultureInvariant);
    private static readonly Regex ConfigArgument = new(@"^\s*(?<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:'(?<value>[^']*)'|""(?<value>[^""]*)""|(?<value>[A-Za-z0-9_.-]+))\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Elif = new(@"\{%(?<dash>-?)(?<space>\s+)elif\b", RegexOptions.CultureInvariant);
    private static readonly Regex Comment = new(@"\{#.*?#\}", RegexOptions.CultureInvariant | RegexOptions.Singleline);
    private static readonly Regex Marker = new("\u0001(?<index>[0-9]+)\u0001", RegexOptions.CultureInvariant);

    private static readonly Dictionary<string, ModelMaterialization> Materializations = new(StringComparer.Ordinal)
    {
        ["table"] = ModelMaterialization.Table,
        ["view"] = ModelMaterialization.View,
        ["incremental"] = ModelMaterialization.Incremental,
    };

    /// <summary>The settings of a model's <c>config(...)</c>; a SQL test has only <c>severity</c>.</summary>
    private static readonly IReadOnlyList<string> ModelSettings = ["materialized", "event_time", "lookback_days"];

    /// <summary>dbt's own incremental filter: not needed here, since the compiler filters on <c>event_time</c>.</summary>
    private static readonly Regex DbtIncrementalFilter = new(@"\bis_incremental\s*\(|\{\{-?\s*this\s*-?\}\}", RegexOptions.CultureInvariant);

    /// <summary>
    /// Renders <paramref name="text"/> (the contents of <paramref name="file"/>); every problem is a located diagnostic
    /// and the result is null.
    /// </summary>
    public static RenderedSql? Render(string file, string text, IReadOnlyDictionary<string, object?> vars, DiagnosticBag diagnostics, bool isTest = false)
    {
        var errors = diagnostics.Items.Count(d => d.IsError);
        var materialization = ModelMaterialization.Table;
        var severity = TestSeverity.Error;
        var setting = isTest ? "severity" : "materialized";
        string? eventTime = null;
        int? lookback = null;
        SourceLocation? configAt = null;
        var translated = Comment.Replace(text, m => Blank(m.Value));
        translated = Config.Replace(translated, m =>
        {
            var at = At(file, text, m.Index);
            configAt ??= at;
            foreach (var argument in m.Groups["args"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parsed = ConfigArgument.Match(argument);
                if (!parsed.Success)
                {
                    diagnostics.Error(DiagnosticCodes.InvalidModelConfig, at, $"cannot read `{argument.Trim()}` in `config(...)`", $"write `{{{{ config({setting}='...') }}}}`");
                    continue;
                }

                var key = parsed.Groups["key"].Value;
                var value = parsed.Groups["value"].Value;
                if (isTest ? key != setting : !ModelSettings.Contains(key))
                    diagnostics.Error(key is "unique_key" or "incremental_strategy" or "lookback" && !isTest ? DiagnosticCodes.InvalidIncrementalConfig : DiagnosticCodes.InvalidModelConfig, at,
                        $"`config` has no setting `{key}` in a {(isTest ? "SQL test" : "SQL model")}",
                        isTest ? $"settings: {setting}"
                            : key is "unique_key" or "incremental_strategy"
                                ? "an incremental model replaces whole days: a run deletes the days of its window and inserts them recomputed, so it needs `event_time` and `lookback_days`, not a key; settings: " + string.Join(", ", ModelSettings)
                                : $"settings: {string.Join(", ", ModelSettings)}{(key == "lookback" ? " (the lookback is counted in days: `lookback_days`)" : "")}");
                else if (isTest && value is "error" or "warn")
                    severity = value == "warn" ? TestSeverity.Warn : TestSeverity.Error;
                else if (isTest)
                    diagnostics.Error(DiagnosticCodes.InvalidModelConfig, at, $"`severity='{value}'` is not a severity", "severities: error, warn");
                else if (key == "event_time")
                    eventTime = value;
                else if (key == "lookback_days")
                {
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days <= IncrementalConfig.MaxLookbackDays)
                        lookback = days;
                    else
                        diagnostics.Error(DiagnosticCodes.InvalidIncrementalConfig, at, $"`lookback_days={value}` is not a number of days",
                            $"a whole number from 0 to {IncrementalConfig.MaxLookbackDays}: how many days before the latest day in the table a run recomputes");
                }
                else if (Materializations.TryGetValue(value, out var chosen))
                    materialization = chosen;
                else
                    diagnostics.Error(DiagnosticCodes.InvalidModelConfig, at, $"`materialized='{value}'` is not a materialization",
                        $"materializations: {string.Join(", ", Materializations.Keys)}");
            }

            return Blank(m.Value);
        });
        IncrementalConfig? incremental = null;
        if (!isTest && materialization == ModelMaterialization.Incremental)
        {
            if (eventTime is null)
                diagnostics.Error(DiagnosticCodes.InvalidIncrementalConfig, configAt!, "an incremental model needs `event_time`: the column whose day places each row",
                    "write `{{ config(materialized='incremental', event_time='event_date', lookback_days=3) }}`");
            else
                incremental = new IncrementalConfig(eventTime, lookback ?? IncrementalConfig.DefaultLookbackDays, configAt!);
        }
        else if (!isTest && (eventTime is not null || lookback is not null))
        {
            diagnostics.Error(DiagnosticCodes.InvalidIncrementalConfig, configAt!, "`event_time` and `lookback_days` are settings of an incremental model",
                "add `materialized='incremental'`, or remove them");
        }

        if (!isTest && DbtIncrementalFilter.Match(translated) is { Success: true } filter)
        {
            diagnostics.Error(DiagnosticCodes.DbtIncrementalFilter, At(file, text, filter.Index), "`is_incremental()` and `{{ this }}` are not needed: the compiler filters an incremental model on its `event_time`",
                "write the full query; a run keeps the table's days before its window and recomputes the rest (`config(materialized='incremental', event_time='...', lookback_days=N)`)");
            return null;
        }

        translated = Elif.Replace(translated, m => "{%" + m.Groups["dash"].Value + m.Groups["space"].Value[1..] + "elsif");
        if (TooDeep(translated) is { } deep)
        {
            // The template parser recurses per level; a hostile file must get a diagnostic, not a stack overflow.
            diagnostics.Error(DiagnosticCodes.TemplateSyntax, At(file, text, deep), $"template nesting is deeper than {MaxDepth} levels",
                "nest fewer `{% if %}` / `{% for %}` blocks and brackets inside `{{ }}`");
            return null;
        }

        Template template;
        try
        {
            template = Template.ParseLiquid(translated, file);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or InsufficientExecutionStackException))
        {
            diagnostics.Error(DiagnosticCodes.TemplateSyntax, new SourceLocation(file, 1, 1), $"template syntax error: {e.Message}", "check the `{{ }}` and `{% %}` tags of this file");
            return null;
        }

        if (template.HasErrors)
        {
            // Scriban often reports one mistake several times at the same place; the first message says it best.
            foreach (var message in template.Messages.Where(m => m.Type == ParserMessageType.Error).DistinctBy(m => (m.Span.Start.Line, m.Span.Start.Column)).Take(1))
                diagnostics.Error(DiagnosticCodes.TemplateSyntax, At(file, message.Span), $"template syntax error: {message.Message}",
                    "models use dbt's syntax: `{{ ref('x') }}`, `{{ source('raw', 'events') }}`, `{{ var('x') }}`, `{% if ... %}...{% endif %}`, `{% for x in list %}...{% endfor %}`");
            return null;
        }

        var parts = new List<SqlPart>();
        var functions = new ScriptObject();
        functions.Import("ref", new Func<TemplateContext, SourceSpan, string, string>((_, span, name) => Mark(parts, new SqlRefPart(new NameReference(name, At(file, span))))));
        var source = (TemplateContext _, SourceSpan span, params object[] names) => Source(parts, file, span, names);
        var var = (TemplateContext _, SourceSpan span, params object?[] args) => Var(vars, span, args);
        functions.Import("source", source);
        functions.Import("var", var);
        var context = new LiquidTemplateContext { StrictVariables = true, LoopLimit = 10_000, RecursiveLimit = 64 };
        context.PushGlobal(functions);
        string output;
        try
        {
            output = template.Render(context);
        }
        catch (UnknownVarException e)
        {
            diagnostics.Error(DiagnosticCodes.UnknownVar, At(file, e.Span), e.OriginalMessage,
                vars.Count == 0 ? "pass it on the command line: `--vars '{name: value}'`, or give a default: `var('name', 1)`"
                    : $"vars given: {string.Join(", ", vars.Keys.Order(StringComparer.Ordinal))}; or give a default: `var('name', 1)`");
            return null;
        }
        catch (ScriptRuntimeException e)
        {
            diagnostics.Error(DiagnosticCodes.TemplateSyntax, At(file, e.Span), $"template error: {e.OriginalMessage}",
                $"the functions are {string.Join(", ", Functions)}; a name outside `{{{{ }}}}` calls must be a loop variable");
            return null;
        }
        catch (Exception e) when (e is not (OutOfMemoryException or InsufficientExecutionStackException))
        {
            diagnostics.Error(DiagnosticCodes.TemplateSyntax, new SourceLocation(file, 1, 1), $"template error: {e.Message}",
                $"the functions are {string.Join(", ", Functions)}");
            return null;
        }

        if (diagnostics.Items.Count(d => d.IsError) > errors)
            return null;
        return new RenderedSql(Split(output.Trim().TrimEnd(';').TrimEnd(), parts), materialization, severity) { Incremental = incremental };
    }

    /// <summary>The deepest nesting of blocks, and of brackets inside tags, a template may have.</summary>
    public const int MaxDepth = 64;

    private static readonly Regex BlockTag = new(@"\{%-?\s*(?<word>[a-z]+)", RegexOptions.CultureInvariant);

    /// <summary>The index where nesting first goes deeper than <see cref="MaxDepth"/>, or null.</summary>
    private static int? TooDeep(string text)
    {
        var blocks = 0;
        foreach (Match m in BlockTag.Matches(text))
        {
            var word = m.Groups["word"].Value;
            if (word is "if" or "for" or "unless" or "case" or "capture" or "tablerow" or "while")
                blocks++;
            else if (word.StartsWith("end", StringComparison.Ordinal))
                blocks--;
            if (blocks > MaxDepth)
                return m.Index;
        }

        var inTag = false;
        var depth = 0;
        for (var i = 0; i < text.Length - 1; i++)
        {
            if (!inTag && text[i] == '{' && text[i + 1] is '{' or '%')
            {
                inTag = true;
                depth = 0;
                i++;
            }
            else if (inTag && text[i] is '}' or '%' && text[i + 1] == '}' && depth <= 0)
            {
                inTag = false;
                i++;
            }
            else if (inTag && text[i] is '(' or '[' or '{')
            {
                if (++depth > MaxDepth)
                    return i;
            }
            else if (inTag && text[i] is ')' or ']' or '}')
            {
                depth--;
            }
        }

        return null;
    }

    private sealed class UnknownVarException(SourceSpan span, string message) : ScriptRuntimeException(span, message);

    private static string Mark(List<SqlPart> parts, SqlPart part)
    {
        parts.Add(part);
        return $"\u0001{parts.Count - 1}\u0001";
    }

    private static string Source(List<SqlPart> parts, string file, SourceSpan span, object[] names)
    {
        if (names.Length is < 1 or > 2 || names.Any(n => n is not string))
            throw new ScriptRuntimeException(span, "`source` takes the source's name, optionally after a schema or group name: `source('raw', 'events')`");
        return Mark(parts, new SqlSourcePart(new NameReference((string)names[^1], At(file, span))));
    }

    private static object? Var(IReadOnlyDictionary<string, object?> vars, SourceSpan span, object?[] args)
    {
        if (args.Length is < 1 or > 2 || args[0] is not string name)
            throw new ScriptRuntimeException(span, "`var` takes a name and an optional default: `var('days', 7)`");
        if (vars.TryGetValue(name, out var value))
            return value;
        if (args.Length == 2)
            return args[1];
        throw new UnknownVarException(span, $"var `{name}` is not set and has no default");
    }

    /// <summary>Cuts the rendered text at the markers the functions left.</summary>
    private static IReadOnlyList<SqlPart> Split(string output, List<SqlPart> calls)
    {
        var result = new List<SqlPart>();
        var last = 0;
        foreach (Match m in Marker.Matches(output))
        {
            if (m.Index > last)
                result.Add(new SqlTextPart(output[last..m.Index]));
            result.Add(calls[int.Parse(m.Groups["index"].Value, CultureInfo.InvariantCulture)]);
            last = m.Index + m.Length;
        }

        if (last < output.Length)
            result.Add(new SqlTextPart(output[last..]));
        return result;
    }

    /// <summary>The same text with every character but line breaks replaced by a space (positions stay put).</summary>
    private static string Blank(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(c is '\n' or '\r' ? c : ' ');
        return sb.ToString();
    }

    private static SourceLocation At(string file, SourceSpan span) => new(file, span.Start.Line + 1, span.Start.Column + 1);

    private static SourceLocation At(string file, string text, int index)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < index && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new SourceLocation(file, line, column);
    }

    /// <summary>
    /// Reads <c>--vars '{days: 7, countries: [DE, FR]}'</c> (a YAML mapping, as dbt takes it).
    /// </summary>
    /// <exception cref="FormatException">The text is not a YAML mapping.</exception>
    public static IReadOnlyDictionary<string, object?> ParseVars(string? text)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
            return result;
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"--vars is not YAML: {(e.InnerException ?? e).Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode mapping)
            throw new FormatException("--vars must be a mapping, such as '{days: 7, country: DE}'");
        foreach (var (key, value) in mapping.Children)
            if (key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } name })
                result[name] = FromYaml(value);
        return result;
    }

    /// <summary>Turns a YAML value given with <c>--vars</c> into what templates compare and loop over.</summary>
    public static object? FromYaml(YamlDotNet.RepresentationModel.YamlNode node) => node switch
    {
        YamlDotNet.RepresentationModel.YamlScalarNode { Value: null or "~" or "null" } => null,
        YamlDotNet.RepresentationModel.YamlScalarNode scalar when scalar.Style != YamlDotNet.Core.ScalarStyle.Plain => scalar.Value,
        YamlDotNet.RepresentationModel.YamlScalarNode scalar => Scalar(scalar.Value!),
        YamlDotNet.RepresentationModel.YamlSequenceNode sequence => new ScriptArray(sequence.Children.Select(FromYaml)),
        YamlDotNet.RepresentationModel.YamlMappingNode mapping => Mapping(mapping),
        _ => null,
    };

    private static object Scalar(string value)
    {
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
            return integer;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return number;
        if (value is "true" or "false")
            return value == "true";
        return value;
    }

    private static ScriptObject Mapping(YamlDotNet.RepresentationModel.YamlMappingNode mapping)
    {
        var result = new ScriptObject();
        foreach (var (key, value) in mapping.Children)
            if (key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } name })
                result[name] = FromYaml(value);
        return result;
    }
}
