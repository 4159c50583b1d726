using System.Text.Json.Nodes;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>
/// <c>notify: {webhook_url_env: ...}</c>: a changed decision is posted as Slack-compatible JSON to a local server; no
/// change, no post; whatever the server does, the run succeeds with a warning; the URL appears nowhere.
/// </summary>
public sealed class WebhookNotifyTests : IDisposable
{
    private readonly WarehouseProject _project = new();

    /// <summary>Each test its own variable: tests run in parallel and the environment is the process's.</summary>
    private readonly string _variable = $"METRICC_TEST_WEBHOOK_{Guid.NewGuid():N}".ToUpperInvariant();

    public WebhookNotifyTests()
    {
        ShopRun.SeedRawTables(_project);
        WithNotify($"webhook_url_env: {_variable}, timeout_seconds: 1");
    }

    private void WithNotify(string settings) =>
        _project.WriteProject(WarehouseProject.ProjectYaml.Replace("sources:\n", $"notify: {{{settings}}}\nsources:\n"));

    private (int Exit, string Out, string Err) Run(params string[] extra) => ShopRun.Cli(["run", "--project-dir", _project.Root, .. extra]);

    private string ResultsFile => ShopRun.Target(_project, "results", "checkout.json");

    /// <summary>Every file the runs left under target/ (the warehouse's bytes included), and the outputs.</summary>
    private void AssertUrlNowhere(string url, params string[] outputs)
    {
        var secret = new Uri(url).AbsolutePath;
        foreach (var text in outputs)
            Assert.DoesNotContain(secret, text);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_project.Root, "target"), "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(secret, File.ReadAllText(file));
    }

    [Fact]
    public void Posts_when_the_decision_changes_and_not_when_it_does_not()
    {
        using var server = new WebhookServer();
        Environment.SetEnvironmentVariable(_variable, server.Url);

        var first = Run();
        Assert.True(first.Exit == 0, first.Err);
        var (method, type, body) = Assert.Single(server.Bodies);
        Assert.Equal("POST", method);
        Assert.StartsWith("application/json", type);
        var decision = JsonNode.Parse(File.ReadAllText(ResultsFile))!["decision"]!.GetValue<string>();
        var label = decision.ToUpperInvariant().Replace('_', '-');
        var message = JsonNode.Parse(body)!;
        Assert.Contains($"checkout: first decision: {label}", message["text"]!.GetValue<string>());
        Assert.Contains("readouts/checkout.html", message["text"]!.GetValue<string>());
        var blocks = message["blocks"]!.AsArray();
        Assert.Equal(["header", "section", "context"], blocks.Select(b => b!["type"]!.GetValue<string>()));
        Assert.Equal($"checkout: {label}", blocks[0]!["text"]!["text"]!.GetValue<string>());
        Assert.Contains("notified the webhook", first.Out);

        var second = Run();
        Assert.True(second.Exit == 0, second.Err);
        Assert.Single(server.Bodies);
        Assert.DoesNotContain("notified", second.Out);

        // The readout the next run replaces said something else: that is a change, and it is posted.
        var other = decision == "ship" ? "no_ship" : "ship";
        File.WriteAllText(ResultsFile, File.ReadAllText(ResultsFile).Replace($"\"decision\": \"{decision}\"", $"\"decision\": \"{other}\"", StringComparison.Ordinal));
        var third = Run("--log-format", "json");
        Assert.True(third.Exit == 0, third.Err);
        Assert.Equal(2, server.Bodies.Count);
        var changed = JsonNode.Parse(server.Bodies.Last().Body)!;
        Assert.Contains($"decision changed from {other.ToUpperInvariant().Replace('_', '-')} to {label}", changed["text"]!.GetValue<string>());
        var notification = third.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).Single(e => (string)e["event"]! == "notification");
        Assert.Equal("sent", notification["status"]!.GetValue<string>());
        var run = JsonNode.Parse(File.ReadAllText(ShopRun.Target(_project, "run_results.json")))!["experiments"]![0]!;
        Assert.Equal(other, run["previous_decision"]!.GetValue<string>());
        Assert.True(run["decision_changed"]!.GetValue<bool>());

        AssertUrlNowhere(server.Url, first.Out, first.Err, second.Out, second.Err, third.Out, third.Err);
    }

    [Theory]
    [InlineData("500")]
    [InlineData("timeout")]
    [InlineData("refused")]
    public void A_failing_webhook_never_fails_the_run(string failure)
    {
        using var server = failure switch
        {
            "500" => new WebhookServer(status: 500),
            "timeout" => new WebhookServer(delay: TimeSpan.FromSeconds(4)),
            _ => null,
        };
        var url = server?.Url ?? $"http://127.0.0.1:{WebhookServer.FreePort()}/services/T0SECRET/B0SECRET/refused";
        Environment.SetEnvironmentVariable(_variable, url);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (exit, output, err) = Run();

        Assert.True(exit == ExitCodes.Success, err);
        Assert.Contains("warning: ", err);
        Assert.Contains("the run is not affected", err);
        Assert.Contains(failure switch { "500" => "answered HTTP 500", "timeout" => "did not answer within 1s", _ => "could not be posted" }, err);
        Assert.DoesNotContain("error:", err);
        Assert.Contains("Done. ", output);
        Assert.True(File.Exists(ResultsFile));
        if (failure == "timeout")
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the post was not given up after its timeout: {clock.Elapsed}");
        AssertUrlNowhere(url, output, err);
    }

    [Fact]
    public void An_unset_variable_is_a_warning_not_a_failure()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        var (exit, _, err) = Run();

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains($"warning: not notified: the environment variable `{_variable}` (notify: webhook_url_env) is not set", err);
    }

    [Fact]
    public void A_webhook_url_written_in_yaml_is_refused_without_echoing_it()
    {
        WithNotify("webhook_url: 'https://hooks.example.com/services/T0SECRET/B0SECRET/xyz'");
        var (exit, output, err) = Run();

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Matches(@"metrics\.yml:\d+:\d+: error MC1005: notify: `webhook_url` must not be written in the project file", err);
        Assert.Contains("error MC1004", err);
        Assert.DoesNotContain("T0SECRET", err + output);
    }

    [Fact]
    public void Notify_settings_out_of_range_are_located_errors()
    {
        WithNotify($"webhook_url_env: {_variable}, timeout_seconds: 0, readout_base_url: 'ftp://x', unknown: 1");
        var (exit, _, err) = ShopRun.Cli("validate", "--project-dir", _project.Root, "--offline");

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("error MC3004: notify: timeout_seconds must be above 0 and at most 60", err);
        Assert.Contains("error MC1005: notify: readout_base_url `ftp://x` is not an http(s) URL", err);
        Assert.Contains("error MC1002: notify: unknown key `unknown`", err);
    }

    [Fact]
    public void The_readout_link_uses_the_base_url_when_given()
    {
        using var server = new WebhookServer();
        Environment.SetEnvironmentVariable(_variable, server.Url);
        WithNotify($"webhook_url_env: {_variable}, readout_base_url: 'https://ci.example.com/job/7/artifacts/target/'");

        Assert.Equal(ExitCodes.Success, Run().Exit);
        var message = JsonNode.Parse(Assert.Single(server.Bodies).Body)!;
        Assert.Contains("<https://ci.example.com/job/7/artifacts/target/readouts/checkout.html|readouts/checkout.html>", message["blocks"]![2]!.ToJsonString(
            new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        _project.Dispose();
    }
}
