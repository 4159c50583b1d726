using System.Globalization;
using Xunit.Abstractions;

namespace MetricCompiler.Integration.Tests.Faults;

/// <summary>
/// `kill -9` during `metricc build` on the embedded default (DuckDB; PostgreSQL: <see cref="PostgresFaultTests"/>), see
/// <see cref="KillHarness"/>. The default suite kills a few runs per engine, one after the other, and checks the recovery at the end;
/// <c>METRICC_KILLS=30</c> kills that many runs per engine and checks a recovery after every kill
/// (<c>scripts/reliability.sh</c>), <c>METRICC_KILL_SEED</c> picks the seed and <c>METRICC_KILL_REPORT</c> names a
/// file the report line is appended to.
/// </summary>
public sealed class KillTests(ITestOutputHelper output)
{
    /// <summary>METRICC_KILLS: kills per engine with a recovery after each (0, the default suite: a few, one recovery).</summary>
    internal static int Count => int.TryParse(Environment.GetEnvironmentVariable("METRICC_KILLS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    internal static int Seed => int.TryParse(Environment.GetEnvironmentVariable("METRICC_KILL_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 1;

    [Fact]
    public void Killing_a_duckdb_build_leaves_the_previous_or_the_new_tables_and_the_next_run_recovers()
    {
        using var harness = new KillHarness("dev", Seed);
        var report = Count > 0
            ? harness.Run(KillHarness.Mix(Count), recoverAfterEachKill: true)
            : harness.Run([KillAim.Random, KillAim.InsideSwap, KillAim.AfterSwap], recoverAfterEachKill: false);
        Report(output, report);
        Assert.True(report.Failures.Count == 0, string.Join("\n", report.Failures));
        Assert.True(report.LeftPrevious > 0 && report.LeftNew > 0, $"every kill left the same version, so the test saw only one side: {report}");
    }

    /// <summary>Writes the report line to the test output and, with METRICC_KILL_REPORT, appends it (and the failures) to that file.</summary>
    internal static void Report(ITestOutputHelper output, KillReport report) =>
        Report(output, [report.ToString(), .. report.Failures.Select(f => "  " + f)]);

    internal static void Report(ITestOutputHelper output, IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
            output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("METRICC_KILL_REPORT") is { Length: > 0 } file)
            File.AppendAllLines(file, lines);
    }
}
