using MetricCompiler.Compiler.Tests.Support;
using MetricCompiler.Core.Loading;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Compiler.Tests.Sql;

/// <summary>
/// The demo project compiled for every dialect must match the SQL committed under Golden/&lt;dialect&gt;/. After an
/// intended change, regenerate with <c>METRICC_UPDATE_GOLDEN=1 ./test.sh</c> and review the diff like any code change.
/// </summary>
public sealed class GoldenSqlTests
{
    private static readonly string GoldenRoot = Path.Combine(TempProject.RepositoryRoot(), "tests", "MetricCompiler.Compiler.Tests", "Golden");

    public static TheoryData<string> Dialects => new() { "duckdb", "sqlite", "postgres", "trino", "snowflake" };

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Demo_project_compiles_to_the_committed_sql(string dialect)
    {
        var compiled = CompileDemo(dialect);
        var folder = Path.Combine(GoldenRoot, dialect);
        if (Environment.GetEnvironmentVariable("METRICC_UPDATE_GOLDEN") == "1")
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
            Directory.CreateDirectory(folder);
            foreach (var (name, sql) in compiled)
                File.WriteAllText(Path.Combine(folder, name + ".sql"), sql);
        }

        Assert.True(Directory.Exists(folder), $"no golden files for {dialect}; run METRICC_UPDATE_GOLDEN=1 ./test.sh");
        var expectedFiles = Directory.GetFiles(folder, "*.sql").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedFiles, compiled.Keys.Order(StringComparer.Ordinal).ToList());
        foreach (var (name, sql) in compiled)
            Assert.True(File.ReadAllText(Path.Combine(folder, name + ".sql")) == sql, $"{dialect}/{name}.sql differs from the golden file");
    }

    [Fact]
    public void Compiling_twice_gives_byte_identical_sql()
    {
        Assert.Equal(CompileDemo("sqlite"), CompileDemo("sqlite"));
    }

    [Fact]
    public void Dialects_differ_only_where_engines_differ()
    {
        var sqlite = CompileDemo("sqlite")["exp_homepage_cta__unit_metrics"];
        var postgres = CompileDemo("postgres")["exp_homepage_cta__unit_metrics"];
        var trino = CompileDemo("trino")["exp_homepage_cta__unit_metrics"];
        var snowflake = CompileDemo("snowflake")["exp_homepage_cta__unit_metrics"];
        var duckdb = CompileDemo("duckdb")["exp_homepage_cta__unit_metrics"];

        Assert.Contains("strftime('%Y-%m-%d %H:%M:%f', x.first_exposure_at, '-14 days')", sqlite);
        Assert.Contains("x.first_exposure_at - interval '14 days'", postgres);
        Assert.Contains("date_add('day', -14, x.first_exposure_at)", trino);
        Assert.Contains("dateadd(day, -14, x.first_exposure_at)", snowflake);
        Assert.Contains("x.first_exposure_at - interval '14 days'", duckdb);
        Assert.Contains("timestamp '2026-01-19 00:00:00'", postgres);
        Assert.Contains("timestamp '2026-01-19 00:00:00'", duckdb);
        Assert.Contains("'2026-01-19 00:00:00'::timestamp_ntz", snowflake);
    }

    private static Dictionary<string, string> CompileDemo(string dialect)
    {
        var load = ProjectLoader.Load(TempProject.RepositoryRoot());
        Assert.True(load.Succeeded, string.Join("\n", load.Diagnostics.Select(d => d.Format())));
        return PlanCompiler.Compile(Planner.Plan(load.Bound!), SqlDialects.ForAdapter(dialect))
            .Where(c => c.Sql is not null)
            .ToDictionary(c => c.Node.Name, c => c.Sql!);
    }
}
