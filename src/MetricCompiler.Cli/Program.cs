using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Cli;

public static class Program
{
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error);
}
