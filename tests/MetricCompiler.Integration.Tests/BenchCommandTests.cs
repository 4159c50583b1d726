using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests;

/// <summary><c>metricc bench compile</c> runs on a small synthetic project (which must load without a diagnostic) and prints its row.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Bench_compile_prints_a_row_per_size()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["bench", "compile", "--metrics", "50,120", "--runs", "1"], output, error) == 0, error.ToString());
        var rows = output.ToString().Split('\n').Where(l => l.TrimStart().StartsWith("50 ", StringComparison.Ordinal) || l.TrimStart().StartsWith("120 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(2, CommandLine.Run(["bench", "compile", "--metrics", "5"], new StringWriter(), new StringWriter()));
    }
}
