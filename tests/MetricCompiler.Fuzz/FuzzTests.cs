using System.Text;
using MetricCompiler.Core.Loading;

namespace MetricCompiler.Fuzz;

public sealed class FuzzTests
{
    private static readonly string Root = Program.RepositoryRoot();

    /// <summary>The default suite's share of the fuzzer: a few thousand cases of seed 1 (the full count is in docs/reliability.md).</summary>
    [Fact]
    public void Two_thousand_mutated_projects_end_in_diagnostics_or_success()
    {
        var summary = new FuzzRunner(Root).Run(2_000, seed: 1);

        Assert.True(summary.Failures.Count == 0, summary.Line + "\n" + string.Join("\n", summary.Failures.Select(f => $"case {f.Case}: {f.File} after {f.Mutation}: {f.Failure}")));
        Assert.Equal(2_000, summary.Succeeded + summary.Diagnosed);
        // Both outcomes occur: the mutations reach the planner and renderer, not only the YAML parser.
        Assert.InRange(summary.Succeeded, 50, 1_950);
    }

    [Fact]
    public void A_case_is_the_same_input_on_every_run()
    {
        var runner = new FuzzRunner(Root);
        for (var k = 0; k < 50; k++)
        {
            var first = runner.Input(k, 7);
            var again = runner.Input(k, 7);
            Assert.Equal(first.File, again.File);
            Assert.Equal(first.Mutation, again.Mutation);
            Assert.Equal(first.Bytes, again.Bytes);
        }

        Assert.NotEqual(runner.Input(0, 7).Bytes, runner.Input(0, 8).Bytes);
    }

    [Fact]
    public void The_harness_reports_an_exception_as_a_failure()
    {
        var summary = new FuzzRunner(Root, _ => throw new InvalidCastException("boom")).Run(4, seed: 1, workers: 1);
        Assert.Equal(4, summary.Failures.Count);
        Assert.All(summary.Failures, f => Assert.StartsWith("InvalidCastException: boom", f.Failure, StringComparison.Ordinal));
    }

    [Fact]
    public void The_harness_reports_a_case_that_never_returns_as_a_hang()
    {
        using var never = new ManualResetEventSlim(false);
        var summary = new FuzzRunner(Root, _ => { never.Wait(); return "success"; }).Run(1, seed: 1, TimeSpan.FromMilliseconds(50), workers: 1);
        Assert.Equal("hang", Assert.Single(summary.Failures).Outcome);
    }

    public static TheoryData<string> Corpus() => [.. Directory.EnumerateFiles(Path.Combine(Root, "tests", "MetricCompiler.Fuzz", "corpus"), "*.yml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Every input that once crashed, hung or read outside the project, kept as the project file it was: each now ends
    /// in the diagnostic its first line names.
    /// </summary>
    [Theory]
    [MemberData(nameof(Corpus))]
    public void A_corpus_case_that_once_failed_ends_in_its_diagnostic(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Root, "tests", "MetricCompiler.Fuzz", "corpus", name));
        var firstLine = Encoding.ASCII.GetString(bytes).Split('\n')[0];
        Assert.StartsWith("# expect: MC", firstLine, StringComparison.Ordinal);
        var expected = firstLine["# expect: ".Length..].Trim();

        var folder = Path.Combine(Path.GetTempPath(), "metricc-fuzz-corpus", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "metrics.yml"), bytes);
            Assert.Equal("diagnostics", FuzzRunner.Check(folder));
            var result = ProjectLoader.Load(folder);
            var diagnostic = result.Diagnostics.FirstOrDefault(d => d.Code == expected);
            Assert.True(diagnostic is not null, $"expected {expected}:\n" + string.Join("\n", result.Diagnostics.Select(d => d.Format())));
            Assert.Equal("metrics.yml", diagnostic!.Location.File);
            Assert.True(diagnostic.Location.Line > 0, diagnostic.Format());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
