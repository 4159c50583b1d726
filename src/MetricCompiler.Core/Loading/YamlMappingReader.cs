using System.Globalization;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// Reads one YAML mapping with positions: every read records where the value was written, every problem becomes a
/// diagnostic instead of an exception, and <see cref="Finish"/> reports keys that nothing asked for.
/// </summary>
internal sealed class YamlMappingReader
{
    private readonly YamlMappingNode _node;
    private readonly string _file;
    private readonly DiagnosticBag _diagnostics;
    private readonly string _context;
    private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _entries;
    private readonly HashSet<string> _known;
    private readonly Dictionary<string, SourceLocation> _locations;
    private readonly string _mapping;
    private readonly IReadOnlySet<string> _allowed;

    /// <summary><see cref="YamlKeys.ByMapping"/> as sets: every read of a key checks it.</summary>
    private static readonly Dictionary<string, IReadOnlySet<string>> AllowedKeys = YamlKeys.ByMapping.ToDictionary(
        m => m.Key, m => (IReadOnlySet<string>)m.Value.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <param name="mapping">The kind of mapping (a <see cref="YamlKeys"/> constant): the keys it may be asked for.</param>
    public YamlMappingReader(YamlMappingNode node, string file, DiagnosticBag diagnostics, string context, string mapping)
    {
        _mapping = mapping;
        _allowed = AllowedKeys.TryGetValue(mapping, out var allowed)
            ? allowed
            : throw new ArgumentException($"YamlKeys declares no mapping `{mapping}`", nameof(mapping));
        _node = node;
        _file = file;
        _diagnostics = diagnostics;
        _context = context;
        // Sized for the mapping's keys: a loader reads about as many as are written, and 10,000 metrics grew these
        // three collections key by key.
        var count = node.Children.Count;
        _entries = new(count, StringComparer.Ordinal);
        _known = new(_allowed.Count, StringComparer.Ordinal); // every key asked for, written or not
        _locations = new(count, StringComparer.Ordinal);
        foreach (var (key, value) in node.Children)
        {
            if (key is YamlScalarNode { Value: { } name })
                _entries[name] = (key, value);
            else
                diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(key), $"{context}: keys must be plain names");
        }
    }

    public SourceLocation Location() => Location(_node);

    /// <summary>A reader of a mapping nested in this one, reporting into the same diagnostics.</summary>
    public YamlMappingReader Nested(YamlMappingNode node, string what, string mapping) => new(node, _file, _diagnostics, $"{_context} {what}", mapping);

    /// <summary>Reports a problem in this mapping's context.</summary>
    public void Report(DiagnosticDescriptor descriptor, SourceLocation location, string message, string? hint = null) =>
        _diagnostics.Error(descriptor, location, $"{_context}: {message}", hint);

    public SourceLocation Location(YamlNode node) => new(_file, (int)node.Start.Line, (int)node.Start.Column);

    /// <summary>Where each value read so far was written, by key.</summary>
    public IReadOnlyDictionary<string, SourceLocation> FieldLocations => _locations;

    public SourceLocation At(string key) => _locations.GetValueOrDefault(key, Location());

    /// <summary>The text of a scalar value without marking the key as read (to choose how to read the rest).</summary>
    public string? Peek(string key) => _entries.TryGetValue(key, out var entry) && entry.Value is YamlScalarNode scalar ? scalar.Value : null;

    public bool Has(string key)
    {
        Know(key);
        return _entries.ContainsKey(key);
    }

    public YamlNode? Node(string key)
    {
        Know(key);
        if (!_entries.TryGetValue(key, out var entry))
            return null;
        _locations[key] = Location(entry.Value);
        return entry.Value is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" } ? null : entry.Value;
    }

    public string? String(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Missing(key);
            return null;
        }

        if (node is YamlScalarNode scalar)
            return scalar.Value;
        WrongShape(key, node, "a text value");
        return null;
    }

    /// <summary>A SQL expression, located at the first character of its text.</summary>
    public SqlSnippet? Snippet(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null)
            return null;
        var node = (YamlScalarNode)_entries[key].Value;
        var location = Location(node);
        location = node.Style switch
        {
            ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted => location.WithColumnOffset(1),
            ScalarStyle.Literal or ScalarStyle.Folded => location with { Line = location.Line + 1 },
            _ => location,
        };
        return new SqlSnippet(text, location);
    }

    public NameReference? Reference(string key, bool required = false)
    {
        var text = String(key, required);
        return text is null ? null : new NameReference(text, At(key));
    }

    public double? Number(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null)
            return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            return value;
        _diagnostics.Error(DiagnosticCodes.InvalidValue, At(key), $"{_context}: `{key}` must be a number, not `{text}`");
        return null;
    }

    public int? Integer(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null)
            return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            return value;
        _diagnostics.Error(DiagnosticCodes.InvalidValue, At(key), $"{_context}: `{key}` must be a whole number, not `{text}`");
        return null;
    }

    public bool? Boolean(string key)
    {
        var text = String(key);
        if (text is null)
            return null;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                _diagnostics.Error(DiagnosticCodes.InvalidValue, At(key), $"{_context}: `{key}` must be true or false, not `{text}`");
                return null;
        }
    }

    /// <summary>The earliest date accepted (windows before it, such as a CUPED look-back, stay representable).</summary>
    public static readonly DateOnly MinDate = new(1900, 1, 1);

    /// <summary>The latest date accepted (the day after it, where a window ends, stays representable).</summary>
    public static readonly DateOnly MaxDate = new(2999, 12, 31);

    public DateOnly? Date(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null)
            return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            if (date >= MinDate && date <= MaxDate)
                return date;
            _diagnostics.Error(DiagnosticCodes.OutOfRange, At(key), $"{_context}: `{key}` must be between {MinDate:yyyy-MM-dd} and {MaxDate:yyyy-MM-dd}, not {text}",
                "dates outside these years leave no room for the look-back and look-ahead windows the analysis computes");
            return null;
        }

        _diagnostics.Error(DiagnosticCodes.InvalidValue, At(key), $"{_context}: `{key}` must be a date written as YYYY-MM-DD, not `{text}`");
        return null;
    }

    /// <summary>A value from a fixed vocabulary; a typo gets a did-you-mean hint.</summary>
    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> choices, bool required = false)
        where T : struct
    {
        var text = String(key, required);
        if (text is null)
            return null;
        if (choices.TryGetValue(text, out var value))
            return value;
        var hint = NameSuggester.Suggest(text, choices.Keys) is { } s
            ? $"did you mean `{s}`? expected one of: {string.Join(", ", choices.Keys)}"
            : $"expected one of: {string.Join(", ", choices.Keys)}";
        _diagnostics.Error(DiagnosticCodes.InvalidValue, At(key), $"{_context}: `{text}` is not a valid `{key}`", hint);
        return null;
    }

    public YamlMappingNode? Mapping(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Missing(key);
            return null;
        }

        if (node is YamlMappingNode mapping)
            return mapping;
        WrongShape(key, node, "a mapping (key: value lines)");
        return null;
    }

    public YamlSequenceNode? Sequence(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Missing(key);
            return null;
        }

        if (node is YamlSequenceNode sequence)
            return sequence;
        WrongShape(key, node, "a list (lines starting with `- `)");
        return null;
    }

    /// <summary>A list of plain names (a single name is accepted as a list of one), each with its location.</summary>
    public IReadOnlyList<NameReference> Names(string key)
    {
        var node = Node(key);
        switch (node)
        {
            case null:
                return [];
            case YamlScalarNode { Value: { } single }:
                return [new NameReference(single, Location(node))];
            case YamlSequenceNode sequence:
                var names = new List<NameReference>();
                foreach (var item in sequence.Children)
                {
                    if (item is YamlScalarNode { Value: { } name })
                        names.Add(new NameReference(name, Location(item)));
                    else
                        _diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(item), $"{_context}: each entry of `{key}` must be a name");
                }

                return names;
            default:
                WrongShape(key, node, "a list of names");
                return [];
        }
    }

    /// <summary>Reports every key that was not read: a typo (with the closest known key) or a key that does not belong here.</summary>
    public void Finish()
    {
        foreach (var (name, entry) in _entries)
        {
            if (_known.Contains(name))
                continue;
            var suggestion = NameSuggester.Suggest(name, _known);
            var hint = suggestion is not null
                ? $"did you mean `{suggestion}`?"
                : $"keys allowed here: {string.Join(", ", _known.Order(StringComparer.Ordinal))}";
            _diagnostics.Error(DiagnosticCodes.UnknownKey, Location(entry.Key), $"{_context}: unknown key `{name}`", hint);
        }
    }

    /// <summary>Marks a key as read here; only a key <see cref="YamlKeys"/> lists for this mapping can be.</summary>
    private void Know(string key)
    {
        if (!_allowed.Contains(key))
            throw new InvalidOperationException($"metricc bug: the loader reads `{key}` from a `{_mapping}` mapping, but YamlKeys.ByMapping does not list it there");
        _known.Add(key);
    }

    private void Missing(string key) =>
        _diagnostics.Error(DiagnosticCodes.MissingKey, Location(), $"{_context}: required key `{key}` is missing");

    private void WrongShape(string key, YamlNode node, string expected) =>
        _diagnostics.Error(DiagnosticCodes.WrongNodeType, Location(node), $"{_context}: `{key}` must be {expected}");
}
