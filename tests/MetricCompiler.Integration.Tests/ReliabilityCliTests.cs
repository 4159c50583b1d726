using MetricCompiler.Cli.Commands;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// Failures underneath the command line (a corrupt or unreachable warehouse, a target/ that cannot be written) and the
/// places where the docs and the command line once disagreed: each a clear message and the documented exit code.
/// </summary>
public sealed class ReliabilityCliTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    private (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private void SeedRawTables() => _project.Execute("""
        create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
        insert into raw_exposures values ('u1','checkout','control','2026-01-06 10:00:00'), ('u2','checkout','treatment','2026-01-06 11:00:00'),
                                         ('u3','checkout','control','2026-01-07 10:00:00'), ('u4','checkout','treatment','2026-01-07 11:00:00');
        create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
        insert into raw_events values ('e1','u1','purchase','2026-01-08 10:00:00', 10, null), ('e2','u2','purchase','2026-01-08 10:00:00', 20, null),
                                      ('e3','u3','page_view','2026-01-08 10:00:00', null, 700), ('e4','u4','purchase','2026-01-09 10:00:00', 15, null);
        """);

    private static void AssertNoCrash(string err)
    {
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("unexpectedly", err);
        Assert.DoesNotContain("bug in metricc", err);
    }

    [Fact]
    public void A_corrupt_warehouse_file_is_a_warehouse_failure_with_a_clear_message()
    {
        File.WriteAllText(_project.DatabasePath, new string('x', 4096));
        var (exit, _, err) = Run("run", "--project-dir", _project.Root);

        Assert.True(exit == ExitCodes.Warehouse, err);
        Assert.Contains("cannot open the warehouse of target", err);
        Assert.Contains("nothing was run or replaced", err);
        AssertNoCrash(err);
    }

    [Fact]
    public void A_warehouse_path_whose_folder_cannot_be_created_is_a_warehouse_failure()
    {
        File.WriteAllText(Path.Combine(_project.Root, "blocker"), "a file where a folder should be");
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("path: target/warehouse.db", "path: blocker/warehouse.db"));
        var (exit, _, err) = Run("run", "--project-dir", _project.Root);

        Assert.True(exit == ExitCodes.Warehouse, err);
        Assert.Contains("cannot open the warehouse", err);
        AssertNoCrash(err);
    }

    [Fact]
    public void A_postgres_server_that_is_down_at_start_is_a_warehouse_failure_not_bad_usage()
    {
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("targets:\n",
            "targets:\n  pg: {adapter: postgres, host: 127.0.0.1, port: '9', database: nothing, user: nobody}\n"));
        var (exit, _, err) = Run("run", "--project-dir", _project.Root, "--target", "pg");

        Assert.True(exit == ExitCodes.Warehouse, err);
        Assert.Contains("cannot connect to postgres at 127.0.0.1:9", err);
        AssertNoCrash(err);
    }

    [Fact]
    public void A_target_folder_that_cannot_be_written_is_a_clear_error()
    {
        Directory.Delete(Path.Combine(_project.Root, "target"), recursive: true);
        File.WriteAllText(Path.Combine(_project.Root, "target"), "not a folder");
        var (exit, _, err) = Run("compile", "--project-dir", _project.Root);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("cannot write", err);
        Assert.Contains("the previous file is unchanged", err);
        AssertNoCrash(err);
    }

    /// <summary>
    /// Artifacts are written before the swap: when they cannot be (here `target/results` is a file, as a full disk or a
    /// read-only folder would refuse them), no table is replaced, so warehouse and artifacts never disagree.
    /// </summary>
    [Fact]
    public void Artifacts_that_cannot_be_written_keep_the_previous_tables()
    {
        SeedRawTables();
        Assert.Equal(0, Run("run", "--project-dir", _project.Root).Exit);
        var resultsBefore = File.ReadAllText(Path.Combine(_project.Root, "target", "results", "checkout.json"));
        var analysedBefore = _project.Query("select * from exp_checkout__unit_metrics order by unit_id").Count;
        _project.Execute("insert into raw_exposures values ('u5','checkout','control','2026-01-08 10:00:00')");
        File.Delete(Path.Combine(_project.Root, "target", "readouts", "checkout.md"));
        Directory.Delete(Path.Combine(_project.Root, "target", "readouts"), recursive: true);
        File.WriteAllText(Path.Combine(_project.Root, "target", "readouts"), "a file where the readouts folder should be");

        var (exit, _, err) = Run("run", "--project-dir", _project.Root);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("writing the run's artifacts failed, so no table was replaced", err);
        Assert.Equal(analysedBefore, _project.Query("select * from exp_checkout__unit_metrics").Count);
        Assert.Equal(resultsBefore, File.ReadAllText(Path.Combine(_project.Root, "target", "results", "checkout.json")));
        Assert.Empty(_project.Query("select name from sqlite_master where name like '%__mc_build'"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_project.Root, "target"), "*.tmp", SearchOption.AllDirectories));
        AssertNoCrash(err);
    }

    [Fact]
    public void Validate_with_an_unknown_target_is_bad_usage()
    {
        var (exit, _, err) = Run("validate", "--project-dir", _project.Root, "--target", "nope", "--offline");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("nope", err);
    }

    [Fact]
    public void Ls_accepts_a_target_and_refuses_an_unknown_one()
    {
        Assert.Equal(0, Run("ls", "--project-dir", _project.Root, "--target", "dev").Exit);
        Assert.Equal(ExitCodes.Usage, Run("ls", "--project-dir", _project.Root, "--target", "nope").Exit);
    }

    [Fact]
    public void Compile_with_select_writes_only_the_selected_sql()
    {
        var (exit, output, _) = Run("compile", "--project-dir", _project.Root, "--select", "stg_events");
        Assert.Equal(0, exit);
        Assert.Equal(["stg_events.sql"], Directory.EnumerateFiles(Path.Combine(_project.Root, "target", "compiled")).Select(Path.GetFileName));
        Assert.Contains("compiled 1 SQL node(s)", output);

        Assert.Equal(0, Run("compile", "--project-dir", _project.Root).Exit);
        Assert.True(Directory.EnumerateFiles(Path.Combine(_project.Root, "target", "compiled")).Count() > 3);
    }

    [Fact]
    public void Power_refuses_a_sample_size_beyond_what_it_can_count()
    {
        var (exit, output, err) = Run("power", "--kind", "proportion", "--baseline-mean", "0.1", "--mde", "1e-9");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.DoesNotContain("total_units", output);
        Assert.Contains("units per variant", err);
    }

    /// <summary>docs/spec.md, "How units are counted": SQLite converts a stored offset to UTC before the window applies.</summary>
    [Fact]
    public void Sqlite_converts_a_timestamp_offset_to_utc_as_the_spec_says()
    {
        SeedRawTables();
        // 01:00 at +02:00 on the first day is 23:00 UTC the day before: outside the window, so not an exposure.
        _project.Execute("insert into raw_exposures values ('u9','checkout','control','2026-01-05T01:00:00+02:00')");
        _project.Execute("insert into raw_exposures values ('u8','checkout','control','2026-01-05T03:00:00+02:00')");
        Assert.Equal(0, Run("run", "--project-dir", _project.Root).Exit);

        Assert.Empty(_project.Query("select * from exp_checkout__exposures where unit_id = 'u9'"));
        Assert.Equal("2026-01-05 01:00:00.000", _project.Scalar("select first_exposure_at from exp_checkout__exposures where unit_id = 'u8'"));
        Assert.Contains("`2026-01-05T01:00:00+02:00` is `2026-01-04 23:00:00`, outside this window", File.ReadAllText(Path.Combine(WarehouseRepository.Root(), "docs", "spec.md")));
    }

    public void Dispose() => _project.Dispose();
}

internal static class WarehouseRepository
{
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MetricCompiler.sln")))
            directory = directory.Parent;
        return directory!.FullName;
    }
}
