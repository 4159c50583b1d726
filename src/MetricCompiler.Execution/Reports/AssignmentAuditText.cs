using System.Globalization;
using MetricCompiler.Execution.Readout;

namespace MetricCompiler.Execution.Reports;

/// <summary>The assignment audit as the lines every readout format shows next to the sample ratio check.</summary>
public static class AssignmentAuditText
{
    public static string Summary(AssignmentAuditReadout audit) =>
        $"{Count(audit.UnitsChecked)} units checked against the hash (seed `{audit.Seed}`, version {audit.HashVersion}): " +
        (audit.Mismatched == 0
            ? "every logged variant is the assigned one"
            : $"{Count(audit.Mismatched)} logged in another variant ({(100 * audit.MismatchRate).ToString("0.##", CultureInfo.InvariantCulture)}%)");

    /// <summary>One line per (assigned, logged) pair with mismatches.</summary>
    public static IEnumerable<string> Pairs(AssignmentAuditReadout audit) =>
        audit.Mismatches.Select(m => $"assigned `{m.Expected}`, logged `{m.Logged}`: {Count(m.Units)}");

    /// <summary>The days with mismatches, with the day's units, in date order.</summary>
    public static string? Days(AssignmentAuditReadout audit)
    {
        var days = audit.Days.Where(d => d.Mismatched > 0).ToList();
        return days.Count == 0
            ? null
            : "by day of first exposure: " + string.Join(", ", days.Select(d => $"{d.Day:yyyy-MM-dd} {Count(d.Mismatched)} of {Count(d.Units)}"));
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
