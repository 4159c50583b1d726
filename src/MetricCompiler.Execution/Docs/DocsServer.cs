using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MetricCompiler.Execution.Docs;

/// <summary>
/// Serves a folder (the docs site) on 127.0.0.1 over plain HTTP/1.1: GET and HEAD of files only, one request per
/// connection. A path that leaves the folder (<c>..</c>, encoded or not, a rooted or drive path, a backslash) is refused
/// with 400 before any file is looked at; a folder serves its <c>index.html</c>. Port 0 picks a free port; <see cref="Url"/>
/// says which.
/// </summary>
public sealed class DocsServer : IAsyncDisposable
{
    private const int MaxHeaderBytes = 16 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly string _root;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private DocsServer(string root, TcpListener listener)
    {
        _root = root;
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <exception cref="SocketException">The port is taken or cannot be bound.</exception>
    public static DocsServer Start(string root, int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return new DocsServer(Path.GetFullPath(root), listener);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream, timeout.Token);
                var response = head is null ? Status(400, "Bad Request", "malformed request") : Respond(head);
                await stream.WriteAsync(response, timeout.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or took too long: nothing to answer.
            }
        }
    }

    /// <summary>The request line and headers, or null when they are malformed or too long.</summary>
    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var buffer = new byte[MaxHeaderBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), token);
            if (read == 0)
                return null;
            length += read;
            var text = Encoding.Latin1.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
                return text;
        }

        return null;
    }

    private byte[] Respond(string head)
    {
        var requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return Status(400, "Bad Request", "malformed request line");
        var method = requestLine[0];
        if (method is not ("GET" or "HEAD"))
            return Status(405, "Method Not Allowed", "only GET and HEAD", "Allow: GET, HEAD\r\n");
        var file = Resolve(requestLine[1]);
        if (file is null)
            return Status(400, "Bad Request", "the path leaves the site");
        if (Directory.Exists(file))
            file = Path.Combine(file, DocsPaths.Index);
        byte[] body;
        try
        {
            body = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Status(404, "Not Found", "no such page");
        }

        var header = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: {ContentType(file)}\r\nContent-Length: {body.Length}\r\n" +
            "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n");
        return method == "HEAD" ? header : [.. header, .. body];
    }

    /// <summary>The file a request target names inside the root, or null when it would leave the root.</summary>
    public string? Resolve(string target)
    {
        var path = target.Split('?', '#')[0];
        if (!path.StartsWith('/'))
            return null;
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(path);
        }
        catch (UriFormatException)
        {
            return null;
        }

        var segments = decoded.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (decoded.Contains('\\') || decoded.Contains('\0') || decoded.Contains(':') || segments.Any(s => s is "." or ".."))
            return null;
        var full = Path.GetFullPath(Path.Join(_root, string.Join(Path.DirectorySeparatorChar, segments)));
        var root = _root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar;
        return full == _root || full.StartsWith(root, StringComparison.Ordinal) ? full : null;
    }

    private static string ContentType(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".json" => "application/json; charset=utf-8",
        ".md" => "text/markdown; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".css" => "text/css; charset=utf-8",
        ".txt" or ".sql" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    private static byte[] Status(int code, string reason, string message, string extraHeaders = "")
    {
        var body = Encoding.UTF8.GetBytes($"{code} {reason}: {message}\n");
        return [.. Encoding.ASCII.GetBytes($"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n"), .. body];
    }
}
