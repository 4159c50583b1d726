namespace MetricCompiler.Adapters;

/// <summary>
/// Named moments of a run at which the fault tests stop the process (<c>kill -9</c>) on purpose. With
/// <c>METRICC_FAULT_PAUSE=&lt;name&gt;</c> the process announces the moment on stderr and waits there (60 s, or
/// <c>METRICC_FAULT_PAUSE_SECONDS</c>, then goes on), so a test can kill it, or stop its server, at exactly that point;
/// unset, <see cref="Reach"/> does nothing.
/// </summary>
public static class FaultPoint
{
    public const string Variable = "METRICC_FAULT_PAUSE";

    /// <summary>Inside the swap's transaction: every table renamed into place, nothing committed yet.</summary>
    public const string InsideSwap = "swap";

    /// <summary>The swap committed; the run's artifacts are written under temporary names and not yet renamed into place.</summary>
    public const string AfterSwap = "after-swap";

    /// <summary>Before the node of that name is built (one thread): <c>node:&lt;name&gt;</c>.</summary>
    public static string BeforeNode(string node) => $"node:{node}";

    /// <summary>How long a paused process waits, in seconds (<c>METRICC_FAULT_PAUSE_SECONDS</c>, 60 unless set).</summary>
    public const string SecondsVariable = "METRICC_FAULT_PAUSE_SECONDS";

    /// <summary>The line a paused process writes to stderr.</summary>
    public static string Announcement(string name) => $"metricc: paused at fault point `{name}` ({Variable})";

    public static void Reach(string name)
    {
        if (Environment.GetEnvironmentVariable(Variable) != name)
            return;
        Console.Error.WriteLine(Announcement(name));
        Console.Error.Flush();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable(SecondsVariable), out var s) && s is >= 0 and <= 600 ? s : 60;
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
    }
}
