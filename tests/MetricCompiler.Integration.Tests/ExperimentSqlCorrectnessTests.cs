using System.Globalization;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests;

/// <summary>
/// The rules experiment SQL must get right, each pinned by hand-made rows whose correct answer is known:
/// unit of analysis = exposed user, zeros for users without events, only events from first exposure to window end,
/// multi-variant users excluded, duplicate events counted once.
/// </summary>
public sealed class ExperimentSqlCorrectnessTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    public ExperimentSqlCorrectnessTests()
    {
        _project.Execute("""
            create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
            insert into raw_exposures values
              ('u1', 'checkout', 'control',   '2026-01-06 10:00:00'),
              ('u1', 'checkout', 'control',   '2026-01-08 10:00:00'),  -- repeat exposure: the first one counts
              ('u2', 'checkout', 'treatment', '2026-01-07 09:00:00'),
              ('u3', 'checkout', 'control',   '2026-01-06 10:00:00'),
              ('u3', 'checkout', 'treatment', '2026-01-09 10:00:00'),  -- saw both variants: excluded
              ('u4', 'checkout', 'treatment', '2026-01-10 10:00:00'),  -- exposed, never active
              ('u5', 'checkout', 'control',   '2026-01-20 10:00:00'),  -- exposed after the window
              ('u6', 'other',    'control',   '2026-01-06 10:00:00');  -- another experiment
            create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
            insert into raw_events values
              ('e1', 'u1', 'purchase',  '2026-01-05 12:00:00', 100, null), -- before exposure: CUPED covariate only
              ('e2', 'u1', 'purchase',  '2026-01-07 12:00:00', 30, null),
              ('e2', 'u1', 'purchase',  '2026-01-07 12:00:00', 30, null),  -- duplicate delivery of e2
              ('e3', 'u1', 'purchase',  '2026-01-19 00:00:00', 50, null),  -- after the window closes
              ('e4', 'u1', 'page_view', '2026-01-07 12:05:00', null, 800),
              ('e5', 'u1', 'page_view', '2026-01-08 12:05:00', null, 1000),
              ('e6', 'u2', 'purchase',  '2026-01-07 08:00:00', 20, null),  -- an hour before u2's exposure
              ('e7', 'u2', 'purchase',  '2026-01-08 08:00:00', 40, null),
              ('e8', 'u2', 'purchase',  '2026-01-09 08:00:00', 60, null),
              ('e9', 'u3', 'purchase',  '2026-01-10 08:00:00', 999, null), -- excluded user
              ('e10','u7', 'purchase',  '2026-01-10 08:00:00', 500, null); -- never exposed
            """);
        var outcome = new ProjectRunner(SilentObserver.Instance).Run(new RunRequest(_project.Root));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
    }

    private Dictionary<string, Dictionary<string, object?>> Units() =>
        _project.Query("select * from exp_checkout__unit_metrics").ToDictionary(r => (string)r["unit_id"]!);

    [Fact]
    public void One_row_per_exposed_user_who_saw_one_variant()
    {
        var units = Units();
        Assert.Equal(["u1", "u2", "u4"], units.Keys.Order());
        Assert.Equal("control", units["u1"]["variant"]);
        Assert.Equal("treatment", units["u2"]["variant"]);
    }

    [Fact]
    public void Users_without_qualifying_events_count_as_zero_and_not_converted()
    {
        var u4 = Units()["u4"];
        Assert.Equal(0.0, u4["revenue"]);
        Assert.Equal(0.0, u4["purchases"]);
        Assert.Equal(0.0, u4["purchased"]);
        Assert.Null(u4["load_time"]); // an average has no value for a user without page views
    }

    [Fact]
    public void Only_events_from_first_exposure_to_window_end_count_and_duplicates_count_once()
    {
        var units = Units();
        Assert.Equal(30.0, units["u1"]["revenue"]);   // not e1 (before exposure), not e3 (after end), e2 once
        Assert.Equal(1.0, units["u1"]["purchases"]);
        Assert.Equal(100.0, units["u2"]["revenue"]);  // e7 + e8, not e6 (an hour before exposure)
        Assert.Equal(2.0, units["u2"]["purchases"]);
        Assert.Equal(900.0, units["u1"]["load_time"]);
    }

    [Fact]
    public void Cuped_covariate_is_the_same_metric_before_first_exposure()
    {
        var units = Units();
        Assert.Equal(100.0, units["u1"]["revenue__pre"]);
        Assert.Equal(20.0, units["u2"]["revenue__pre"]);
        Assert.Equal(0.0, units["u4"]["revenue__pre"]);
    }

    [Fact]
    public void Staging_removes_duplicate_event_ids()
    {
        Assert.Equal(11L, _project.Scalar("select count(*) from raw_events"));
        Assert.Equal(10L, _project.Scalar("select count(*) from stg_events"));
    }

    [Fact]
    public void Sufficient_statistics_are_sums_over_analysed_users()
    {
        // Sums are centred about each column's mean over all analysed units (u1 = 30, u2 = 100, u4 = 0 for revenue);
        // adding the shift back gives the raw sums.
        var rows = _project.Query("select * from exp_checkout__statistics where metric = 'revenue'").ToDictionary(r => (string)r["variant"]!);
        Assert.Equal(130.0 / 3, D(rows["control"]["value_shift"]), 9);
        Assert.Equal(D(rows["control"]["value_shift"]), D(rows["treatment"]["value_shift"]));
        Assert.Equal(1L, rows["control"]["n"]);
        Assert.Equal(30.0, RawSum(rows["control"], "value_sum", "value_shift"), 9);
        Assert.Equal(900.0, RawSquares(rows["control"], "value_sum", "value_sum_squares", "value_shift"), 9);
        Assert.Equal(2L, rows["treatment"]["n"]);
        Assert.Equal(100.0, RawSum(rows["treatment"], "value_sum", "value_shift"), 9);
        Assert.Equal(10000.0, RawSquares(rows["treatment"], "value_sum", "value_sum_squares", "value_shift"), 9);
        Assert.Equal(100.0 * 30 + 20 * 100 + 0, RawCross(rows["control"], "value_sum", "value_shift", "covariate_sum", "covariate_shift")
            + RawCross(rows["treatment"], "value_sum", "value_shift", "covariate_sum", "covariate_shift"), 9);

        var ratio = _project.Query("select * from exp_checkout__statistics where metric = 'order_value' and variant = 'treatment'").Single();
        Assert.Equal(100.0, RawSum(ratio, "value_sum", "value_shift"), 9);
        Assert.Equal(2.0, RawSum(ratio, "denominator_sum", "denominator_shift"), 9);
        Assert.Equal(100.0 * 2, RawCross(ratio, "value_sum", "value_shift", "denominator_sum", "denominator_shift"), 9);

        var average = _project.Query("select * from exp_checkout__statistics where metric = 'load_time'").ToDictionary(r => (string)r["variant"]!);
        Assert.Equal(1L, average["control"]["n"]);
        Assert.Equal(0L, average["treatment"]["n"]);
    }

    [Fact]
    public void Multi_variant_users_are_excluded_and_reported()
    {
        var srm = _project.Query("select * from exp_checkout__srm");
        Assert.Contains(srm, r => (string?)r["assignment_status"] == "multiple_variants" && (long)r["units"]! == 1);
        Assert.Equal(1L, srm.Where(r => (string?)r["variant"] == "control" && (string?)r["assignment_status"] == "analysed").Sum(r => (long)r["units"]!));

        var readout = File.ReadAllText(Path.Combine(_project.Root, "target", "results", "checkout.json"));
        Assert.Contains("\"excluded_multiple_variant_units\": 1", readout);
    }

    [Fact]
    public void Results_are_written_to_the_warehouse_and_to_files()
    {
        var results = _project.Query("select * from experiment_results where experiment_id = 'checkout'");
        Assert.Equal(["load_time", "order_value", "purchased", "purchases", "revenue"], results.Select(r => (string)r["metric"]!).Order());
        Assert.True(File.Exists(Path.Combine(_project.Root, "target", "manifest.json")));
        Assert.Contains("\"status\": \"success\"", File.ReadAllText(Path.Combine(_project.Root, "target", "run_results.json")));
    }

    private static double D(object? value) => Convert.ToDouble(value ?? 0.0, CultureInfo.InvariantCulture);

    /// <summary>Σy from Σ(y - c): add n c.</summary>
    private static double RawSum(IReadOnlyDictionary<string, object?> row, string sum, string shift) =>
        D(row[sum]) + (D(row["n"]) * D(row[shift]));

    /// <summary>Σy² from Σ(y - c) and Σ(y - c)²: add 2 c Σ(y - c) + n c².</summary>
    private static double RawSquares(IReadOnlyDictionary<string, object?> row, string sum, string squares, string shift) =>
        D(row[squares]) + (2 * D(row[shift]) * D(row[sum])) + (D(row["n"]) * D(row[shift]) * D(row[shift]));

    /// <summary>Σxy from Σ(x - a)(y - b): add b Σ(x - a) + a Σ(y - b) + n a b (cross_sum of the row).</summary>
    private static double RawCross(IReadOnlyDictionary<string, object?> row, string ySum, string yShift, string xSum, string xShift) =>
        D(row["cross_sum"]) + (D(row[yShift]) * D(row[xSum])) + (D(row[xShift]) * D(row[ySum])) + (D(row["n"]) * D(row[xShift]) * D(row[yShift]));

    public void Dispose() => _project.Dispose();
}
