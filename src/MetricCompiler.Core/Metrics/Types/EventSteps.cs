using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>One named kind of event of a metric's source as written (a funnel step, an activation action).</summary>
public sealed record EventStepSpec(string? Name, SqlSnippet? Filter, NameReference? Source, SourceLocation Location);

/// <summary>A bound step: its name (a column name), its filter over the source's columns (null: every row).</summary>
public sealed record EventStep(string Name, SqlExpr? Filter, string? FilterText);

/// <summary>
/// Reading and binding the lists of named events that conversion and activation metrics share
/// (<c>- {name: sign_up, filter: "event_type = 'sign_up'"}</c>), and their windows of whole days.
/// </summary>
internal static partial class EventSteps
{
    [GeneratedRegex(@"^\s*(\d+)\s*(day|days)\s*$")]
    private static partial Regex DaysPattern();

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*$")]
    private static partial Regex NamePattern();

    /// <summary>The entries of the list under <paramref name="key"/> (null when the key is absent).</summary>
    public static IReadOnlyList<EventStepSpec>? Read(YamlMappingReader reader, string key, string what)
    {
        if (reader.Sequence(key) is not { } sequence)
            return null;
        var steps = new List<EventStepSpec>();
        foreach (var node in sequence.Children)
        {
            if (node is not YamlMappingNode mapping)
            {
                reader.Report(DiagnosticCodes.WrongNodeType, reader.Location(node), $"each entry of `{key}` must be a mapping with `name` and `filter`",
                    $"for example `- {{name: sign_up, filter: \"event_type = 'sign_up'\"}}`");
                continue;
            }

            var step = reader.Nested(mapping, what, YamlKeys.EventStep);
            steps.Add(new EventStepSpec(step.String("name", required: true), step.Snippet("filter"), step.Reference("source"), step.Location()));
            step.Finish();
        }

        return steps;
    }

    /// <summary>Binds each entry's filter to the source; null after reporting any problem.</summary>
    public static IReadOnlyList<EventStep>? Bind(IReadOnlyList<EventStepSpec> specs, BoundSource source, string what, string context, MetricBinder binder)
    {
        var ok = true;
        var steps = new List<EventStep>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec.Name is not { } name)
            {
                ok = false;
                continue;
            }

            if (!NamePattern().IsMatch(name))
            {
                binder.Diagnostics.Error(DiagnosticCodes.InvalidName, spec.Location, $"{context}: {what} name `{name}` is not a column name",
                    "use lower-case letters, digits and `_`, starting with a letter; it names the step's column in query output");
                ok = false;
            }
            else if (!names.Add(name))
            {
                binder.Diagnostics.Error(DiagnosticCodes.DuplicateName, spec.Location, $"{context}: {what} `{name}` is named twice", "give each one its own name");
                ok = false;
            }

            if (spec.Source is { } other && other.Name != source.Name)
            {
                binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, other.Location,
                    $"{context}: {what} `{name}` reads source `{other.Name}`, but every {what} reads the metric's source `{source.Name}`",
                    $"describe the {what} with a `filter` over `{source.Name}`, or union the events into one source");
                ok = false;
            }

            var filter = binder.Expression(spec.Filter, source, context);
            if (spec.Filter is not null && filter is null)
                ok = false;
            steps.Add(new EventStep(name, filter, spec.Filter?.Text));
        }

        return ok ? steps : null;
    }

    /// <summary>Whole days from text such as <c>7 days</c>; null after reporting it at <paramref name="location"/>.</summary>
    public static int? Days(string text, string key, SourceLocation location, string context, MetricBinder binder)
    {
        var match = DaysPattern().Match(text);
        if (match.Success && int.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 3660)
            return days;
        binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, location, $"{context}: `{key}: {text}` is not a number of days",
            $"write a whole number of days between 1 and 3660, for example `{key}: 7 days`");
        return null;
    }
}
