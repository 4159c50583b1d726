using System.Text;
using System.Text.RegularExpressions;

namespace MetricCompiler.Core.Loading;

/// <summary>Expands include patterns (<c>*</c> within a folder, <c>**</c> across folders, <c>?</c>) relative to the project root.</summary>
public static class FileGlob
{
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "target", "bin", "obj", ".git", "node_modules" };

    /// <summary>True for a pattern that is absolute or has a `..` part: it would name files outside the project folder.</summary>
    public static bool LeavesRoot(string pattern)
    {
        pattern = pattern.Replace('\\', '/');
        return pattern.StartsWith('/') || Path.IsPathRooted(pattern) || pattern.Split('/').Contains("..");
    }

    /// <summary>
    /// Matching files as root-relative paths with forward slashes, in ordinal order. Patterns that leave the root
    /// (<see cref="LeavesRoot"/>) match nothing; a folder reached twice through symlinks is walked once.
    /// </summary>
    public static IReadOnlyList<string> Expand(string root, string pattern)
    {
        pattern = pattern.Replace('\\', '/');
        while (pattern.StartsWith("./", StringComparison.Ordinal))
            pattern = pattern[2..];
        if (LeavesRoot(pattern))
            return [];
        if (!pattern.Contains('*') && !pattern.Contains('?'))
            return File.Exists(Path.Combine(root, pattern)) ? [pattern] : [];

        var regex = ToRegex(pattern);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        return Walk(root, "", visited)
            .Where(path => regex.IsMatch(path))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<string> Walk(string root, string relative, HashSet<string> visited)
    {
        var directory = Path.Combine(root, relative);
        if (!visited.Add(ProjectFileReader.RealPath(Path.GetFullPath(directory))))
            yield break;
        foreach (var file in Directory.EnumerateFiles(directory))
            yield return Join(relative, Path.GetFileName(file));
        foreach (var sub in Directory.EnumerateDirectories(directory))
        {
            var name = Path.GetFileName(sub);
            if (SkippedFolders.Contains(name))
                continue;
            foreach (var path in Walk(root, Join(relative, name), visited))
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
