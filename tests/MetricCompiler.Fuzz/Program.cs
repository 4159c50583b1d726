using System.Globalization;

namespace MetricCompiler.Fuzz;

/// <summary>
/// <c>dotnet run --project tests/MetricCompiler.Fuzz -c Release -- [--cases N] [--seed S] [--case K] [--save DIR] [--timeout SECONDS]</c>:
/// runs the fuzzer, prints the count and every failure, exits 1 if any case failed. <c>--case K</c> reruns one case.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        long cases = 100_000, only = -1;
        ulong seed = 1;
        string? save = null;
        var timeout = FuzzRunner.DefaultTimeBound;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--cases": cases = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--case": only = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--save": save = value; i++; break;
                case "--timeout": timeout = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)); i++; break;
                default:
                    Console.Error.WriteLine($"error: unknown argument `{args[i]}`; usage: --cases N --seed S [--case K] [--save DIR] [--timeout SECONDS]");
                    return 2;
            }
        }

        var runner = new FuzzRunner(RepositoryRoot());
        var summary = only >= 0 ? runner.Run(1, seed, timeout, workers: 1, firstCase: only) : runner.Run(cases, seed, timeout);
        Console.WriteLine(summary.Line);
        foreach (var failure in summary.Failures)
        {
            Console.WriteLine($"FAIL case {failure.Case} (seed {seed}): {failure.File} after {failure.Mutation}: {failure.Outcome}: {failure.Failure}");
            if (save is not null)
            {
                Directory.CreateDirectory(save);
                File.WriteAllBytes(Path.Combine(save, $"seed{seed}-case{failure.Case}-{Path.GetFileName(failure.File)}"), failure.Input);
            }
        }

        return summary.Failures.Count == 0 ? 0 : 1;
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MetricCompiler.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("MetricCompiler.sln not found above " + AppContext.BaseDirectory);
    }
}
