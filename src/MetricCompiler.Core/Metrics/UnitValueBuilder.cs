using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics;

/// <summary>Which of a unit's rows a measure counts, relative to the unit's first exposure.</summary>
public abstract record UnitTimeFrame
{
    /// <summary>From first exposure until the experiment window closes (the analysis period).</summary>
    public sealed record AfterExposure : UnitTimeFrame;

    /// <summary>The given number of days before first exposure (the CUPED covariate period).</summary>
    public sealed record BeforeExposure(int Days) : UnitTimeFrame;

    /// <summary>Days <c>From</c> through <c>To</c> after the day of first exposure (day 0), capped at the window's end.</summary>
    public sealed record DaysAfterExposure(int From, int To) : UnitTimeFrame;

    public static UnitTimeFrame After { get; } = new AfterExposure();
}

/// <summary>One conditional aggregate over a source's rows per unit, computed in the source's single pass.</summary>
public sealed record UnitMeasure(string Alias, RowSet Rows, SqlExpr Aggregate, string Comment);

/// <summary>A column of the unit-metrics table: an expression over measures.</summary>
public sealed record UnitColumn(string Name, SqlExpr Expression, string? Comment);

/// <summary>
/// The per-unit logical plan of an experiment: metrics register the measures they need on each source (read once per
/// source, joined to the exposed units) and the unit-metrics columns computed from them. The planner lowers it to SQL.
/// </summary>
public sealed class UnitValueBuilder(int cupedLookbackDays)
{
    /// <summary>
    /// <c>analysis.covariates</c> with their look-back: when set, every count-like metric is adjusted by all of them
    /// together (their values before first exposure) instead of by its own pre-exposure value alone.
    /// </summary>
    public UnitValueBuilder(int cupedLookbackDays, IReadOnlyList<Types.SimpleMetric> covariates, int covariateLookbackDays)
        : this(cupedLookbackDays)
    {
        _covariates = covariates;
        _covariateLookbackDays = covariateLookbackDays;
    }

    private readonly IReadOnlyList<Types.SimpleMetric> _covariates = [];
    private readonly int _covariateLookbackDays;

    /// <summary>
    /// The unit-metrics columns of <c>analysis.covariates</c>' unit attributes (the planner joins and computes them);
    /// they follow the metric covariates in every adjusted metric's design.
    /// </summary>
    public IReadOnlyList<string> AttributeColumns { get; init; } = [];

    /// <summary>The number of covariates k of the experiment's regression adjustment (0: none).</summary>
    public int CovariateCount => _covariates.Count + AttributeColumns.Count;

    /// <summary>The alias of the source rows inside a measure.</summary>
    public const string RowAlias = "e";

    /// <summary>The alias of the exposed unit (unit_id, variant, first_exposure_at) inside a measure.</summary>
    public const string UnitAlias = "x";

    private readonly List<UnitMeasure> _measures = [];
    private readonly List<UnitColumn> _columns = [];
    private readonly Dictionary<string, ExperimentStatistics> _statistics = new(StringComparer.Ordinal);

    /// <summary>Days of CUPED lookback; 0 when CUPED is off.</summary>
    public int CupedLookbackDays => cupedLookbackDays;

    public IReadOnlyList<UnitMeasure> Measures => _measures;

    public IReadOnlyList<UnitColumn> Columns => _columns;

    /// <summary>The name of a measure's table in the final select (one per source).</summary>
    public static string SourceAlias(RowSet rows) => $"v_{rows.Name}";

    /// <summary>The column of a metric's pre-exposure value.</summary>
    public static string Covariate(string metric) => $"{metric}__pre";

    /// <summary>The widest lookback any measure needs before first exposure, in days.</summary>
    public int LookbackDays { get; private set; }

    /// <summary>
    /// Registers <c>aggregation</c> of <paramref name="value"/> over the unit's rows of <paramref name="source"/> that pass
    /// <paramref name="filter"/> and fall in <paramref name="frame"/>; returns the measure as a column of the final select.
    /// Expressions are over the source's columns, unqualified.
    /// </summary>
    public SqlExpr Measure(string name, RowSet source, Aggregation aggregation, SqlExpr? value, SqlExpr? filter, UnitTimeFrame frame, string comment)
    {
        var qualifiedFilter = filter is null ? null : SqlExprRewriter.Qualify(filter, RowAlias);
        var condition = And(Frame(source, frame), qualifiedFilter);
        var aggregate = Aggregations.Conditional(aggregation, value is null ? null : SqlExprRewriter.Qualify(value, RowAlias), condition);
        var existing = _measures.FirstOrDefault(m => m.Rows == source && m.Aggregate == aggregate);
        if (existing is null)
        {
            var alias = UniqueAlias(source, name);
            existing = new UnitMeasure(alias, source, aggregate, comment + Describe(frame));
            _measures.Add(existing);
        }

        if (frame is UnitTimeFrame.BeforeExposure before)
            LookbackDays = Math.Max(LookbackDays, before.Days);
        return Col(SourceAlias(source), existing.Alias);
    }

    /// <summary>Adds a unit-metrics column (once per name).</summary>
    public void Column(string name, SqlExpr expression, string? comment = null)
    {
        if (_columns.All(c => c.Name != name))
            _columns.Add(new UnitColumn(name, expression, comment));
    }

    /// <summary>The statistics of <paramref name="metric"/>, lowering it on first use.</summary>
    public ExperimentStatistics Statistics(BoundMetric metric)
    {
        if (_statistics.TryGetValue(metric.Name, out var known))
            return known;
        var statistics = metric.Experiment(this)
            ?? throw new InvalidOperationException($"metric `{metric.Name}` ({metric.Type.Name}) has no value per unit; binding refuses it in experiments");
        _statistics[metric.Name] = statistics;
        return statistics;
    }

    /// <summary>
    /// The usual lowering: the metric's value over the analysis period as a column named after it (0 or null when the
    /// unit has no rows, as <paramref name="zeroWhenEmpty"/> says), and, under CUPED, the same value before exposure.
    /// </summary>
    public ExperimentStatistics MeanOf(BoundMetric metric, Func<UnitTimeFrame, SqlExpr> perUnit, bool zeroWhenEmpty, bool binary)
    {
        Column(metric.Name, Finish(perUnit(UnitTimeFrame.After), zeroWhenEmpty), $"{metric.Type.Name} metric defined at {metric.Location}");
        var kind = binary ? MetricCompiler.Statistics.MetricKind.Proportion : MetricCompiler.Statistics.MetricKind.Mean;
        if (CovariateCount > 0 && zeroWhenEmpty)
        {
            var columns = new List<string>();
            foreach (var input in _covariates)
            {
                var name = Covariate(input.Name);
                columns.Add(name);
                if (_columns.Any(c => c.Name == name))
                    continue; // registered by an earlier metric: one measure per covariate
                Column(name, Finish(input.PerUnit(this, new UnitTimeFrame.BeforeExposure(_covariateLookbackDays)), true),
                    $"covariate: `{input.Name}` in the {_covariateLookbackDays} days before first exposure");
            }

            columns.AddRange(AttributeColumns);
            return new MeanStatistics(metric.Name, null, kind) { Covariates = columns };
        }

        string? covariate = null;
        if (CupedLookbackDays > 0 && zeroWhenEmpty)
        {
            covariate = Covariate(metric.Name);
            Column(covariate, Finish(perUnit(new UnitTimeFrame.BeforeExposure(CupedLookbackDays)), true));
        }

        return new MeanStatistics(metric.Name, covariate, kind);
    }

    private static string Describe(UnitTimeFrame frame) => frame switch
    {
        UnitTimeFrame.BeforeExposure b => $"; CUPED covariate: the {b.Days} days before first exposure",
        UnitTimeFrame.DaysAfterExposure d => d.From == d.To ? $"; day {d.From} after first exposure" : $"; days {d.From}..{d.To} after first exposure",
        _ => "",
    };

    private static SqlExpr Finish(SqlExpr value, bool zeroWhenEmpty) =>
        Cast(zeroWhenEmpty ? Coalesce(value, Num(0)) : value, SqlType.Double);

    private string UniqueAlias(RowSet source, string name)
    {
        var alias = name;
        for (var i = 2; _measures.Any(m => m.Rows == source && m.Alias == alias); i++)
            alias = $"{name}_{i}";
        return alias;
    }

    private static SqlExpr Frame(RowSet source, UnitTimeFrame frame)
    {
        var time = Col(RowAlias, source.TimeColumn);
        var exposed = Col(UnitAlias, "first_exposure_at");
        return frame switch
        {
            UnitTimeFrame.AfterExposure => Ge(time, exposed),
            UnitTimeFrame.BeforeExposure b => And(Ge(time, new AddDaysExpr(exposed, -b.Days)), Lt(time, exposed)),
            UnitTimeFrame.DaysAfterExposure d => And(Ge(time, new AddDaysExpr(exposed, d.From)), Lt(time, new AddDaysExpr(exposed, d.To + 1))),
            _ => throw new ArgumentOutOfRangeException(nameof(frame)),
        };
    }
}
