using System.Globalization;
using System.Text;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Commands;
using MetricCompiler.Core.Loading;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Integration.Tests.Models;

/// <summary>
/// The issue's "done when" on the demo: after a build, a day of data is appended (a copy of the latest day, shifted by a
/// day, with new event ids) and a few purchases arrive late; an incremental run then gives exactly the tables of a full
/// rebuild of the same rows, on the embedded DuckDB.
/// </summary>
public sealed class DemoIncrementalTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "metricc-demo-incremental", Guid.NewGuid().ToString("N"));

    public DemoIncrementalTests() => DemoCopy.To(_root, yaml => yaml.Replace("users: 40000", "users: 1000", StringComparison.Ordinal));

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

    private IWarehouseAdapter Open() => AdapterFactory.Open(AdapterFactory.Resolve(ProjectLoader.Load(_root).Project!, null), _root);

    private RunOutcome Run(bool fullRefresh = false)
    {
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_root) { FullRefresh = fullRefresh });
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        return outcome;
    }

    /// <summary>
    /// Every table of the plan as rows of cells (columns in name order), sorted (the readout table aside: it records when
    /// it was analysed).
    /// </summary>
    private Dictionary<string, List<object?[]>> Tables()
    {
        var plan = Planner.Plan(ProjectLoader.Load(_root).Bound!);
        using var adapter = Open();
        return plan.Nodes.Where(n => n.Kind != NodeKind.Readout).ToDictionary(n => n.Name, n => adapter
            .Query($"select * from {adapter.Dialect.QuoteRelation(n.Name)}")
            .Select(r => r.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value is DBNull ? null : c.Value).ToArray())
            .OrderBy(Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>A row's sort key: every cell, doubles to 8 significant digits.</summary>
    private static string Key(object?[] row) =>
        string.Join("|", row.Select(v => v is double d ? d.ToString("G8", CultureInfo.InvariantCulture) : Convert.ToString(v, CultureInfo.InvariantCulture)));

    /// <summary>
    /// Equal cells; doubles within 1e-9 relative or 1e-6 absolute, since DuckDB sums in parallel and two builds of the
    /// same rows may differ in the last bits (the experiment tables' centred sums are near zero).
    /// </summary>
    private static bool Same(List<object?[]> expected, List<object?[]> actual) =>
        expected.Count == actual.Count && expected.Zip(actual).All(p => p.First.Length == p.Second.Length && p.First.Zip(p.Second).All(c =>
            c.First is double a && c.Second is double b ? Math.Abs(a - b) <= Math.Max(1e-6, 1e-9 * Math.Abs(a)) : Equals(c.First, c.Second)));

    /// <summary>The raw events of <paramref name="day"/> (by the date their text starts with).</summary>
    private static List<IReadOnlyDictionary<string, object?>> EventsOf(IWarehouseAdapter adapter, DateOnly day, string? eventType = null) =>
        adapter.Query($"select * from raw_events where occurred_at like '{day:yyyy-MM-dd}%'{(eventType is null ? "" : $" and event_type = '{eventType}'")}")
            .Select(r => (IReadOnlyDictionary<string, object?>)r).ToList();

    private static void Insert(IWarehouseAdapter adapter, IEnumerable<IReadOnlyDictionary<string, object?>> rows, string idSuffix, int shiftDays)
    {
        string Literal(object? v) => v switch
        {
            null or DBNull => "null",
            string s => $"'{s.Replace("'", "''", StringComparison.Ordinal)}'",
            _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        };

        foreach (var chunk in rows.Chunk(500))
        {
            var columns = chunk[0].Keys.ToList();
            var sql = new StringBuilder($"insert into raw_events ({string.Join(", ", columns)}) values ");
            sql.AppendJoin(", ", chunk.Select(row => "(" + string.Join(", ", columns.Select(c => c switch
            {
                "event_id" => Literal($"{row[c]}{idSuffix}"),
                "occurred_at" => Literal(DateOnly.ParseExact(((string)row[c]!)[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(shiftDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ((string)row[c]!)[10..]),
                _ => Literal(row[c]),
            })) + ")"));
            adapter.Execute(sql.ToString());
        }
    }

    [Fact]
    public void An_incremental_rerun_after_appending_a_day_gives_exactly_the_tables_of_a_full_rebuild()
    {
        Assert.Equal(0, CommandLine.Run(["build", "--project-dir", _root], new StringWriter(), new StringWriter()));
        DateOnly latest;
        int late;
        using (var adapter = Open())
        {
            latest = DateOnly.FromDateTime(Convert.ToDateTime(adapter.Query("select max(occurred_at) as latest from purchases").Single()["latest"], CultureInfo.InvariantCulture));
            var day = EventsOf(adapter, latest);
            Assert.NotEmpty(day);
            Insert(adapter, day, "_next_day", shiftDays: 1);
            // Purchases of two days before the latest that arrive only now: inside the 3-day lookback.
            var latePurchases = EventsOf(adapter, latest.AddDays(-2), "purchase").Take(5).ToList();
            late = latePurchases.Count;
            Assert.True(late > 0, "no purchase two days before the latest day to deliver late");
            Insert(adapter, latePurchases, "_late", shiftDays: 0);
        }

        var incremental = Run();
        var build = incremental.Results.Single(r => r.Node == "purchases").Incremental!;
        Assert.Equal(IncrementalBuild.Incremental, build.Mode);
        Assert.Equal(latest.AddDays(-2), build.RecomputedFrom);
        var afterIncremental = Tables();
        // The late purchases are in (staging removes the demo's planted duplicate deliveries among them, as for any event).
        var ids = afterIncremental["purchases"].Select(r => (string)r[0]!).ToList(); // event_id, occurred_at, revenue, user_id
        Assert.InRange(ids.Count(id => id.EndsWith("_late", StringComparison.Ordinal)), 1, late);
        Assert.Contains(ids, id => id.EndsWith("_next_day", StringComparison.Ordinal));

        var full = Run(fullRefresh: true);
        Assert.Equal(IncrementalBuild.Full, full.Results.Single(r => r.Node == "purchases").Incremental!.Mode);
        var afterFull = Tables();
        Assert.Equal(afterFull.Keys.Order(StringComparer.Ordinal), afterIncremental.Keys.Order(StringComparer.Ordinal));
        // The incremental model is exactly its full rebuild; every other table too (to the last bits of parallel sums).
        Assert.Equal(afterFull["purchases"].Select(Key), afterIncremental["purchases"].Select(Key));
        Assert.True(afterFull["purchases"].Zip(afterIncremental["purchases"]).All(p => p.First.SequenceEqual(p.Second)), "`purchases` differs from its full rebuild");
        foreach (var (table, rows) in afterFull)
            Assert.True(Same(rows, afterIncremental[table]), $"`{table}` differs between the incremental run and the full rebuild");
    }

    [Fact]
    public void A_seed_replaces_the_raw_tables_so_the_next_run_stages_in_full()
    {
        Assert.Equal(0, CommandLine.Run(["build", "--project-dir", _root], new StringWriter(), new StringWriter()));
        Assert.Equal(IncrementalBuild.Incremental, Run().Results.Single(r => r.Node == "stg_events").Incremental!.Mode);

        Assert.Equal(0, CommandLine.Run(["seed", "--project-dir", _root], new StringWriter(), new StringWriter()));
        var after = Run().Results.Single(r => r.Node == "stg_events").Incremental!;
        Assert.Equal(IncrementalBuild.Full, after.Mode);
        Assert.Contains("no record", after.Reason);
    }
}
