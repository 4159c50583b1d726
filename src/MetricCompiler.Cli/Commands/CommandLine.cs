using System.CommandLine;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Cli.Commands;

/// <summary>
/// The <c>metricc</c> command line. Exit codes follow dbt: 0 success, 1 invalid project or failed run, 2 bad usage;
/// 3 the warehouse could not be opened or reached (retrying is safe). docs/orchestration.md lists them for schedulers.
/// </summary>
public static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error, Func<Spectre.Console.IAnsiConsole>? terminal = null)
    {
        var root = new RootCommand("metricc: compiles metric and experiment YAML into warehouse SQL, runs it, and reads out experiments.");
        var context = new CommandContext(output, error, terminal);
        foreach (var command in ProjectCommands.All(context).Concat(QueryCommands.All(context)).Concat(StatisticsCommands.All(context)))
            root.Subcommands.Add(command);
        root.Subcommands.Add(SimulateCommand.Create(context));
        root.Subcommands.Add(AssignCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(DiffCommand.Create(context));
        root.Subcommands.Add(DocsCommand.Create(context));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
                error.WriteLine($"error: {problem.Message}");
            error.WriteLine("run `metricc --help` for usage");
            return ExitCodes.Usage;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The last line of defence: every expected failure has its own message; this one still names the problem,
            // never prints a stack trace unless asked for, and exits 1.
            error.WriteLine($"error: metricc failed unexpectedly: {e.Message} ({e.GetType().Name})");
            error.WriteLine(Environment.GetEnvironmentVariable("METRICC_DEBUG") == "1"
                ? e.ToString()
                : "this is a bug in metricc; rerun with METRICC_DEBUG=1 to see where it happened, and report it");
            return ExitCodes.Failure;
        }
    }
}

/// <summary>Bad usage detected after parsing (an unreadable input file, say): exit code 2, no stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Where a command writes.</summary>
/// <param name="Terminal">The console to draw the live display of <c>run</c>/<c>build</c> on, when stdout is a terminal; null otherwise (plain lines).</param>
public sealed record CommandContext(TextWriter Output, TextWriter Error, Func<Spectre.Console.IAnsiConsole>? Terminal = null);
