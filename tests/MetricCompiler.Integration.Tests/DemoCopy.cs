namespace MetricCompiler.Integration.Tests;

/// <summary>Copies the repository's demo project (metrics.yml and project_template/: YAML, SQL models and tests) into a test folder.</summary>
public static class DemoCopy
{
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MetricCompiler.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("MetricCompiler.sln not found above the test folder");
    }

    /// <summary>Copies the demo to <paramref name="root"/>; <paramref name="editProjectFile"/> may change metrics.yml.</summary>
    public static void To(string root, Func<string, string>? editProjectFile = null)
    {
        var repository = RepositoryRoot();
        Directory.CreateDirectory(root);
        var yaml = File.ReadAllText(Path.Combine(repository, "metrics.yml"));
        File.WriteAllText(Path.Combine(root, "metrics.yml"), editProjectFile is null ? yaml : editProjectFile(yaml));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(repository, "project_template"), "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var destination = Path.Combine(root, Path.GetRelativePath(repository, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
