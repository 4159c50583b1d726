using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;

namespace MetricCompiler.Execution.Diff;

/// <summary>A git problem <c>metricc diff</c> reports as bad usage: no repository, an unknown ref, no project at that ref.</summary>
public sealed class GitException(string message) : Exception(message);

/// <summary>
/// The project folder as it was at a git revision, extracted from <c>git archive</c> into a temporary folder (the
/// repository, its index and its work trees are left alone); disposing deletes the folder.
/// </summary>
public sealed class GitCheckout : IDisposable
{
    private readonly string _root;

    private GitCheckout(string root, string projectDirectory, string commit, string prefix)
    {
        _root = root;
        ProjectDirectory = projectDirectory;
        Commit = commit;
        Prefix = prefix;
    }

    /// <summary>The project folder at the revision (inside the temporary folder).</summary>
    public string ProjectDirectory { get; }

    /// <summary>The full commit the ref named.</summary>
    public string Commit { get; }

    /// <summary>The project folder's path inside the repository (<c>""</c> at its top, else ending in <c>/</c>).</summary>
    public string Prefix { get; }

    /// <exception cref="GitException">Not a git repository, git missing, an unknown ref, or no project folder at it.</exception>
    public static GitCheckout Open(string projectDirectory, string gitRef)
    {
        var directory = Path.GetFullPath(projectDirectory);
        if (!Directory.Exists(directory))
            throw new GitException($"--project-dir `{projectDirectory}` does not exist");
        if (gitRef.Length == 0 || gitRef.StartsWith('-'))
            throw new GitException($"--base `{gitRef}`: give a branch, tag or commit");

        var top = Git(directory, "rev-parse", "--show-toplevel");
        if (top.Exit != 0)
            throw new GitException($"`{directory}` is not inside a git repository, so there is no base to compare with ({FirstLine(top.Error)})");
        var prefix = Git(directory, "rev-parse", "--show-prefix").Text.Trim();
        var commit = Git(directory, "rev-parse", "--verify", "--quiet", $"{gitRef}^{{commit}}");
        if (commit.Exit != 0)
            throw new GitException($"--base `{gitRef}`: no such branch, tag or commit in the repository at `{top.Text.Trim()}`");
        var sha = commit.Text.Trim();
        var topLevel = top.Text.Trim();

        var root = Path.Combine(Path.GetTempPath(), "metricc-diff-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            // Pathspecs are relative to the working folder: archive from the top, naming the project's folder.
            var archive = Git(topLevel, "archive", "--format=tar", sha, "--", prefix.Length == 0 ? "." : prefix);
            if (archive.Exit != 0)
                throw new GitException(prefix.Length == 0
                    ? $"--base `{gitRef}`: cannot read commit {sha[..12]}: {FirstLine(archive.Error)}"
                    : $"--base `{gitRef}`: the project folder `{prefix.TrimEnd('/')}` does not exist at commit {sha[..12]}");
            using (var tar = new MemoryStream(archive.Bytes))
                TarFile.ExtractToDirectory(tar, root, overwriteFiles: false);
            return new GitCheckout(root, Path.Combine(root, prefix), sha, prefix);
        }
        catch
        {
            Delete(root);
            throw;
        }
    }

    public void Dispose() => Delete(_root);

    private static void Delete(string root)
    {
        try
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary folder left behind is not worth failing the diff for.
        }
    }

    private sealed record GitResult(int Exit, byte[] Bytes, string Error)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    }

    private static GitResult Git(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // Plain, untranslated messages whatever the user's git configuration.
        start.Environment["LC_ALL"] = "C";
        start.Environment["GIT_PAGER"] = "cat";
        try
        {
            using var process = Process.Start(start) ?? throw new GitException("cannot start git");
            var error = process.StandardError.ReadToEndAsync();
            using var output = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(output);
            process.WaitForExit();
            return new GitResult(process.ExitCode, output.ToArray(), error.Result);
        }
        catch (Win32Exception e)
        {
            throw new GitException($"metricc diff needs git on the PATH: {e.Message}");
        }
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "git failed";
}
