using System.Text;
using System.Text.RegularExpressions;

namespace MetricCompiler.Core.Loading;

/// <summary>Expands include patterns (<c>*</c> within a folder, <c>**</c> across folders, <c>?</c>) relative to the project root.</summary>
public static class FileGlob
{
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "target", "bin", "obj", ".git", "node_modules" };

    /// <summary>Matching files as root-relative paths with forward slashes, in ordinal order.</summary>
    public static IReadOnlyList<string> Expand(string root, string pattern)
    {
        pattern = pattern.Replace('\\', '/');
        while (pattern.StartsWith("./", StringComparison.Ordinal))
            pattern = pattern[2..];
        if (pattern.StartsWith('/') || pattern.Split('/').Contains(".."))
            return [];
        if (!pattern.Contains('*') && !pattern.Contains('?'))
            return File.Exists(Path.Combine(root, pattern)) ? [pattern] : [];

        var regex = ToRegex(pattern);
        return Walk(root, "")
            .Where(path => regex.IsMatch(path))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<string> Walk(string root, string relative)
    {
        var directory = Path.Combine(root, relative);
        foreach (var file in Directory.EnumerateFiles(directory))
            yield return Join(relative, Path.GetFileName(file));
        foreach (var sub in Directory.EnumerateDirectories(directory))
        {
            var name = Path.GetFileName(sub);
            if (SkippedFolders.Contains(name))
                continue;
            foreach (var path in Walk(root, Join(relative, name)))
                yield return path;
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : $"{a}/{b}";

    private static Regex ToRegex(string pattern)
    {
        var builder = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slashFollows = i + 2 < pattern.Length && pattern[i + 2] == '/';
                builder.Append(slashFollows ? "(?:.*/)?" : ".*");
                i += slashFollows ? 2 : 1;
            }
            else if (c == '*')
            {
                builder.Append("[^/]*");
            }
            else if (c == '?')
            {
                builder.Append("[^/]");
            }
            else
            {
                builder.Append(Regex.Escape(c.ToString()));
            }
        }

        return new Regex(builder.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
