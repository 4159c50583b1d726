using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MetricCompiler.Adapters;
using Npgsql;
using Xunit.Abstractions;

namespace MetricCompiler.Integration.Tests.Faults;

/// <summary>
/// Faults on a PostgreSQL of the test's own (scripts/postgres.sh with its own folder and port, so the suite's server is
/// never stopped): `kill -9` during `metricc build` (<see cref="KillHarness"/>), and the server stopped in the middle of
/// a run, once between two nodes and once inside the swap's transaction. Every run uses a password of its own, which
/// no output, error or artifact of any of those runs may contain.
/// </summary>
public sealed class PostgresFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "metricc-pgfault-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly int _port = FreePort();

    [Fact]
    public void Kills_and_a_server_stopped_mid_run_leave_whole_tables_and_the_password_appears_nowhere()
    {
        var environment = Start();
        var password = "pw-" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(ConnectionString(environment)))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"alter role {environment["METRICC_PG_USER"]} password '{password}'", connection);
            command.ExecuteNonQuery();
        }

        environment["METRICC_PG_PASSWORD"] = password;
        using var harness = new KillHarness("warehouse", KillTests.Seed, "faults", environment);

        var report = KillTests.Count > 0
            ? harness.Run(KillHarness.Mix(KillTests.Count), recoverAfterEachKill: true)
            : harness.Run([KillAim.Random, KillAim.InsideSwap, KillAim.AfterSwap], recoverAfterEachKill: false);
        KillTests.Report(output, report);

        var betweenNodes = harness.StopTheServerDuringARun(FaultPoint.BeforeNode("exp_homepage_cta__unit_metrics"),
            "the connection to the warehouse was lost", () => Script("halt"), () => Script("resume"));
        var insideSwap = harness.StopTheServerDuringARun(FaultPoint.InsideSwap,
            "swapping the new tables in failed; the previous tables are unchanged", () => Script("halt"), () => Script("resume"));
        output.WriteLine(betweenNodes);
        output.WriteLine(insideSwap);

        Assert.True(harness.Failures.Count == 0, string.Join("\n", harness.Failures));
        Assert.True(report.LeftPrevious > 0 && report.LeftNew > 0, $"every kill left the same version: {report}");
        var seen = harness.Transcript().ToList();
        Assert.True(seen.Count > 10, "the transcript holds the runs' output and the artifacts");
        Assert.Contains(seen, s => s.Text.Contains("the connection to the warehouse was lost", StringComparison.Ordinal));
        foreach (var (where, text) in seen)
            Assert.False(text.Contains(password, StringComparison.Ordinal), $"the password is in {where}");
        KillTests.Report(output, [$"postgres stopped mid-run: 2 runs (before a node, inside the swap), each exit 3 with the previous tables whole " +
            $"and a clean retry; the password in none of {seen.Count} outputs and artifacts"]);
    }

    private Dictionary<string, string> Start()
    {
        var exports = Script("start").Split('\n').Single(l => l.StartsWith("export ", StringComparison.Ordinal));
        return exports["export ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    private static string ConnectionString(IReadOnlyDictionary<string, string> environment) => new NpgsqlConnectionStringBuilder
    {
        Host = environment["METRICC_PG_HOST"],
        Port = int.Parse(environment["METRICC_PG_PORT"], CultureInfo.InvariantCulture),
        Database = environment["METRICC_PG_DATABASE"],
        Username = environment["METRICC_PG_USER"],
        Password = environment["METRICC_PG_PASSWORD"],
        Pooling = false,
    }.ConnectionString;

    private string Script(string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(DemoCopy.RepositoryRoot(), "scripts", "postgres.sh"));
        start.ArgumentList.Add(command);
        start.Environment["METRICC_PG_DIR"] = _dir;
        start.Environment["METRICC_PG_PORT"] = _port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            process.Kill();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"scripts/postgres.sh {command}: {stderr.Result}");
        return stdout.Result;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            Script("stop");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            output.WriteLine($"stopping the test's server: {e.Message}");
        }
    }
}
