using MetricCompiler.Execution.Diff;

namespace MetricCompiler.Integration.Tests.Diff;

/// <summary>The unified diff: the format git and patch read, and a shortest edit script (checked against an LCS table).</summary>
public sealed class UnifiedDiffTests
{
    [Fact]
    public void One_changed_line_gives_one_hunk_with_three_lines_of_context()
    {
        var before = string.Join('\n', Enumerable.Range(1, 10).Select(i => $"line {i}")) + "\n";
        var after = before.Replace("line 5\n", "line five\n", StringComparison.Ordinal);

        var diff = UnifiedDiff.Format(before, after, "a/x.sql", "b/x.sql");

        Assert.Equal(
            "--- a/x.sql\n+++ b/x.sql\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n",
            diff);
    }

    [Fact]
    public void Changes_far_apart_are_separate_hunks_and_close_ones_merge()
    {
        var lines = Enumerable.Range(1, 30).Select(i => $"l{i}").ToList();
        var before = string.Join('\n', lines) + "\n";
        var far = lines.ToList();
        far[2] = "X";
        far[25] = "Y";
        var farDiff = UnifiedDiff.Format(before, string.Join('\n', far) + "\n", "a", "b");
        Assert.Equal(2, farDiff.Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
        Assert.Contains("@@ -1,6 +1,6 @@", farDiff);
        Assert.Contains("@@ -23,7 +23,7 @@", farDiff);

        var close = lines.ToList();
        close[10] = "X";
        close[16] = "Y"; // 6 lines apart: the two contexts touch, one hunk
        var closeDiff = UnifiedDiff.Format(before, string.Join('\n', close) + "\n", "a", "b");
        Assert.Equal(1, closeDiff.Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
        Assert.Contains("@@ -8,13 +8,13 @@", closeDiff);
    }

    [Fact]
    public void Insertions_and_deletions_at_the_edges_and_equal_texts()
    {
        Assert.Equal("", UnifiedDiff.Format("a\nb\n", "a\nb\n", "x", "y"));
        Assert.Equal("--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n", UnifiedDiff.Format("", "a\nb\n", "x", "y"));
        Assert.Equal("--- x\n+++ y\n@@ -1,2 +0,0 @@\n-a\n-b\n", UnifiedDiff.Format("a\nb\n", "", "x", "y"));
        Assert.Equal("--- x\n+++ y\n@@ -1,2 +1,3 @@\n+z\n a\n b\n", UnifiedDiff.Format("a\nb\n", "z\na\nb\n", "x", "y"));
    }

    [Fact]
    public void The_script_turns_the_old_lines_into_the_new_ones_and_keeps_as_many_as_the_longest_common_subsequence()
    {
        var random = new Random(20261203);
        for (var trial = 0; trial < 300; trial++)
        {
            var a = RandomLines(random);
            var b = random.Next(3) == 0 ? RandomLines(random) : Mutate(a, random);
            var script = UnifiedDiff.Script(a, b);

            Assert.Equal(a, script.Where(e => e.Op != '+').Select(e => e.Line).ToList());
            Assert.Equal(b, script.Where(e => e.Op != '-').Select(e => e.Line).ToList());
            Assert.Equal(Lcs(a, b), script.Count(e => e.Op == ' '));
        }
    }

    private static List<string> RandomLines(Random random) =>
        Enumerable.Range(0, random.Next(0, 14)).Select(_ => ((char)('a' + random.Next(4))).ToString()).ToList();

    private static List<string> Mutate(List<string> lines, Random random)
    {
        var result = lines.ToList();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var at = random.Next(result.Count + 1);
            if (random.Next(2) == 0 && at < result.Count)
                result.RemoveAt(at);
            else
                result.Insert(at, ((char)('a' + random.Next(5))).ToString());
        }

        return result;
    }

    private static int Lcs(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var table = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
            for (var j = b.Count - 1; j >= 0; j--)
                table[i, j] = a[i] == b[j] ? table[i + 1, j + 1] + 1 : Math.Max(table[i + 1, j], table[i, j + 1]);
        return table[0, 0];
    }
}
