using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Models;
using MetricCompiler.Execution.Bench;
using MetricCompiler.Execution.Caching;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// <c>metricc compile</c> with <c>target/compile_cache/</c>: whatever the cache holds, the output is byte for byte the
/// output of a compile without it (every file of <c>target/compiled/</c> and <c>manifest.json</c> compared), and after one
/// change only the nodes that read the changed file are rendered again.
/// </summary>
public sealed class CompileCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-cache-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void A_recompile_after_changing_one_metric_matches_a_full_compile_without_the_cache()
    {
        var project = Demo("cached");
        Compile(project).AssertSuccess();
        var edited = Path.Combine(project, "project_template", "models", "metrics", "commerce.yml");
        File.WriteAllText(edited, ReplaceFirst(File.ReadAllText(edited), "filter: event_type = 'purchase'", "filter: event_type in ('purchase')"));

        var counts = Compile(project).AssertSuccess();

        Assert.True(counts.FilesReplayed > 0 && counts.NodesReused > 0, $"the cache was not used: {counts}");
        Assert.True(counts.FilesParsed >= 1 && counts.NodesRendered >= 1, $"the change was not seen: {counts}");
        AssertSameOutput(FullCompileOfCopy(project), project);
    }

    [Fact]
    public void Changed_vars_render_again_and_match_a_full_compile()
    {
        var project = Demo("vars");
        File.WriteAllText(Path.Combine(project, "project_template", "models", "sql", "var_probe.sql"),
            "select user_id, occurred_at from {{ ref('stg_events') }} where page_load_ms > {{ var('slow_ms') }}\n");
        Compile(project, vars: "{slow_ms: 500}").AssertSuccess();

        var counts = Compile(project, vars: "{slow_ms: 900}").AssertSuccess();

        Assert.Contains("page_load_ms > 900", File.ReadAllText(Path.Combine(project, "target", "compiled", "var_probe.sql")), StringComparison.Ordinal);
        Assert.Equal(0, counts.NodesReused); // --vars is part of every node's fingerprint
        AssertSameOutput(FullCompileOfCopy(project, vars: "{slow_ms: 900}"), project);
    }

    [Theory]
    [InlineData("sqlite")] // another dialect
    [InlineData("dev_copy")] // the same dialect, another target
    public void Another_target_renders_again_and_matches_a_full_compile(string target)
    {
        var project = Demo("target-" + target, yaml => yaml.Replace("targets:\n", "targets:\n  dev_copy:\n    adapter: duckdb\n    path: target/copy.duckdb\n", StringComparison.Ordinal));
        Compile(project).AssertSuccess();

        var counts = Compile(project, target: target).AssertSuccess();

        Assert.Equal(0, counts.NodesReused);
        Assert.True(counts.FilesReplayed > 0); // parsing does not depend on the target
        AssertSameOutput(FullCompileOfCopy(project, target: target), project);
    }

    [Theory]
    [InlineData("flip")] // one letter of a YAML value in the parse cache changed
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("other-build")]
    public void A_damaged_cache_is_ignored_and_the_compile_is_a_full_one(string damage)
    {
        var project = Demo("damaged-" + damage);
        Compile(project).AssertSuccess();
        var cache = CompileCache.PathIn(Path.Combine(project, "target"));
        var bytes = File.ReadAllBytes(cache);
        File.WriteAllBytes(cache, damage switch
        {
            "flip" => Flip(bytes, "'purchase'"u8.ToArray()),
            "truncate" => bytes[..(bytes.Length / 2)],
            "garbage" => System.Text.Encoding.UTF8.GetBytes("not a cache at all"),
            _ => OtherBuild(bytes),
        });

        var counts = Compile(project).AssertSuccess();

        Assert.Equal(0, counts.FilesReplayed);
        Assert.Equal(0, counts.NodesReused);
        AssertSameOutput(FullCompileOfCopy(project), project);
        Assert.Equal(0, Compile(project).AssertSuccess().NodesRendered); // and the cache is whole again
    }

    [Fact]
    public void A_compiled_file_changed_by_hand_is_rendered_and_written_again()
    {
        var project = Demo("hand-edited");
        Compile(project).AssertSuccess();
        var file = Directory.EnumerateFiles(Path.Combine(project, "target", "compiled"), "exp_*__unit_metrics.sql").First();
        File.AppendAllText(file, "-- edited by hand\n");

        var counts = Compile(project).AssertSuccess();

        Assert.Equal(1, counts.NodesRendered);
        AssertSameOutput(FullCompileOfCopy(project), project);
    }

    [Fact]
    public void After_one_metric_changes_only_the_nodes_reading_its_file_are_rendered_and_only_changed_files_written()
    {
        var project = Path.Combine(_root, "synthetic");
        SyntheticProject.Write(project, 100);
        var runner = new ProjectRunner(SilentObserver.Instance);
        var first = runner.Compile(new RunRequest(project));
        Assert.Null(first.Error);
        var before = Snapshot(project);
        var file = Path.Combine(project, "models", SyntheticProject.EditedFile);
        File.WriteAllText(file, SyntheticProject.ChangeFirstFilter(File.ReadAllText(file), 1));

        var outcome = runner.Compile(new RunRequest(project));

        Assert.Null(outcome.Error);
        var counts = outcome.Cache!;
        // The edited file defines source events_0000 and metrics m00000-m00009; of the two experiments only exp_000
        // analyses any of them. So: stg_events_0000 and exp_000's exposures, unit metrics, statistics and SRM counts.
        Assert.Equal(5, counts.NodesRendered);
        Assert.Equal(outcome.Compiled.Count(c => c.Sql is not null) - 5, counts.NodesReused);
        Assert.Equal(1, counts.FilesParsed);
        var after = Snapshot(project);
        var changed = after.Keys.Count(k => k.StartsWith("compiled", StringComparison.Ordinal) && !before[k].SequenceEqual(after[k]));
        Assert.InRange(changed, 1, 5);
        Assert.Equal(changed, outcome.FilesWritten);
    }

    private string Demo(string name, Func<string, string>? editProjectFile = null)
    {
        var project = Path.Combine(_root, name);
        DemoCopy.To(project, editProjectFile);
        return project;
    }

    private static CompileResult Compile(string project, string? target = null, string? vars = null, bool cache = true)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Compile(new RunRequest(project, Target: target, Vars: SqlTemplate.ParseVars(vars)) { UseCompileCache = cache });
        return new CompileResult(outcome);
    }

    /// <summary>A copy of the project's files (without target/) compiled without the cache, the way <c>metricc compile --no-cache</c> does.</summary>
    private string FullCompileOfCopy(string project, string? target = null, string? vars = null)
    {
        var copy = project + "-full";
        foreach (var file in Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories).Where(f => !Path.GetRelativePath(project, f).StartsWith("target", StringComparison.Ordinal)))
        {
            var destination = Path.Combine(copy, Path.GetRelativePath(project, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        var arguments = new List<string> { "compile", "--project-dir", copy, "--no-cache" };
        if (target is not null)
            arguments.AddRange(["--target", target]);
        if (vars is not null)
            arguments.AddRange(["--vars", vars]);
        var error = new StringWriter();
        Assert.True(CommandLine.Run([.. arguments], new StringWriter(), error) == 0, error.ToString());
        Assert.False(Directory.Exists(Path.Combine(copy, "target", CompileCache.FolderName)));
        return copy;
    }

    /// <summary>Every file of target/compiled/ and manifest.json, byte for byte.</summary>
    private static void AssertSameOutput(string expectedProject, string actualProject)
    {
        var expected = Snapshot(expectedProject);
        var actual = Snapshot(actualProject);
        Assert.True(expected.Count > 10, "too few files compiled");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[file]), $"{file} differs from a compile without the cache");
    }

    private static Dictionary<string, byte[]> Snapshot(string project)
    {
        var target = Path.Combine(project, "target");
        var files = Directory.EnumerateFiles(Path.Combine(target, "compiled"), "*", SearchOption.AllDirectories).Append(Path.Combine(target, "manifest.json"));
        return files.ToDictionary(f => Path.GetRelativePath(target, f).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);
    }

    private static string ReplaceFirst(string text, string find, string replacement)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"`{find}` not found");
        return string.Concat(text.AsSpan(0, at), replacement, text.AsSpan(at + find.Length));
    }

    /// <summary>The bytes with one letter of the last occurrence of <paramref name="marker"/> (a metric filter's value) changed.</summary>
    private static byte[] Flip(byte[] bytes, byte[] marker)
    {
        var at = bytes.AsSpan().LastIndexOf(marker);
        Assert.True(at > 0, "no parsed YAML in the cache");
        var copy = bytes.ToArray();
        copy[at + 1] = (byte)'P';
        return copy;
    }

    /// <summary>The same cache, well formed (its SHA-256 recomputed), as another metricc build would have written it.</summary>
    private static byte[] OtherBuild(byte[] cache)
    {
        using var reader = new BinaryReader(new MemoryStream(cache, 0, cache.Length - 32), System.Text.Encoding.UTF8);
        var magic = reader.ReadBytes(4);
        var format = reader.ReadInt32();
        Assert.Equal(CompileCache.BuildIdentity, reader.ReadString());
        var rest = reader.ReadBytes(cache.Length - 32 - (int)reader.BaseStream.Position);
        var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(magic);
            w.Write(format);
            w.Write("another build");
            w.Write(rest);
        }

        buffer.Write(System.Security.Cryptography.SHA256.HashData(buffer.ToArray()));
        return buffer.ToArray();
    }

    private sealed record CompileResult(RunOutcome Outcome)
    {
        public CacheCounts AssertSuccess()
        {
            Assert.True(Outcome.Error is null, Outcome.Error + string.Join("\n", Outcome.Diagnostics.Select(d => d.Format())));
            return Outcome.Cache ?? new CacheCounts(0, 0, 0, 0);
        }
    }
}
