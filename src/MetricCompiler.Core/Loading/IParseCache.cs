using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// The YAML parser's events of files read before, by the SHA-256 of their bytes (lower-case hex): a file whose bytes
/// are unchanged is replayed from these instead of being scanned again. Every limit of <see cref="GuardedParser"/> still
/// applies to replayed events, and everything after parsing (reading the definitions, validation) runs as usual, so a
/// replayed file gives exactly the definitions and diagnostics its text gives.
/// </summary>
public interface IParseCache
{
    /// <summary>The events of a file with these bytes, or null when there are none.</summary>
    IReadOnlyList<ParsingEvent>? Find(string checksum);

    /// <summary>Offers the events of a file that parsed without error; the cache may keep them or not.</summary>
    void Remember(string checksum, IReadOnlyList<ParsingEvent> events);
}

/// <summary>Replays recorded events as a parser.</summary>
internal sealed class ReplayParser(IReadOnlyList<ParsingEvent> events) : IParser
{
    private int _next;

    public ParsingEvent? Current { get; private set; }

    public bool MoveNext()
    {
        if (_next >= events.Count)
        {
            Current = null;
            return false;
        }

        Current = events[_next++];
        return true;
    }
}

/// <summary>Passes a parser's events through and keeps them.</summary>
internal sealed class RecordingParser(IParser inner) : IParser
{
    public List<ParsingEvent> Events { get; } = [];

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
            return false;
        Events.Add(inner.Current!);
        return true;
    }
}
