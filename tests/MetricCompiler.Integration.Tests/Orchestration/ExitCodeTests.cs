using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>
/// The exit codes an orchestrator acts on (docs/orchestration.md, docs/reliability.md), one row per cause, each driven
/// through the command line: 0 success, 1 failed run, failed data test or invalid project, 2 bad usage, 3 warehouse
/// unreachable.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public static TheoryData<string, int> Causes => new()
    {
        { "success", ExitCodes.Success },
        { "build_success", ExitCodes.Success },
        { "invalid_project", ExitCodes.Failure },
        { "failed_node", ExitCodes.Failure },
        { "missing_source_table", ExitCodes.Failure },
        { "failed_data_test", ExitCodes.Failure },
        { "unknown_option", ExitCodes.Usage },
        { "unknown_target", ExitCodes.Usage },
        { "unknown_log_format", ExitCodes.Usage },
        { "bad_threads", ExitCodes.Usage },
        { "unknown_selector", ExitCodes.Usage },
        { "corrupt_warehouse", ExitCodes.Warehouse },
        { "postgres_down", ExitCodes.Warehouse },
    };

    [Theory]
    [MemberData(nameof(Causes))]
    public void Each_cause_has_its_documented_exit_code(string cause, int expected)
    {
        var args = new List<string> { "run", "--project-dir", _project.Root, "--quiet" };
        switch (cause)
        {
            case "success":
                ShopRun.SeedRawTables(_project);
                break;
            case "build_success":
                ShopRun.SeedRawTables(_project);
                args[0] = "build";
                break;
            case "invalid_project":
                _project.WriteProject(WarehouseProject.ProjectYaml.Replace("source: events, agg: count", "source: evnts, agg: count"));
                break;
            case "failed_node":
                ShopRun.SeedRawTables(_project);
                _project.Execute("drop table raw_events; create table raw_events (event_id text, user_id text, event_type text, occurred_at text, load_ms real)");
                break;
            case "missing_source_table":
                break;
            case "failed_data_test":
                ShopRun.SeedRawTables(_project);
                _project.WriteProject(WarehouseProject.ProjectYaml.Replace("{name: revenue, type: number}", "{name: revenue, type: number, tests: [not_null]}"));
                break;
            case "unknown_option":
                args.Add("--no-such-option");
                break;
            case "unknown_target":
                args.AddRange(["--target", "prod"]);
                break;
            case "unknown_log_format":
                args.AddRange(["--log-format", "xml"]);
                break;
            case "bad_threads":
                args.AddRange(["--threads", "0"]);
                break;
            case "unknown_selector":
                args.AddRange(["--select", "stg_evnts"]);
                break;
            case "corrupt_warehouse":
                File.WriteAllText(_project.DatabasePath, new string('x', 4096));
                break;
            case "postgres_down":
                // Port 9 (discard): nothing listens there, so the connection is refused at once.
                _project.WriteProject(WarehouseProject.ProjectYaml.Replace("targets:\n",
                    "targets:\n  pg: {adapter: postgres, host: 127.0.0.1, port: '9', database: nothing, user: nobody}\n"));
                args.AddRange(["--target", "pg"]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(cause), cause, "no such cause");
        }

        var (exit, _, err) = ShopRun.Cli([.. args]);

        Assert.True(expected == exit, $"{cause}: expected exit {expected}, got {exit}: {err}");
        Assert.DoesNotContain("   at ", err);
        if (expected != ExitCodes.Success)
            Assert.Contains("error", err);
    }

    public void Dispose() => _project.Dispose();
}
