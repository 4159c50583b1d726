using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Sql.Model;
using YamlDotNet.RepresentationModel;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>The YAML of a retention metric (<c>return_within</c> as written: its items and where each is).</summary>
public sealed record RetentionSpec(
    NameReference? Source,
    SqlSnippet? CohortFilter,
    SqlSnippet? ReturnFilter,
    string? ReturnOn,
    IReadOnlyList<(string Text, SourceLocation Location)>? ReturnWithin) : MetricSpec;

/// <summary>
/// <c>type: retention</c>: of a cohort of entities that start on a day (their first row of <c>source</c>, or their first
/// row passing <c>cohort_filter</c>, such as the sign-up event), the share that return, with a row passing
/// <c>return_filter</c> (any row by default), on day N (<c>return_on: day 7</c>) or on any of days N..M
/// (<c>return_within: [1, 7]</c>), days counted in the project's time zone (the cohort day is day 0). Per bucket the
/// cohorts are those starting in the bucket; a cohort whose last day (N or M) is after the last date in the source's
/// data is left out, not counted as not retained. Per exposed unit it is 0/1: a qualifying row on days N..M after first
/// exposure.
/// </summary>
public sealed partial class RetentionMetricType : MetricType
{
    public static RetentionMetricType Instance { get; } = new();

    /// <summary>The last day number a retention metric may ask for.</summary>
    public const int MaxDay = 3660;

    public override string Name => "retention";

    public override bool HasUnitValues => true;

    public override string Summary => "the share of a cohort (by first-seen or sign-up date) that returns on day N or within days N..M";

    [GeneratedRegex(@"^\s*(?:days?\s+)?(\d+)\s*$")]
    private static partial Regex DayPattern();

    internal override MetricSpec Read(YamlMappingReader reader)
    {
        List<(string, SourceLocation)>? within = null;
        if (reader.Sequence("return_within") is { } sequence)
        {
            within = [];
            foreach (var item in sequence.Children)
            {
                if (item is YamlScalarNode { Value: { } text })
                    within.Add((text, reader.Location(item)));
                else
                    reader.Report(DiagnosticCodes.WrongNodeType, reader.Location(item), "each entry of `return_within` must be a day number");
            }
        }

        return new RetentionSpec(reader.Reference("source", required: true), reader.Snippet("cohort_filter"), reader.Snippet("return_filter"),
            reader.String("return_on"), within);
    }

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (RetentionSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        const string Hint = "write `return_on: day 7` (returned on day 7, the cohort day being day 0) or `return_within: [1, 7]` (on any of days 1..7)";
        int from, to;
        if (spec.ReturnOn is not null && spec.ReturnWithin is not null)
        {
            binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("return_within"), $"{context}: give either `return_on` or `return_within`, not both", Hint);
            return null;
        }

        if (spec.ReturnOn is { } on)
        {
            if (Day(on) is not { } day)
            {
                binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("return_on"), $"{context}: `return_on: {on}` is not a day number", Hint);
                return null;
            }

            (from, to) = (day, day);
        }
        else if (spec.ReturnWithin is { } within)
        {
            var days = within.Select(w => Day(w.Text)).ToList();
            if (days.Count != 2 || days.Any(d => d is null) || days[0] > days[1])
            {
                binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("return_within"),
                    $"{context}: `return_within` must be two day numbers, the first no later than the second, not [{string.Join(", ", within.Select(w => w.Text))}]", Hint);
                return null;
            }

            (from, to) = (days[0]!.Value, days[1]!.Value);
        }
        else
        {
            binder.Diagnostics.Error(DiagnosticCodes.MissingKey, definition.Location, $"{context}: a retention metric needs `return_on` or `return_within`", Hint);
            return null;
        }

        if (spec.Source is null || binder.Source(spec.Source, context) is not { } source)
            return null;
        var cohortFilter = binder.Expression(spec.CohortFilter, source, context);
        var returnFilter = binder.Expression(spec.ReturnFilter, source, context);
        if (spec.CohortFilter is not null && cohortFilter is null || spec.ReturnFilter is not null && returnFilter is null)
            return null;
        return new RetentionMetric(definition, source, cohortFilter, returnFilter, from, to, spec.CohortFilter, spec.ReturnFilter);
    }

    private static int? Day(string text) =>
        DayPattern().Match(text) is { Success: true } match
        && int.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var day) && day <= MaxDay
            ? day
            : null;
}

/// <summary>A bound retention metric: days <see cref="FirstDay"/>..<see cref="LastDay"/> after the cohort day (day 0).</summary>
public sealed record RetentionMetric(
    MetricDefinition Definition,
    BoundSource Source,
    SqlExpr? CohortFilter,
    SqlExpr? ReturnFilter,
    int FirstDay,
    int LastDay,
    SqlSnippet? CohortFilterText,
    SqlSnippet? ReturnFilterText) : BoundMetric(Definition)
{
    private const string Row = "e";
    private const string Cohort = "c";

    /// <summary>The columns of a retention metric's cohort rows.</summary>
    public const string CohortAt = "cohort_at";
    public const string Retained = "retained";
    public const string Complete = "complete";

    public override MetricType Type => RetentionMetricType.Instance;

    public override IReadOnlyList<BoundSource> Sources => [Source];

    private string Days => FirstDay == LastDay ? $"day {FirstDay}" : $"days {FirstDay}..{LastDay}";

    public override string Summary =>
        $"share of {Source.Name} cohorts ({(CohortFilterText is { } c ? $"first row where {c.Text}" : "first seen")}) returning on {Days}"
        + (ReturnFilterText is { } r ? $" with a row where {r.Text}" : "");

    public override bool HasUnitValue => true;

    /// <summary>1 when the unit has a returning row on days N..M after its first exposure, else 0.</summary>
    public override ExperimentStatistics Experiment(UnitValueBuilder units)
    {
        var returned = units.Measure(Name, Source, Aggregation.Proportion, null, ReturnFilter, new UnitTimeFrame.DaysAfterExposure(FirstDay, LastDay), Summary);
        units.Column(Name, Cast(Coalesce(returned, Num(0)), SqlType.Double), $"{Type.Name} metric defined at {Location}");
        return new MeanStatistics(Name, null, MetricCompiler.Statistics.MetricKind.Proportion);
    }

    /// <summary>Retained cohort members over complete cohort members, per cohort bucket (null when no cohort is complete).</summary>
    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        var rows = CohortRows(query.Time);
        var complete = Eq(Col(Complete), Num(1));
        var retained = query.Measure($"{Name}_retained", rows, Aggregation.Sum, Col(Retained), complete);
        var members = query.Measure($"{Name}_cohort", rows, Aggregation.Count, null, complete);
        return new GrainValue(new BinaryExpr(retained, BinaryOperator.Divide, members), false);
    }

    /// <summary>
    /// One row per cohort member: its entity, when it entered the cohort (UTC), whether it returned on the days asked
    /// for, and whether its cohort is complete (its last asked day is no later than the last local date in the data).
    /// </summary>
    public DerivedRows CohortRows(ProjectTime time)
    {
        var entity = Source.Entity.Name;
        var at = Source.EventTime.Name;
        var staged = StagedRows.Of(Source);
        var firstSeen = $"{Name}_first_seen";
        var members = $"{Name}_members";
        var entered = new SelectQuery(
            [Col(Row, entity).Item(), Min(Col(Row, at)).As(CohortAt)],
            From(staged, Row),
            Where: CohortFilter is null ? null : SqlExprRewriter.Qualify(CohortFilter, Row),
            GroupBy: [Col(Row, entity)]);
        var day = new DateDiffDaysExpr(StagedRows.LocalDate(Col(Cohort, CohortAt), time), StagedRows.LocalDate(Col(Row, at), time));
        var returning = And(FirstDay == LastDay ? Eq(day, Num(FirstDay)) : new BetweenExpr(day, Num(FirstDay), Num(LastDay)), ReturnFilter is null ? null : SqlExprRewriter.Qualify(ReturnFilter, Row));
        var returned = new SelectQuery(
            [Col(Cohort, entity).Item(), Col(Cohort, CohortAt).Item(), Max(StagedRows.Flag(returning)).As(Retained)],
            new JoinFrom(From(new CteRef(firstSeen), Cohort), JoinKind.Inner, From(staged, Row), Eq(Col(Row, entity), Col(Cohort, entity))),
            GroupBy: [Col(Cohort, entity), Col(Cohort, CohortAt)]);
        var lastDate = new ScalarSubqueryExpr(new SelectQuery([Max(StagedRows.LocalDate(Col(at), time)).Item()], From(staged)));
        var lastAsked = new DateAddDaysExpr(StagedRows.LocalDate(Col(CohortAt), time), LastDay);
        var query = new SelectQuery(
            [
                Col(entity).Item(),
                Col(CohortAt).Item(),
                Col(Retained).Item(),
                StagedRows.Flag(new BinaryExpr(lastAsked, BinaryOperator.LessOrEqual, lastDate)).As(Complete, $"0 when day {LastDay} of the cohort is after the last date in the data"),
            ],
            From(new CteRef(members)))
        {
            With =
            [
                new CommonTableExpression(firstSeen, entered, CohortFilter is null ? $"when each {entity} was first seen in `{Source.Name}`" : $"when each {entity} first had a row where {CohortFilterText!.Text}"),
                new CommonTableExpression(members, returned, $"whether each cohort member returned on {Days} ({time.ZoneId} days, the cohort day being day 0)"),
            ],
        };
        return new DerivedRows($"{Name}_cohorts", entity, CohortAt, query, [Source], $"`{Name}`: one row per cohort member of `{Source.Name}`");
    }
}
