using MetricCompiler.Execution.Artifacts;

namespace MetricCompiler.Integration.Tests;

/// <summary>A recompile rewrites only the artifacts whose bytes changed (issue 12): the rest keep their file and time.</summary>
public sealed class ArtifactWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-artifacts", Guid.NewGuid().ToString("N"));

    [Fact]
    public void An_unchanged_file_is_left_alone_and_a_changed_one_replaced()
    {
        var path = Path.Combine(_root, "compiled", "node.sql");
        ArtifactWriter.WriteAtomically(path, "select 1\n");
        var first = new FileInfo(path).LastWriteTimeUtc;
        File.SetLastWriteTimeUtc(path, first.AddMinutes(-5));
        ArtifactWriter.WriteAtomically(path, "select 1\n");
        Assert.Equal(first.AddMinutes(-5), new FileInfo(path).LastWriteTimeUtc);

        ArtifactWriter.WriteAtomically(path, "select 2\n");
        Assert.Equal("select 2\n", File.ReadAllText(path));
        Assert.NotEqual(first.AddMinutes(-5), new FileInfo(path).LastWriteTimeUtc);
        ArtifactWriter.WriteAtomically(path, "select 22\n");
        Assert.Equal("select 22\n", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
