using System.Text;

namespace MetricCompiler.Execution.Diff;

/// <summary>
/// A line-based unified diff (the format of <c>diff -u</c> and <c>git diff</c>): Myers' O(ND) shortest edit script over
/// the lines that differ, after the common head and tail are set aside, in hunks with <see cref="Context"/> lines of
/// context either side.
/// </summary>
public static class UnifiedDiff
{
    public const int Context = 3;

    /// <summary>One line of an edit script: kept (' '), removed ('-') or added ('+').</summary>
    public readonly record struct Edit(char Op, string Line, int OldIndex, int NewIndex);

    /// <summary>The unified diff of two texts, or an empty string when their lines are equal.</summary>
    public static string Format(string oldText, string newText, string oldName, string newName)
    {
        var oldLines = Lines(oldText);
        var newLines = Lines(newText);
        var edits = Script(oldLines, newLines);
        if (edits.All(e => e.Op == ' '))
            return "";

        var sb = new StringBuilder();
        sb.Append("--- ").Append(oldName).Append('\n');
        sb.Append("+++ ").Append(newName).Append('\n');
        foreach (var (start, end) in Hunks(edits))
        {
            var slice = edits.Skip(start).Take(end - start).ToList();
            var oldCount = slice.Count(e => e.Op != '+');
            var newCount = slice.Count(e => e.Op != '-');
            // The first old/new line number of the hunk (1-based); an empty side names the line before it, as diff does.
            var oldStart = slice.FirstOrDefault(e => e.Op != '+') is { Op: not '\0' } o ? o.OldIndex + 1 : OldBefore(edits, start);
            var newStart = slice.FirstOrDefault(e => e.Op != '-') is { Op: not '\0' } n ? n.NewIndex + 1 : NewBefore(edits, start);
            sb.Append($"@@ -{Range(oldStart, oldCount)} +{Range(newStart, newCount)} @@\n");
            foreach (var edit in slice)
                sb.Append(edit.Op).Append(edit.Line).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The shortest edit script turning <paramref name="a"/> into <paramref name="b"/>.</summary>
    public static IReadOnlyList<Edit> Script(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var head = 0;
        while (head < a.Count && head < b.Count && a[head] == b[head])
            head++;
        var tail = 0;
        while (tail < a.Count - head && tail < b.Count - head && a[a.Count - 1 - tail] == b[b.Count - 1 - tail])
            tail++;

        var edits = new List<Edit>(a.Count + b.Count);
        for (var i = 0; i < head; i++)
            edits.Add(new Edit(' ', a[i], i, i));
        edits.AddRange(Myers(a, b, head, a.Count - tail, head, b.Count - tail));
        for (var k = tail; k > 0; k--)
            edits.Add(new Edit(' ', a[a.Count - k], a.Count - k, b.Count - k));
        return edits;
    }

    /// <summary>Myers' greedy algorithm on a[aStart..aEnd) and b[bStart..bEnd), with the trace kept for the backtrack.</summary>
    private static List<Edit> Myers(IReadOnlyList<string> a, IReadOnlyList<string> b, int aStart, int aEnd, int bStart, int bEnd)
    {
        var n = aEnd - aStart;
        var m = bEnd - bStart;
        var max = n + m;
        var result = new List<Edit>();
        if (max == 0)
            return result;

        var offset = max;
        var v = new int[2 * max + 2];
        var trace = new List<int[]>();
        var found = false;
        for (var d = 0; d <= max && !found; d++)
        {
            trace.Add((int[])v.Clone());
            for (var k = -d; k <= d; k += 2)
            {
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[aStart + x] == b[bStart + y])
                {
                    x++;
                    y++;
                }

                v[offset + k] = x;
                if (x >= n && y >= m)
                {
                    found = true;
                    break;
                }
            }
        }

        // Walk back from (n, m) through the saved frontiers; each step is a snake preceded by one insertion or deletion.
        var cx = n;
        var cy = m;
        for (var d = trace.Count - 1; d >= 0; d--)
        {
            var frontier = trace[d];
            var k = cx - cy;
            int previousK;
            if (d == 0)
                previousK = 0;
            else
                previousK = k == -d || (k != d && frontier[offset + k - 1] < frontier[offset + k + 1]) ? k + 1 : k - 1;
            var previousX = d == 0 ? 0 : frontier[offset + previousK];
            var previousY = previousX - previousK;
            while (cx > previousX && cy > previousY)
            {
                cx--;
                cy--;
                result.Add(new Edit(' ', a[aStart + cx], aStart + cx, bStart + cy));
            }

            if (d == 0)
                break;
            if (cx == previousX)
            {
                cy--;
                result.Add(new Edit('+', b[bStart + cy], aStart + cx, bStart + cy));
            }
            else
            {
                cx--;
                result.Add(new Edit('-', a[aStart + cx], aStart + cx, bStart + cy));
            }
        }

        result.Reverse();
        return result;
    }

    /// <summary>[start, end) ranges of the script to print: each change with its context, overlapping ones merged.</summary>
    private static IEnumerable<(int Start, int End)> Hunks(IReadOnlyList<Edit> edits)
    {
        int? start = null;
        var end = 0;
        for (var i = 0; i < edits.Count; i++)
        {
            if (edits[i].Op == ' ')
                continue;
            var from = Math.Max(0, i - Context);
            var to = Math.Min(edits.Count, i + Context + 1);
            if (start is { } s && from <= end)
            {
                end = Math.Max(end, to);
                continue;
            }

            if (start is { } open)
                yield return (open, end);
            start = from;
            end = to;
        }

        if (start is { } last)
            yield return (last, end);
    }

    private static int OldBefore(IReadOnlyList<Edit> edits, int start) => start == 0 ? 0 : edits[start - 1].OldIndex + (edits[start - 1].Op == '+' ? 0 : 1);

    private static int NewBefore(IReadOnlyList<Edit> edits, int start) => start == 0 ? 0 : edits[start - 1].NewIndex + (edits[start - 1].Op == '-' ? 0 : 1);

    private static string Range(int start, int count) => count == 1 ? $"{start}" : $"{start},{count}";

    private static List<string> Lines(string text)
    {
        var normalised = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (normalised.EndsWith('\n'))
            normalised = normalised[..^1];
        return normalised.Length == 0 && text.Length == 0 ? [] : [.. normalised.Split('\n')];
    }
}
