using System.Globalization;
using MetricCompiler.Assignment;
using MetricCompiler.Core.Semantics;

namespace MetricCompiler.Execution.Readout;

/// <summary>Units whose logged variant differs from the one the hash gives, for one (expected, logged) pair.</summary>
/// <param name="Expected">The variant the rule gives, or <see cref="AssignmentAuditor.NotInExperiment"/>.</param>
public sealed record AssignmentMismatch(string Expected, string Logged, long Units);

/// <summary>Units checked and mismatched on one day of first exposure (in the project's time zone).</summary>
public sealed record AssignmentAuditDay(DateOnly Day, long Units, long Mismatched);

/// <summary>
/// The assignment audit of an experiment that declares its assignment: each exposed unit's logged variant against the
/// variant the hash gives, with the mismatches per pair and per day and the likely causes they point to.
/// </summary>
public sealed record AssignmentAuditReadout(
    string Seed,
    int HashVersion,
    long UnitsChecked,
    long Mismatched,
    long SeveralVariants,
    IReadOnlyList<AssignmentMismatch> Mismatches,
    IReadOnlyList<AssignmentAuditDay> Days,
    IReadOnlyList<string> LikelyCauses)
{
    public double MismatchRate => UnitsChecked == 0 ? 0 : (double)Mismatched / UnitsChecked;
}

/// <summary>
/// Audits logged variants against a declared <see cref="AssignmentRule"/>. It reads one row per exposed unit (the
/// exposures table: hash value, the variant when the unit saw only one, how many it saw, first exposure), hashes each unit
/// with the SDKs' hash, and keeps only counts, so memory grows with the days and variants, not with the units.
/// </summary>
public static class AssignmentAuditor
{
    public const string NotInExperiment = "(not in experiment)";

    /// <summary>Share of all mismatches that makes one (expected, logged) pair "the" direction.</summary>
    private const double DominantShare = 0.9;

    public static AssignmentAuditReadout Audit(AssignmentRule rule, IEnumerable<IReadOnlyDictionary<string, object?>> exposedUnits, ProjectTime time)
    {
        long checkedUnits = 0, mismatched = 0, several = 0;
        var pairs = new Dictionary<(string Expected, string Logged), long>();
        var days = new SortedDictionary<DateOnly, (long Units, long Mismatched)>();
        foreach (var row in exposedUnits)
        {
            var hashValue = Text(row, "hash_value");
            if (hashValue is null)
                continue;
            if (Convert.ToInt64(row["variant_count"], CultureInfo.InvariantCulture) > 1)
            {
                several++;
                continue;
            }

            var logged = Text(row, "variant");
            if (logged is null)
                continue;
            var expected = Assigner.Assign(rule, hashValue).Variant ?? NotInExperiment;
            var day = LocalDay(row["first_exposure_at"], time);
            checkedUnits++;
            var (units, wrong) = days.GetValueOrDefault(day);
            var isMismatch = !string.Equals(expected, logged, StringComparison.Ordinal);
            days[day] = (units + 1, wrong + (isMismatch ? 1 : 0));
            if (!isMismatch)
                continue;
            mismatched++;
            pairs[(expected, logged)] = pairs.GetValueOrDefault((expected, logged)) + 1;
        }

        var mismatches = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Expected, StringComparer.Ordinal).ThenBy(p => p.Key.Logged, StringComparer.Ordinal)
            .Select(p => new AssignmentMismatch(p.Key.Expected, p.Key.Logged, p.Value)).ToList();
        var dayList = days.Select(d => new AssignmentAuditDay(d.Key, d.Value.Units, d.Value.Mismatched)).ToList();
        return new AssignmentAuditReadout(rule.Seed, rule.HashVersion, checkedUnits, mismatched, several, mismatches, dayList,
            LikelyCauses(checkedUnits, mismatched, several, mismatches, dayList));
    }

    /// <summary>What the shape of the mismatches points to; each cause names the evidence it rests on.</summary>
    private static IReadOnlyList<string> LikelyCauses(long checkedUnits, long mismatched, long several, IReadOnlyList<AssignmentMismatch> mismatches, IReadOnlyList<AssignmentAuditDay> days)
    {
        var causes = new List<string>();
        if (checkedUnits > 0 && mismatched > 0.3 * checkedUnits)
        {
            causes.Add($"{Percent(mismatched, checkedUnits)} of units disagree with the hash: the declared rule is probably not how this experiment was assigned " +
                "(check `seed`, `hash_version`, `hash_attribute` and the variant order and weights against the SDK's configuration)");
            return causes;
        }

        if (mismatched > 0)
        {
            var outside = mismatches.Where(m => m.Expected == NotInExperiment).Sum(m => m.Units);
            if (outside > 0)
                causes.Add($"{outside:N0} unit(s) were logged although the rule leaves them out (coverage or namespace): exposures are logged before the eligibility check, or the coverage changed");
            var top = mismatches.FirstOrDefault(m => m.Expected != NotInExperiment);
            if (top is not null && top.Units >= DominantShare * (mismatched - outside))
                causes.Add($"mismatches run one way: {top.Units:N0} unit(s) assigned `{top.Expected}` were logged as `{top.Logged}`. Something serves `{top.Logged}` to `{top.Expected}` units: " +
                    $"a redirect or fallback that drops the `{top.Expected}` arm, or a cache that serves a stale variant");
            else if (mismatched - outside > 0)
                causes.Add("mismatches run in every direction: the logged variant is not the assigned one for reasons unrelated to the arm (logging joins the wrong unit id, or variants are logged from another experiment)");

            var affected = days.Where(d => d.Mismatched > 0).ToList();
            var rate = (double)mismatched / checkedUnits;
            var spikes = affected.Where(d => (double)d.Mismatched / d.Units > 3 * rate || d.Mismatched == mismatched).ToList();
            if (spikes.Count > 0 && spikes.Count <= Math.Max(1, days.Count / 4) && spikes.Sum(d => d.Mismatched) >= 0.8 * mismatched)
                causes.Add($"{Percent(spikes.Sum(d => d.Mismatched), mismatched)} of mismatches fall on {string.Join(", ", spikes.Select(d => d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}: " +
                    "look for a change on those days (a deploy, a cache or CDN configuration)");
            else if (affected.Count > days.Count / 2)
                causes.Add("mismatches are spread over most days: a standing difference between the SDK and this rule or a standing bug, not a one-off incident");
        }

        if (several > 0)
            causes.Add($"{several:N0} unit(s) were logged in more than one variant: bucketing is not sticky for them (the hash attribute changes between sessions, or a client overrides the variant)");
        return causes;
    }

    private static string Percent(long part, long whole) => (100.0 * part / whole).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string? Text(IReadOnlyDictionary<string, object?> row, string column) =>
        row.TryGetValue(column, out var value) && value is not null and not DBNull ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    /// <summary>The local date of a first exposure (a native timestamp, or the ISO text SQLite stores).</summary>
    private static DateOnly LocalDay(object? value, ProjectTime time)
    {
        var utc = value switch
        {
            DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
            DateTimeOffset dto => dto.UtcDateTime,
            string text => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            _ => throw new InvalidOperationException($"first_exposure_at has an unexpected type {value?.GetType().Name ?? "null"}"),
        };
        return DateOnly.FromDateTime(time.IsUtc ? utc : TimeZoneInfo.ConvertTimeFromUtc(utc, time.Zone));
    }
}
