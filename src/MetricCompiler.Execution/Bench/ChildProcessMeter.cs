using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace MetricCompiler.Execution.Bench;

/// <summary>A finished child process: its exit code, wall seconds, peak resident memory (bytes) and its output.</summary>
public sealed record ChildRun(int ExitCode, double Seconds, long PeakRssBytes, string Output, string Error);

/// <summary>
/// Runs a command as a child process and measures its wall time and peak resident set size: the kernel's high-water
/// mark <c>VmHWM</c> of <c>/proc/&lt;pid&gt;/status</c>, read every 10 ms while it runs, and after it exits the
/// <c>getrusage(RUSAGE_CHILDREN)</c> maximum, which is exact for this child whenever it rose past every earlier child's.
/// </summary>
public static class ChildProcessMeter
{
    public static ChildRun Run(string fileName, IReadOnlyList<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var before = ChildrenMaxRss();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var polled = 0L;
        while (!process.WaitForExit(10))
            polled = Math.Max(polled, HighWaterMark(process.Id));
        process.WaitForExit();
        var seconds = clock.Elapsed.TotalSeconds;
        var after = ChildrenMaxRss();
        var peak = after > before ? Math.Max(after, polled) : polled;
        return new ChildRun(process.ExitCode, seconds, peak, output.Result, error.Result);
    }

    /// <summary>VmHWM of a live process in bytes; 0 when it is gone or the system has no /proc.</summary>
    private static long HighWaterMark(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    continue;
                var kilobytes = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }

    /// <summary>The largest peak RSS of the children waited for so far, in bytes (Linux reports kilobytes); 0 elsewhere.</summary>
    private static long ChildrenMaxRss()
    {
        if (!OperatingSystem.IsLinux())
            return 0;
        var usage = new long[18]; // struct rusage: two timevals, then fourteen longs (ru_maxrss first)
        return NativeMethods.getrusage(-1, usage) == 0 ? usage[4] * 1024 : 0;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a plain long[] needs no marshalling code; LibraryImport would need unsafe code here
        public static extern int getrusage(int who, [Out] long[] usage);
#pragma warning restore SYSLIB1054
    }
}
