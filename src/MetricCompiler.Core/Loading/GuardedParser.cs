using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// Wraps YamlDotNet's parser with the limits a hostile file must not pass before the node tree is built: nesting deeper
/// than <see cref="MaxDepth"/> (deep recursion would overflow the stack) and more than <see cref="MaxNodes"/> nodes once
/// every alias is counted as the node it repeats (an alias bomb: a few hundred bytes that stand for billions of
/// nodes). Aliases must name an anchor defined (and closed) before them. It also remembers the last position it saw, so a failure inside YamlDotNet can still be located.
/// </summary>
internal sealed class GuardedParser(IParser inner) : IParser
{
    public const int MaxDepth = 64;
    public const long MaxNodes = 200_000;

    private readonly Dictionary<string, long> _anchorSizes = new(StringComparer.Ordinal);
    private readonly Stack<(string? Anchor, long Size)> _open = new();
    private long _nodes;

    public ParsingEvent? Current => inner.Current;

    /// <summary>Where the last event started (line and column, 1-based).</summary>
    public Mark LastPosition { get; private set; } = Mark.Empty;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
            return false;
        var current = inner.Current!;
        LastPosition = current.Start;
        switch (current)
        {
            case Scalar scalar:
                Add(1, current);
                if (!scalar.Anchor.IsEmpty)
                    _anchorSizes[scalar.Anchor.Value] = 1;
                break;
            case AnchorAlias alias:
                // An alias must name an anchor whose node is complete: YamlDotNet resolves a forward or self-reference
                // used as a mapping key by recursing until the stack overflows, which no catch can stop.
                if (!_anchorSizes.TryGetValue(alias.Value.Value, out var size))
                    throw new AnchorNotFoundException(current.Start, current.End,
                        $"alias `*{alias.Value.Value}` does not name an anchor (`&{alias.Value.Value}`) defined before it and complete");
                Add(size, current);
                break;
            case NodeEvent { } start and (MappingStart or SequenceStart):
                if (_open.Count >= MaxDepth)
                    throw new YamlLimitException(current.Start, $"the YAML nests deeper than {MaxDepth} levels",
                        "flatten the structure; no project needs more than a few levels of nesting");
                _open.Push((start.Anchor.IsEmpty ? null : start.Anchor.Value, 1));
                break;
            case MappingEnd or SequenceEnd:
                var (anchor, total) = _open.Pop();
                if (anchor is not null)
                    _anchorSizes[anchor] = total;
                Add(total, current, alreadyCounted: total - 1);
                break;
        }

        return true;
    }

    /// <summary>Counts a finished node of <paramref name="size"/> expanded nodes into its parent and the file total.</summary>
    private void Add(long size, ParsingEvent at, long alreadyCounted = 0)
    {
        if (_open.Count > 0)
        {
            var (anchor, parentSize) = _open.Pop();
            _open.Push((anchor, Math.Min(parentSize + size, MaxNodes + 1)));
        }

        _nodes += size - alreadyCounted;
        if (_nodes > MaxNodes)
            throw new YamlLimitException(at.Start, $"the YAML stands for more than {MaxNodes:N0} nodes once its aliases are expanded",
                "aliases (`*name`) repeat the node they name; an alias of an alias multiplies; write the values out or use fewer aliases");
    }
}

/// <summary>A YAML file over one of <see cref="GuardedParser"/>'s limits.</summary>
internal sealed class YamlLimitException(Mark at, string message, string hint) : Exception(message)
{
    public Mark At => at;

    public string Hint => hint;
}
