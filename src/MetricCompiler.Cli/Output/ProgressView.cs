using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MetricCompiler.Cli.Output;

/// <summary>Draws one frame of the live display from a <see cref="ProgressSnapshot"/> (pure: same snapshot, same frame).</summary>
public static class ProgressView
{
    private const int BarWidth = 30;

    public static IRenderable Render(string command, ProgressSnapshot s, TimeSpan elapsed)
    {
        var lines = new List<IRenderable>();
        var filled = s.Total == 0 ? 0 : (int)Math.Round(BarWidth * (double)s.Done / s.Total);
        var bar = new string('#', filled) + new string('-', BarWidth - filled);
        var state = s.Finished ? "finished" : $"{s.Running.Count} running";
        // Two short lines rather than one long one: a frame that wraps on an 80-column terminal redraws badly.
        lines.Add(new Markup(
            $"[bold]metricc {Markup.Escape(command)}[/]{(s.Target is null ? "" : $" on [blue]{Markup.Escape(s.Target)}[/]")}: " +
            $"[bold]{s.Done} of {s.Total}[/] nodes done, {state}, elapsed {Clock(elapsed)}"));
        var percent = s.Total == 0 ? 0 : (int)Math.Floor(100.0 * s.Done / s.Total);
        lines.Add(new Markup($"  [[{bar}]] {percent}%"));
        var counts = string.Join(", ", s.Nodes.Select(n => $"{n.Value} {n.Key}"));
        var tests = string.Join(", ", s.Tests.Select(t => $"{t.Value} {t.Key}"));
        if (counts.Length > 0 || tests.Length > 0)
            lines.Add(new Markup(Markup.Escape($"  nodes: {(counts.Length > 0 ? counts : "none yet")}{(tests.Length > 0 ? $"; tests: {tests}" : "")}")));
        foreach (var node in s.Running)
            lines.Add(new Markup($"  [yellow]running[/] {Markup.Escape(node.Kind)} {Markup.Escape(node.Name)} ({Clock(elapsed - node.Since)})"));
        foreach (var line in s.Recent)
            lines.Add(new Markup($"  [grey]{Markup.Escape(line)}[/]"));
        foreach (var failure in s.Failures)
            lines.Add(new Markup($"  [red]failed[/] {Markup.Escape(failure)}"));
        foreach (var note in s.Notes)
            lines.Add(new Markup($"  [grey]note:[/] {Markup.Escape(note)}"));
        return new Rows(lines);
    }

    /// <summary><c>mm:ss</c>, or <c>h:mm:ss</c> past an hour.</summary>
    public static string Clock(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
            t = TimeSpan.Zero;
        return t.TotalHours >= 1
            ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
    }
}
