namespace MetricCompiler.Core.Validation;

/// <summary>Finds the closest known name to a misspelt one, for "did you mean ...?" hints.</summary>
public static class NameSuggester
{
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates.Order(StringComparer.Ordinal))
        {
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        var tolerated = Math.Max(2, name.Length / 3);
        return best is not null && bestDistance <= tolerated ? best : null;
    }

    /// <summary>A hint naming the closest candidate, or listing the candidates when there are few.</summary>
    public static string? Hint(string name, IReadOnlyCollection<string> candidates, string what)
    {
        var suggestion = Suggest(name, candidates);
        if (suggestion is not null)
            return $"did you mean `{suggestion}`?";
        if (candidates.Count == 0)
            return $"no {what} is declared";
        return candidates.Count <= 8
            ? $"declared {what}s: {string.Join(", ", candidates.Order(StringComparer.Ordinal).Select(c => $"`{c}`"))}"
            : null;
    }

    /// <summary>Optimal string alignment distance (Levenshtein with transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }

        return d[a.Length, b.Length];
    }
}
