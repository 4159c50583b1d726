using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Execution.Notify;

/// <summary>What became of one notification: <c>sent</c>, or <c>failed</c> with a reason that never contains the URL.</summary>
public sealed record NotificationResult(string ExperimentId, string Status, string Message)
{
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>
/// Posts a Slack-compatible message (<c>{"text": ..., "blocks": [...]}</c>) for every experiment whose decision changed.
/// A notification is a courtesy: whatever the server does (refuses the connection, answers 500, never answers), the run
/// has already succeeded, so every failure is a result with a reason, never an exception. The URL comes from the
/// environment variable the project names and appears in no message.
/// </summary>
public static class WebhookNotifier
{
    public static IReadOnlyList<NotificationResult> Notify(NotifySettings settings, string project, string target, string targetDirectory,
        IReadOnlyList<ExperimentDecision> decisions, Func<string, string?>? environment = null)
    {
        var changed = decisions.Where(d => d.Changed).ToList();
        if (changed.Count == 0)
            return [];
        var variable = settings.WebhookUrlEnv.Name;
        var url = (environment ?? Environment.GetEnvironmentVariable)(variable);
        if (string.IsNullOrWhiteSpace(url))
            return changed.Select(d => new NotificationResult(d.ExperimentId, NotificationResult.Failed,
                $"not notified: the environment variable `{variable}` (notify: webhook_url_env) is not set")).ToList();
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return changed.Select(d => new NotificationResult(d.ExperimentId, NotificationResult.Failed,
                $"not notified: the value of `{variable}` is not an http(s) URL")).ToList();

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds) };
        var results = new List<NotificationResult>();
        foreach (var decision in changed)
        {
            var payload = Payload(decision, project, target, ReadoutLink(settings, targetDirectory, decision)).ToJsonString();
            results.Add(Post(client, uri, payload, decision, settings.TimeoutSeconds));
        }

        return results;
    }

    /// <summary>Where the readout is read: <c>readout_base_url</c> plus its path, or its absolute path on disk.</summary>
    public static string ReadoutLink(NotifySettings settings, string targetDirectory, ExperimentDecision decision) =>
        settings.ReadoutBaseUrl is { } baseUrl
            ? $"{baseUrl.TrimEnd('/')}/{decision.HtmlPath}"
            : Path.GetFullPath(Path.Combine(targetDirectory, decision.HtmlPath));

    /// <summary>The message: <c>text</c> for clients that read only that, <c>blocks</c> for Slack's layout.</summary>
    public static JsonObject Payload(ExperimentDecision decision, string project, string target, string readout)
    {
        var now = ExperimentDecision.Label(decision.Decision);
        var was = decision.PreviousDecision is { } previous ? ExperimentDecision.Label(previous) : null;
        var title = decision.Name is { } name ? $"{decision.ExperimentId} ({name})" : decision.ExperimentId;
        var change = was is null ? $"first decision: {now}" : $"decision changed from {was} to {now}";
        var isUrl = readout.StartsWith("http://", StringComparison.Ordinal) || readout.StartsWith("https://", StringComparison.Ordinal);
        var link = isUrl ? $"<{readout}|{decision.HtmlPath}>" : $"`{readout}`";
        var reasons = string.Join("\n", decision.Reasons.Select(r => $"• {r}"));
        return new JsonObject
        {
            ["text"] = $"Experiment {title}: {change}. Readout: {readout}",
            ["blocks"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "header",
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Truncate($"{decision.ExperimentId}: {now}", 150) },
                },
                new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject
                    {
                        ["type"] = "mrkdwn",
                        ["text"] = Truncate($"*{title}*: {change}{(reasons.Length > 0 ? "\n" + reasons : "")}", 3000),
                    },
                },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "mrkdwn",
                        ["text"] = Truncate($"project `{project}`, target `{target}` · readout: {link}", 3000),
                    }),
                }),
        };
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static NotificationResult Post(HttpClient client, Uri uri, string payload, ExperimentDecision decision, double timeout)
    {
        try
        {
            using var content = new StringContent(payload, Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
            using var response = client.Send(request);
            var code = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new NotificationResult(decision.ExperimentId, NotificationResult.Sent, $"notified the webhook: `{decision.ExperimentId}` is now {ExperimentDecision.Label(decision.Decision)}")
                : new NotificationResult(decision.ExperimentId, NotificationResult.Failed, $"the webhook answered HTTP {code} to the notification for `{decision.ExperimentId}`; the run is not affected");
        }
        catch (OperationCanceledException)
        {
            return new NotificationResult(decision.ExperimentId, NotificationResult.Failed,
                $"the webhook did not answer within {timeout:0.#}s (notify: timeout_seconds) for `{decision.ExperimentId}`; the run is not affected");
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or System.Net.Sockets.SocketException)
        {
            // The exception's own message can quote the host; the reason is named without it.
            var why = e is HttpRequestException { HttpRequestError: var error } ? error.ToString() : e.GetType().Name;
            return new NotificationResult(decision.ExperimentId, NotificationResult.Failed,
                $"the notification for `{decision.ExperimentId}` could not be posted ({why}); the run is not affected");
        }
    }
}
