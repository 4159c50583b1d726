using System.Collections.Concurrent;
using System.Net;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>A webhook receiver on 127.0.0.1 (HttpListener): records every body, answers with a status or not in time.</summary>
internal sealed class WebhookServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    /// <param name="status">The HTTP status answered.</param>
    /// <param name="delay">How long to wait before answering (longer than the client's timeout: no answer in time).</param>
    public WebhookServer(int status = 200, TimeSpan? delay = null)
    {
        Port = FreePort();
        // The path plays the part of a Slack webhook's secret token: it must appear in no output or artifact.
        Url = $"http://127.0.0.1:{Port}/services/T0SECRET/B0SECRET/{Guid.NewGuid():N}";
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                Bodies.Enqueue((context.Request.HttpMethod, context.Request.ContentType, await reader.ReadToEndAsync()));
                if (delay is { } wait)
                    await Task.Delay(wait);
                try
                {
                    context.Response.StatusCode = status;
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // The client gave up first.
                }
            }
        });
    }

    public int Port { get; }

    public string Url { get; }

    public ConcurrentQueue<(string Method, string? ContentType, string Body)> Bodies { get; } = new();

    public static int FreePort()
    {
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}
