using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>Two runs against the same embedded warehouse: the second fails with exit 3, naming the first, and changes nothing.</summary>
public sealed class RunLockTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-lock", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("dev")]
    [InlineData("sqlite")]
    public void A_second_run_fails_clearly_while_the_first_holds_the_target(string targetName)
    {
        DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 2000"));
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["seed", "--project-dir", _root, "--target", targetName], new StringWriter(), error) == 0, error.ToString());
        var target = AdapterFactory.Resolve(Core.Loading.ProjectLoader.Load(_root).Bound!.Definition, targetName);

        using (RunLock.Acquire(target, _root, "build --threads 4"))
        {
            error = new StringWriter();
            var exit = CommandLine.Run(["run", "--project-dir", _root, "--target", targetName], new StringWriter(), error);

            Assert.Equal(ExitCodes.Warehouse, exit);
            Assert.Contains("in use by `metricc build --threads 4`", error.ToString());
            Assert.Contains($"process {Environment.ProcessId}", error.ToString());
            using var adapter = AdapterFactory.Open(target, _root);
            Assert.False(adapter.TableExists("experiment_results"));
        }

        // Once the first run is over, the next one goes ahead.
        error = new StringWriter();
        Assert.True(CommandLine.Run(["run", "--project-dir", _root, "--target", targetName], new StringWriter(), error) == 0, error.ToString());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
