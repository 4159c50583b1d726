using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Expressions;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Core.Metrics;

/// <summary>
/// What a metric type needs while binding: sources and other metrics by name (each reported at the reference when it is
/// unknown, with a suggestion), cycles through metric references, and user expressions bound to a source's columns.
/// </summary>
public sealed class MetricBinder
{
    private readonly IReadOnlyDictionary<string, BoundSource> _sources;
    private readonly IReadOnlyDictionary<string, MetricDefinition> _definitions;
    private readonly Dictionary<string, BoundMetric?> _bound = new(StringComparer.Ordinal);
    private readonly List<string> _visiting = [];
    private readonly HashSet<string> _reportedCycles = new(StringComparer.Ordinal);

    internal MetricBinder(IReadOnlyDictionary<string, BoundSource> sources, IReadOnlyDictionary<string, MetricDefinition> definitions, DiagnosticBag diagnostics)
    {
        _sources = sources;
        _definitions = definitions;
        Diagnostics = diagnostics;
    }

    public DiagnosticBag Diagnostics { get; }

    /// <summary>The bound source a reference names, or null after reporting it.</summary>
    public BoundSource? Source(NameReference reference, string context)
    {
        if (_sources.TryGetValue(reference.Name, out var source))
            return source;
        if (reference.Name.Length > 0)
            Diagnostics.Error(DiagnosticCodes.UnknownSource, reference.Location, $"{context} references unknown source `{reference.Name}`",
                NameSuggester.Hint(reference.Name, _sources.Keys.ToList(), "source"));
        return null;
    }

    /// <summary>The bound metric a reference names (binding it first), or null after reporting why.</summary>
    public BoundMetric? Metric(NameReference reference, string context)
    {
        if (!_definitions.TryGetValue(reference.Name, out var definition))
        {
            Diagnostics.Error(DiagnosticCodes.UnknownMetric, reference.Location, $"{context} references unknown metric `{reference.Name}`",
                NameSuggester.Hint(reference.Name, _definitions.Keys.ToList(), "metric"));
            return null;
        }

        return Bind(definition);
    }

    /// <summary>A user expression bound to the source's columns (unqualified), or null after reporting its problems.</summary>
    public SqlExpr? Expression(SqlSnippet? snippet, BoundSource source, string context) =>
        snippet is null ? null : UserExpressions.Bind(snippet, source.Definition, context, Diagnostics);

    internal BoundMetric? Bind(MetricDefinition definition)
    {
        if (_bound.TryGetValue(definition.Name, out var done))
            return done;
        var at = _visiting.IndexOf(definition.Name);
        if (at >= 0)
        {
            var cycle = _visiting.Skip(at).Append(definition.Name).ToList();
            if (_reportedCycles.Add(string.Join(">", cycle.Skip(1).Order(StringComparer.Ordinal))))
                Diagnostics.Error(DiagnosticCodes.MetricCycle, definition.Location, $"metric definitions form a cycle: {string.Join(" -> ", cycle)}",
                    "a metric must not be computed, directly or through others, from itself");
            return null;
        }

        _visiting.Add(definition.Name);
        var type = MetricTypes.Find(definition.TypeName);
        var bound = type?.Bind(definition, this);
        _visiting.RemoveAt(_visiting.Count - 1);
        _bound[definition.Name] = bound;
        return bound;
    }
}
