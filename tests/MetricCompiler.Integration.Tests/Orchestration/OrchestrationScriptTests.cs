using System.Diagnostics;
using System.Text.Json.Nodes;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>
/// docs/orchestration/: the cron/CI job runs for real against the demo on embedded DuckDB (smaller: 2,000 users), and
/// the Airflow DAG is syntax-checked with python (Airflow itself is not installed here).
/// </summary>
public sealed class OrchestrationScriptTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-job", Guid.NewGuid().ToString("N"));

    private static string Script => Path.Combine(DemoCopy.RepositoryRoot(), "docs", "orchestration", "metricc-job.sh");

    /// <summary>The metricc this test suite built, started the way the launcher would start it.</summary>
    private static string Metricc => $"dotnet {Path.Combine(AppContext.BaseDirectory, "metricc.dll")}";

    private static (int Exit, string Out, string Err) Execute(string file, IEnumerable<string> args, IDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within {timeout}");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    private (int Exit, string Out, string Err) Job(string target, IDictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["METRICC"] = Metricc,
            ["METRICC_PROJECT_DIR"] = _root,
            ["METRICC_ARCHIVE_DIR"] = Path.Combine(_root, "archive"),
            ["METRICC_RETRY_WAIT"] = "0",
            ["METRICC_RETRIES"] = "2",
            ["PYTHON"] = "/usr/bin/python3",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            environment[key] = value;
        return Execute("bash", [Script, target], environment, TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void The_cron_job_builds_the_demo_reports_the_decisions_and_archives_the_artifacts()
    {
        DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 2000", StringComparison.Ordinal));

        var (exit, output, err) = Job("dev");

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{err}");
        Assert.Contains("metricc-job: attempt 1 of 2", output);
        var run = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "target", "run_results.json")))!;
        Assert.Equal("success", run["status"]!.GetValue<string>());
        var experiments = run["experiments"]!.AsArray();
        Assert.Equal(["homepage_cta", "onboarding_flow"], experiments.Select(e => e!["experiment_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        foreach (var experiment in experiments)
        {
            var id = experiment!["experiment_id"]!.GetValue<string>();
            var decision = experiment["decision"]!.GetValue<string>().ToUpperInvariant();
            Assert.Contains($"metricc-job: decision {id}: {decision} (first decision); readout target/readouts/{id}.html", output);
            // --quiet: metricc printed its own one-line decision, not the full readout.
            Assert.Contains($"Decision {id}: {decision.Replace('_', '-')}", output);
        }

        Assert.DoesNotContain("=====", output);
        var archive = Assert.Single(Directory.GetFiles(Path.Combine(_root, "archive"), "metricc-dev-*-exit0.tar.gz"));
        var listing = Execute("tar", ["-tzf", archive], new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));
        Assert.Contains("run_results.json", listing.Out);
        Assert.Contains("readouts/homepage_cta.html", listing.Out);
        Assert.DoesNotContain("warehouse.duckdb", listing.Out);
        Assert.EndsWith("metricc-job: success\n", output);
    }

    [Fact]
    public void The_cron_job_retries_an_unreachable_warehouse_and_does_not_retry_bad_usage()
    {
        DemoCopy.To(_root);
        // The demo's PostgreSQL target, pointed at a port nothing listens on: exit 3, retried, then given up.
        var (exit, output, err) = Job("warehouse", new Dictionary<string, string?>
        {
            ["METRICC_PG_HOST"] = "127.0.0.1",
            ["METRICC_PG_PORT"] = "9",
            ["METRICC_PG_DATABASE"] = "nothing",
            ["METRICC_PG_USER"] = "nobody",
            ["METRICC_PG_PASSWORD"] = "not-a-real-password",
        });
        Assert.True(exit == 3, $"exit {exit}\n{output}\n{err}");
        Assert.Contains("metricc-job: attempt 2 of 2", output);
        Assert.Contains("retrying in 0s", output);
        Assert.Contains("still unreachable after 2 attempt(s); giving up (exit 3)", output);
        Assert.DoesNotContain("not-a-real-password", output + err);

        (exit, output, err) = Job("prod");
        Assert.True(exit == 2, $"exit {exit}\n{output}\n{err}");
        Assert.Contains("bad usage (exit 2)", output);
        Assert.DoesNotContain("attempt 2", output);
        Assert.Contains("target `prod` is not declared", err);
    }

    [Fact]
    public void The_airflow_dag_is_valid_python()
    {
        // Airflow is not installed here: this checks the file's syntax, not the DAG against Airflow's API.
        var dag = Path.Combine(DemoCopy.RepositoryRoot(), "docs", "orchestration", "airflow_dag.py");
        var check = "import ast, sys; tree = ast.parse(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1]); " +
            "print(sorted(n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))))";
        var (exit, output, err) = Execute("/usr/bin/python3", ["-c", check, dag], new Dictionary<string, string?>(), TimeSpan.FromMinutes(1));

        Assert.True(exit == 0, err);
        Assert.Contains("'MetriccBuildOperator'", output);
        Assert.Contains("'read_decisions'", output);
        var text = File.ReadAllText(dag);
        Assert.Contains("./metricc build --target {TARGET}", text);
        Assert.Contains("RETRYABLE = {3}", text);
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
