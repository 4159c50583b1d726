using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;
using Npgsql;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// Transient warehouse errors are retried (at most 3 tries in all), permanent ones are not: faults are injected by a
/// wrapper around the demo's DuckDB adapter, which throws a real <see cref="PostgresException"/> the first times the
/// build table of <c>fct_dau</c> is created.
/// </summary>
public sealed class RetryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-retry", Guid.NewGuid().ToString("N"));

    public RetryTests()
    {
        DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 2000"));
        var error = new StringWriter();
        Assert.True(CommandLine.Run(["seed", "--project-dir", _root], new StringWriter(), error) == 0, error.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void A_serialization_failure_is_retried_and_the_run_succeeds(int threads)
    {
        var faults = new Faults("40001", failures: 2);
        var outcome = Run(faults, threads);

        Assert.True(outcome.Error is null, outcome.Error);
        Assert.Equal(3, faults.Tries);
        Assert.Equal(NodeResult.Success, outcome.Results.Single(r => r.Node == "fct_dau").Status);
    }

    [Fact]
    public void A_transient_error_that_persists_gives_up_after_three_tries()
    {
        var faults = new Faults("57P01", failures: 10);
        var outcome = Run(faults, threads: 1);

        Assert.Equal(ExitCodes.Failure, outcome.ExitCode);
        Assert.Equal(Retries.MaxTries, faults.Tries);
        Assert.Equal(NodeResult.Error, outcome.Results.Single(r => r.Node == "fct_dau").Status);
    }

    [Fact]
    public void A_syntax_error_is_not_retried()
    {
        var faults = new Faults("42601", failures: 10);
        var outcome = Run(faults, threads: 1);

        Assert.Equal(ExitCodes.Failure, outcome.ExitCode);
        Assert.Equal(1, faults.Tries);
        Assert.Contains("injected", outcome.Error);
    }

    private RunOutcome Run(Faults faults, int threads) =>
        new ProjectRunner(SilentObserver.Instance, (target, root) => new FaultyAdapter(AdapterFactory.Open(target, root), faults))
            .Run(new RunRequest(_root, "dev") { Threads = threads });

    /// <summary>How many times the faulty statement was tried, and how many of those tries fail.</summary>
    private sealed class Faults(string sqlState, int failures)
    {
        private int _tries;

        public int Tries => _tries;

        public void OnExecute(string sql)
        {
            if (!sql.Contains("fct_dau" + ProjectRunner.BuildSuffix, StringComparison.Ordinal) || !sql.StartsWith("create table", StringComparison.OrdinalIgnoreCase))
                return;
            if (Interlocked.Increment(ref _tries) <= failures)
                throw new PostgresException("injected fault", "ERROR", "ERROR", sqlState);
        }
    }

    private sealed class FaultyAdapter(IWarehouseAdapter inner, Faults faults) : IWarehouseAdapter
    {
        public SqlDialect Dialect => inner.Dialect;

        public string Description => inner.Description;

        public void Execute(string sql)
        {
            faults.OnExecute(sql);
            inner.Execute(sql);
        }

        public void Read(string sql, WarehouseRowHandler onRow) => inner.Read(sql, onRow);

        public bool TableExists(string table) => inner.TableExists(table);

        public long CountRows(string table) => inner.CountRows(table);

        public void LoadTables(IReadOnlyList<TableSpec> tables, Action<IReadOnlyList<IRowSink>> fill) => inner.LoadTables(tables, fill);

        public void SwapTables(IReadOnlyList<(string Built, string Final)> swaps, IReadOnlyList<string>? before = null, IReadOnlyList<string>? after = null) =>
            inner.SwapTables(swaps, before, after);

        public IReadOnlyList<string> RecoverInterruptedSwap() => inner.RecoverInterruptedSwap();

        public void Dispose() => inner.Dispose();
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
