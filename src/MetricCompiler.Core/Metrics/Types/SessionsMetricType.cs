using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;
using static MetricCompiler.Sql.Model.Sql;
using SortKey = MetricCompiler.Sql.Model.SortKey;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>What a sessions metric measures of a unit's (or a bucket's) sessions.</summary>
public enum SessionMeasure
{
    /// <summary>Sessions per entity.</summary>
    Count,
    /// <summary>Mean session length in seconds, first row to last.</summary>
    Duration,
    /// <summary>Mean rows per session.</summary>
    EventsPerSession,
    /// <summary>Share of sessions with a single row.</summary>
    BounceRate,
}

/// <summary>The YAML of a sessions metric.</summary>
public sealed record SessionsSpec(NameReference? Source, SessionMeasure? Measure, string? Gap, NameReference? SessionId, SqlSnippet? Filter) : MetricSpec;

/// <summary>
/// <c>type: sessions</c>: a source's rows (those passing <c>filter</c>) grouped into sessions per entity, by the
/// source's <c>session_id</c> column when it has one, else by inactivity: a row <c>gap</c> (default 30 minutes) or more
/// after the entity's previous row starts a new session. <c>measure</c> is <c>count</c> (sessions per entity),
/// <c>duration</c> (mean seconds from a session's first row to its last), <c>events_per_session</c> or
/// <c>bounce_rate</c> (share of single-row sessions). Per bucket, sessions count in the bucket of their start. Per
/// exposed unit, sessions starting at or after first exposure: the count as a mean, the others as ratios over the
/// unit's sessions (delta method).
/// </summary>
public sealed partial class SessionsMetricType : MetricType
{
    public static SessionsMetricType Instance { get; } = new();

    internal static readonly IReadOnlyDictionary<string, SessionMeasure> Measures = new Dictionary<string, SessionMeasure>(StringComparer.Ordinal)
    {
        ["count"] = SessionMeasure.Count,
        ["duration"] = SessionMeasure.Duration,
        ["events_per_session"] = SessionMeasure.EventsPerSession,
        ["bounce_rate"] = SessionMeasure.BounceRate,
    };

    /// <summary>The inactivity gap without <c>gap:</c>.</summary>
    public const int DefaultGapSeconds = 30 * 60;

    public override string Name => "sessions";

    public override bool HasUnitValues => true;

    public override string Summary => "sessions by session id or inactivity gap: count per entity, duration, events per session, bounce rate";

    [GeneratedRegex(@"^\s*(\d+)\s*(second|seconds|minute|minutes|hour|hours)\s*$")]
    private static partial Regex GapPattern();

    internal override MetricSpec Read(YamlMappingReader reader) =>
        new SessionsSpec(reader.Reference("source", required: true), reader.Choice("measure", Measures, required: true), reader.String("gap"),
            reader.Reference("session_id"), reader.Snippet("filter"));

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (SessionsSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        var gap = DefaultGapSeconds;
        if (spec.Gap is { } text)
        {
            var match = GapPattern().Match(text);
            var unit = match.Success ? match.Groups[2].Value.TrimEnd('s') : "";
            if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var amount)
                || amount * (unit == "hour" ? 3600L : unit == "minute" ? 60L : 1L) is < 1 or > 7 * 24 * 3600)
            {
                binder.Diagnostics.Error(DiagnosticCodes.InvalidValue, definition.At("gap"), $"{context}: `gap: {text}` is not an inactivity gap",
                    "write seconds, minutes or hours up to a week, for example `gap: 30 minutes`");
                return null;
            }

            gap = amount * (unit == "hour" ? 3600 : unit == "minute" ? 60 : 1);
        }

        if (spec.Source is null || spec.Measure is not { } measure || binder.Source(spec.Source, context) is not { } source)
            return null;
        BoundColumn? sessionId = null;
        if (spec.SessionId is { } reference)
        {
            sessionId = source.FindColumn(reference.Name);
            if (sessionId is null)
            {
                binder.Diagnostics.Error(DiagnosticCodes.UnknownColumn, reference.Location, $"{context}: `session_id: {reference.Name}` is not a column of source `{source.Name}`",
                    NameSuggester.Hint(reference.Name, source.Columns.Select(c => c.Name).ToList(), "column"));
                return null;
            }

            if (spec.Gap is not null)
            {
                binder.Diagnostics.Error(DiagnosticCodes.UnsupportedCombination, definition.At("gap"), $"{context}: give either `session_id` or `gap`, not both",
                    "with a session id column, sessions are its values; without one, a gap of inactivity ends a session");
                return null;
            }
        }

        var filter = binder.Expression(spec.Filter, source, context);
        if (spec.Filter is not null && filter is null)
            return null;
        return new SessionsMetric(definition, source, measure, gap, sessionId, filter, spec.Filter);
    }
}

/// <summary>A bound sessions metric.</summary>
public sealed record SessionsMetric(
    MetricDefinition Definition,
    BoundSource Source,
    SessionMeasure Measure,
    int GapSeconds,
    BoundColumn? SessionId,
    SqlExpr? Filter,
    SqlSnippet? FilterText) : BoundMetric(Definition)
{
    private const string Row = "e";

    /// <summary>The columns of a sessions metric's session rows.</summary>
    public const string SessionStart = "session_start";
    public const string Events = "events";
    public const string DurationSeconds = "duration_seconds";
    public const string Bounced = "bounced";

    public override MetricType Type => SessionsMetricType.Instance;

    public override IReadOnlyList<BoundSource> Sources => [Source];

    private string Sessionized => SessionId is { } id ? $"by `{id.Name}`" : $"by a {GapSeconds / 60.0:0.##}-minute gap";

    public override string Summary => Measure switch
    {
        SessionMeasure.Count => "sessions per entity",
        SessionMeasure.Duration => "mean session seconds",
        SessionMeasure.EventsPerSession => "rows per session",
        _ => "share of single-row sessions",
    } + $" of {Source.Name} {Sessionized}" + (FilterText is { } f ? $" where {f.Text}" : "");

    public override bool HasUnitValue => true;

    /// <summary>The per-session value a ratio measure sums (null for the count).</summary>
    private string? PerSession => Measure switch
    {
        SessionMeasure.Duration => DurationSeconds,
        SessionMeasure.EventsPerSession => Events,
        SessionMeasure.BounceRate => Bounced,
        _ => null,
    };

    /// <summary>Sessions starting at or after first exposure: their count as a mean, or a ratio of sums over them.</summary>
    public override ExperimentStatistics Experiment(UnitValueBuilder units)
    {
        var rows = SessionRows();
        if (PerSession is not { } value)
            return units.MeanOf(this, frame => units.Measure(frame is UnitTimeFrame.BeforeExposure ? UnitValueBuilder.Covariate(Name) : Name,
                rows, Aggregation.Count, null, null, frame, Summary), zeroWhenEmpty: true, binary: false);
        var numerator = $"{Name}__{value}";
        var denominator = $"{Name}__sessions";
        units.Column(numerator, Cast(Coalesce(units.Measure(numerator, rows, Aggregation.Sum, Col(value), null, UnitTimeFrame.After, Summary), Num(0)), SqlType.Double),
            $"{Type.Name} metric defined at {Location}: sum of {value} over the unit's sessions");
        units.Column(denominator, Cast(Coalesce(units.Measure(denominator, rows, Aggregation.Count, null, null, UnitTimeFrame.After, Summary), Num(0)), SqlType.Double),
            "the unit's sessions");
        return new RatioStatistics(numerator, denominator);
    }

    public override GrainValue AtGrain(GrainQueryBuilder query)
    {
        var rows = SessionRows();
        if (PerSession is not { } value)
            return new GrainValue(new BinaryExpr(query.Measure($"{Name}_sessions", rows, Aggregation.Count, null, null), BinaryOperator.Divide, query.Entities(rows)), false);
        return new GrainValue(query.Measure(Name, rows, Aggregation.Average, Col(value), null), false);
    }

    /// <summary>
    /// One row per session: entity, start (UTC), rows, seconds from first row to last, and 1 for a single-row session.
    /// Without a session id: <c>lag</c> gives each row's previous row of the entity; a row with none, or
    /// <see cref="GapSeconds"/> or more after it, starts a session; a running sum of starts numbers the sessions.
    /// </summary>
    public DerivedRows SessionRows()
    {
        var entity = Source.Entity.Name;
        var at = Source.EventTime.Name;
        var staged = StagedRows.Of(Source);
        var filter = Filter is null ? null : SqlExprRewriter.Qualify(Filter, Row);
        var ctes = new List<CommonTableExpression>();
        SelectQuery grouped;
        var sessionItems = new List<SelectItem>
        {
            Min(Col(at)).As(SessionStart),
            CountStar().As(Events),
            new SecondsBetweenExpr(Min(Col(at)), Max(Col(at))).As(DurationSeconds),
            StagedRows.Flag(Eq(CountStar(), Num(1))).As(Bounced),
        };
        if (SessionId is { } id)
        {
            grouped = new SelectQuery([Col(entity).Item(), Col(id.Name).As("session_key"), .. sessionItems], From(staged),
                Where: And(new IsNullExpr(Col(id.Name), Negated: true), Filter),
                GroupBy: [Col(entity), Col(id.Name)]);
        }
        else
        {
            var previous = $"{Name}_previous";
            var starts = $"{Name}_starts";
            var numbered = $"{Name}_numbered";
            ctes.Add(new CommonTableExpression(previous,
                new SelectQuery(
                    [
                        Col(Row, entity).Item(),
                        Col(Row, at).Item(),
                        new WindowExpr(Fn("lag", Col(Row, at)), [Col(Row, entity)], [new SortKey(Col(Row, at))]).As("previous_at"),
                    ],
                    From(staged, Row), Where: filter),
                $"each row with the time of the {entity}'s previous row"));
            var gapped = new BinaryExpr(new SecondsBetweenExpr(Col("previous_at"), Col(at)), BinaryOperator.GreaterOrEqual, Num(GapSeconds));
            ctes.Add(new CommonTableExpression(starts,
                new SelectQuery(
                    [
                        Col(entity).Item(),
                        Col(at).Item(),
                        StagedRows.Flag(new BinaryExpr(new IsNullExpr(Col("previous_at")), BinaryOperator.Or, gapped)).As("starts_session"),
                    ],
                    From(new CteRef(previous))),
                $"a row starts a session when it is the {entity}'s first or comes {GapSeconds} seconds or more after the previous one"));
            // Ties on the time sort the session start first, so rows at the same instant share its session on every engine.
            ctes.Add(new CommonTableExpression(numbered,
                new SelectQuery(
                    [
                        Col(entity).Item(),
                        Col(at).Item(),
                        new WindowExpr(Sum(Col("starts_session")), [Col(entity)], [new SortKey(Col(at)), new SortKey(Col("starts_session"), Descending: true)]).As("session_number"),
                    ],
                    From(new CteRef(starts))),
                "sessions numbered by a running count of starts"));
            grouped = new SelectQuery([Col(entity).Item(), Col("session_number").As("session_key"), .. sessionItems], From(new CteRef(numbered)),
                GroupBy: [Col(entity), Col("session_number")]);
        }

        var query = grouped with { With = ctes };
        return new DerivedRows($"{Name}_sessions", entity, SessionStart, query, [Source], $"`{Name}`: one row per session of `{Source.Name}` {Sessionized}");
    }
}
