using System.Diagnostics;
using System.Text;

namespace MetricCompiler.Integration.Tests.Reports;

/// <summary>
/// Headless Chromium for the browser test: found (or installed, on CI) by <c>scripts/chromium.sh</c>, run with a fresh
/// profile, no network services, and a hard time limit so a hang cannot stall the suite.
/// </summary>
public static class HeadlessChromium
{
    public static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> Binary = new(Locate);

    /// <summary>Chromium's path from <c>scripts/chromium.sh</c> (which installs Debian's package when missing).</summary>
    public static string Executable => Binary.Value;

    /// <summary>The page's DOM after load, as Chromium serialises it.</summary>
    public static string DumpDom(string htmlFile) => DumpUrl(new Uri(htmlFile).AbsoluteUri);

    /// <summary>The DOM of any URL (a <c>file://</c> one with a <c>#fragment</c>, or <c>http://127.0.0.1</c>), after its scripts ran.</summary>
    public static string DumpUrl(string url) => Run(["--dump-dom", url]).Output;

    public static void Screenshot(string htmlFile, string pngFile, int width = 1280, int height = 2000) =>
        ScreenshotUrl(new Uri(htmlFile).AbsoluteUri, pngFile, width, height);

    public static void ScreenshotUrl(string url, string pngFile, int width = 1280, int height = 2000)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pngFile)!);
        File.Delete(pngFile);
        var result = Run([$"--screenshot={pngFile}", $"--window-size={width},{height}", "--hide-scrollbars", url]);
        Assert.True(File.Exists(pngFile), $"chromium wrote no screenshot to {pngFile}:\n{result.Error}");
    }

    private static string Locate()
    {
        var script = Path.Combine(DemoCopy.RepositoryRoot(), "scripts", "chromium.sh");
        Assert.True(File.Exists(script), $"{script} is missing");
        // Installing the package can take minutes on a fresh CI machine; finding it takes milliseconds.
        var (exit, output, error) = Execute("bash", [script], TimeSpan.FromMinutes(10));
        var path = output.Trim();
        Assert.True(exit == 0 && File.Exists(path),
            $"the browser test needs Chromium: `scripts/chromium.sh` exited {exit} and printed `{path}`.\n{error}\n" +
            "Install Debian's `chromium` package (apt-get install chromium) or run the script as root.");
        return path;
    }

    private static (string Output, string Error) Run(IReadOnlyList<string> arguments)
    {
        var profile = Path.Combine(Path.GetTempPath(), "metricc-chromium", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        try
        {
            string[] flags =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}",
            ];
            var (exit, output, error) = Execute(Executable, [.. flags, .. arguments], BrowserTimeout);
            Assert.True(exit == 0, $"chromium exited {exit}:\n{error}");
            return (output, error);
        }
        finally
        {
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static (int Exit, string Output, string Error) Execute(string file, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"`{Path.GetFileName(file)}` did not finish within {timeout.TotalSeconds:0} s and was killed:\n{error}");
        }

        process.WaitForExit(); // drains the redirected streams
        return (process.ExitCode, output.ToString(), error.ToString());
    }
}
