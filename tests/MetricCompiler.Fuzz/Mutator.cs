using System.Text;

namespace MetricCompiler.Fuzz;

/// <summary>SplitMix64: a tiny seeded generator, the same numbers on every machine and .NET version.</summary>
public sealed class Rng(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, max).</summary>
    public int Below(int max) => max <= 0 ? 0 : (int)(Next() % (ulong)max);

    public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];
}

/// <summary>One mutation: its name (for the report) and what it does to a file's bytes.</summary>
public sealed record Mutation(string Name, Func<byte[], Rng, byte[]> Apply);

/// <summary>
/// The mutations of the fuzzer, applied to one file of the demo project at a time: truncation, byte flips, type swaps,
/// huge numbers and edge dates, deep nesting, unicode and control characters, duplicate keys, alias bombs, include
/// loops and non-UTF-8 text.
/// </summary>
public static class Mutator
{
    private static readonly string[] Replacements =
    [
        "[a, b]", "{x: 1}", "{", "[", "}", "]", "", "~", "null", "''", "\"\"", "-", "? ", "&a", "*a", "!!binary AA==", "!tag x",
        "1e400", "-1e400", "NaN", ".nan", ".inf", "2147483647", "2147483648", "-2147483649", "9223372036854775808", "0", "-1", "0.0",
        "9999-12-31", "0001-01-01", "2026-02-30", "1899-12-31", "3000-01-01", "true", "yes", "\"\\u0000\"", "\"\\uD800\"",
        new string('a', 10_000), "a__b", "Robert'); drop table x; --", "${HOME}", "|\n  multi\n  line", ">-\n  folded",
        "{name: x, agg: count, source: events", "[1, [2, [3", "\"unterminated", "'unterminated", "*undefined_alias",
    ];

    private static readonly string[] Insertions =
    [
        "\u0000", "\u0007", "\t", "\r", "\u001b[31m", "\u2028", "\uFEFF", "\u200B", "é", "日本", "😀", "\u0301", "\"", "'", ":", ": ",
        "#", "- ", "? ", "&x ", "*x ", "!", "%", "@", "`", "|", ">", "{", "}", "[", "]", ",", "\n", "\n  ", "\n- ", "---\n", "...\n",
    ];

    public static IReadOnlyList<Mutation> All { get; } =
    [
        new("truncate", (b, r) => b[..r.Below(b.Length + 1)]),
        new("truncate-line", (b, r) => TruncateInsideLine(b, r)),
        new("flip-bytes", (b, r) => FlipBytes(b, r)),
        new("replace-value", (b, r) => ReplaceValue(b, r, r.Pick(Replacements))),
        new("replace-value-huge-number", (b, r) => ReplaceValue(b, r, r.Pick(["1e308", "1e309", "-0", "2147483647", "4294967296", "99999999999999999999", "0x7fffffff", "1_000"]))),
        new("replace-key", (b, r) => ReplaceKey(b, r)),
        new("insert-text", (b, r) => Insert(b, r, r.Pick(Insertions))),
        new("delete-line", (b, r) => EditLines(b, r, (lines, i) => lines.RemoveAt(i))),
        new("duplicate-line", (b, r) => EditLines(b, r, (lines, i) => lines.Insert(i, lines[i]))),
        new("swap-lines", (b, r) => EditLines(b, r, (lines, i) => (lines[i], lines[(i + 1) % lines.Count]) = (lines[(i + 1) % lines.Count], lines[i]))),
        new("indent", (b, r) => EditLines(b, r, (lines, i) => lines[i] = new string(' ', r.Below(7)) + lines[i].TrimStart())),
        new("deep-nesting", (b, r) => ReplaceValue(b, r, DeepNesting(r))),
        new("alias-bomb", (b, r) => Append(b, AliasBomb(3 + r.Below(8), r.Below(2) == 0))),
        new("alias-value", (b, r) => ReplaceValue(b, r, r.Below(2) == 0 ? "&anchor x" : "*anchor")),
        new("include-loop", (b, r) => Append(b, r.Pick(["include: ['**/*.yml', metrics.yml, '*.yml']", "include: [metrics.yml]", "include:\n  - \"**\"", "include: '**/*'"]))),
        new("non-utf8", (b, r) => InsertBytes(b, r, r.Pick<byte[]>([[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80]]))),
        new("utf16", (b, _) => Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(b))),
        new("duplicate-key-block", (b, r) => Append(b, "version: 1\nsources: []\n")),
        new("tabs", (b, _) => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(b).Replace("  ", "\t"))),
        new("empty", (_, _) => []),
    ];

    /// <summary>Applies one to three mutations; returns the bytes and the names of what was applied.</summary>
    public static (byte[] Bytes, string Description) Mutate(byte[] original, Rng rng)
    {
        var bytes = original;
        var names = new List<string>();
        var count = 1 + rng.Below(3);
        for (var i = 0; i < count; i++)
        {
            var mutation = rng.Pick(All);
            bytes = mutation.Apply(bytes, rng);
            names.Add(mutation.Name);
        }

        return (bytes, string.Join("+", names));
    }

    private static byte[] TruncateInsideLine(byte[] bytes, Rng rng)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var brace = text.IndexOf('{', rng.Below(Math.Max(1, text.Length)));
        if (brace < 0)
            brace = text.IndexOf('{', StringComparison.Ordinal);
        var cut = brace < 0 ? rng.Below(text.Length + 1) : Math.Min(text.Length, brace + 1 + rng.Below(30));
        return Encoding.UTF8.GetBytes(text[..cut]);
    }

    private static byte[] FlipBytes(byte[] bytes, Rng rng)
    {
        if (bytes.Length == 0)
            return bytes;
        var copy = (byte[])bytes.Clone();
        var flips = 1 + rng.Below(8);
        for (var i = 0; i < flips; i++)
            copy[rng.Below(copy.Length)] = (byte)rng.Below(256);
        return copy;
    }

    private static byte[] Insert(byte[] bytes, Rng rng, string text) => InsertBytes(bytes, rng, Encoding.UTF8.GetBytes(text));

    private static byte[] InsertBytes(byte[] bytes, Rng rng, byte[] insertion)
    {
        var at = rng.Below(bytes.Length + 1);
        return [.. bytes[..at], .. insertion, .. bytes[at..]];
    }

    private static byte[] Append(byte[] bytes, string text) => [.. bytes, .. "\n"u8, .. Encoding.UTF8.GetBytes(text), .. "\n"u8];

    private static List<string> Lines(byte[] bytes) => Encoding.UTF8.GetString(bytes).Split('\n').ToList();

    private static byte[] EditLines(byte[] bytes, Rng rng, Action<List<string>, int> edit)
    {
        var lines = Lines(bytes);
        if (lines.Count > 0)
            edit(lines, rng.Below(lines.Count));
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    /// <summary>Replaces the value after a random <c>key: </c> with <paramref name="value"/>.</summary>
    private static byte[] ReplaceValue(byte[] bytes, Rng rng, string value)
    {
        var lines = Lines(bytes);
        var candidates = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains(": ", StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
            return bytes;
        var index = rng.Pick(candidates);
        var line = lines[index];
        var colons = Enumerable.Range(0, line.Length - 1).Where(i => line[i] == ':' && line[i + 1] == ' ').ToList();
        var colon = rng.Pick(colons);
        var end = line.IndexOfAny([',', '}'], colon);
        var rest = end < 0 || rng.Below(2) == 0 ? "" : line[end..];
        lines[index] = line[..(colon + 2)] + value + rest;
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    /// <summary>Renames a random key: to a typo, a non-scalar, an empty key or a key already in the mapping.</summary>
    private static byte[] ReplaceKey(byte[] bytes, Rng rng)
    {
        var lines = Lines(bytes);
        var candidates = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains(": ", StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
            return bytes;
        var index = rng.Pick(candidates);
        var line = lines[index];
        var colon = line.IndexOf(": ", StringComparison.Ordinal);
        var start = line.Length - line.TrimStart(' ', '-', '{').Length;
        if (start >= colon)
            return bytes;
        var key = rng.Pick(["[a, b]", "{k: v}", "\"\"", "? complex", "name", "type", "adapter", "include", "x" + new string('y', 300), "*a", "&a k"]);
        lines[index] = line[..start] + key + line[colon..];
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    private static string DeepNesting(Rng rng)
    {
        var depth = rng.Pick([10, 63, 64, 65, 200, 5_000, 50_000]);
        return rng.Below(2) == 0
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);
    }

    /// <summary>Each level a list of nine aliases of the level before; optionally used as a mapping key.</summary>
    public static string AliasBomb(int levels, bool asKey)
    {
        var text = new StringBuilder("bomb:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < levels; i++)
            text.Append($"  l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 9))}]\n");
        text.Append(asKey ? $"  ? *l{levels - 1}\n  : boom\n" : $"  last: *l{levels - 1}\n");
        return text.ToString();
    }
}
