using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Cli;

public static class Program
{
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error, Terminal());

    /// <summary>
    /// The live display needs a terminal: stdout not redirected (a pipe, a file, a CI log) and a <c>TERM</c> that can
    /// move the cursor. Otherwise <c>run</c> and <c>build</c> print plain lines.
    /// </summary>
    private static Func<Spectre.Console.IAnsiConsole>? Terminal() =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb")
            ? () => Spectre.Console.AnsiConsole.Console
            : null;
}
