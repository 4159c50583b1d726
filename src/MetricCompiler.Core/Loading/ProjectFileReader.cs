using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using MetricCompiler.Core.Diagnostics;

namespace MetricCompiler.Core.Loading;

/// <summary>
/// Reads one project file as text, refusing what a YAML file cannot be: a path whose real location (after every
/// symlink) is outside the project folder, anything but a regular file (a FIFO would block, a device never ends), more
/// than <see cref="MaxBytes"/>, or bytes that are not UTF-8. Each refusal is a located diagnostic; nothing is thrown.
/// </summary>
internal static class ProjectFileReader
{
    /// <summary>The largest project file read (5 MiB): far above any real project, far below a memory problem.</summary>
    public const int MaxBytes = 5 * 1024 * 1024;

    public static string? Read(string root, string relativePath, DiagnosticBag diagnostics) =>
        ReadBytes(root, relativePath, diagnostics) is { } bytes ? Decode(bytes, relativePath, diagnostics) : null;

    /// <summary>The file's bytes after every check but the UTF-8 one (<see cref="Decode"/>), or null after reporting why not.</summary>
    /// <param name="paths">The real paths of the folders this load resolved already; null: every path is resolved from the root up.</param>
    public static byte[]? ReadBytes(string root, string relativePath, DiagnosticBag diagnostics, RealPaths? paths = null)
    {
        var at = new SourceLocation(relativePath, 1, 1);
        try
        {
            var realRoot = paths?.Of(Path.GetFullPath(root)) ?? RealPath(Path.GetFullPath(root));
            var full = Path.GetFullPath(Path.Combine(root, relativePath));
            var real = paths?.OfFile(full) ?? RealPath(full);
            if (!IsInside(real, realRoot))
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, at, $"`{relativePath}` resolves to `{real}`, outside the project folder",
                    "project files and includes must live under the folder of metrics.yml; copy the file in instead of linking to it");
                return null;
            }

            if (FileType(real) is { } type && type != RegularFile)
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, at, $"`{relativePath}` is not a regular file ({Describe(type)})",
                    "only regular files are read as YAML; a FIFO or device would block or never end");
                return null;
            }

            var info = new FileInfo(real);
            if (info.Length > MaxBytes)
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, at, $"`{relativePath}` is {info.Length:N0} bytes; project files are limited to {MaxBytes:N0}",
                    "split the definitions over several included files");
                return null;
            }

            var bytes = ReadAtMost(real, MaxBytes + 1);
            if (bytes.Length > MaxBytes)
            {
                diagnostics.Error(DiagnosticCodes.FileRefused, at, $"`{relativePath}` is larger than {MaxBytes:N0} bytes", "split the definitions over several included files");
                return null;
            }

            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            diagnostics.Error(DiagnosticCodes.FileNotFound, new SourceLocation(relativePath, 0, 0), $"cannot read `{relativePath}`: {e.Message}",
                "check that the file exists and is readable");
            return null;
        }
    }

    /// <summary>Strict UTF-8 (a leading byte-order mark is dropped); the first bad byte is reported at its line and column.</summary>
    internal static string? Decode(byte[] bytes, string relativePath, DiagnosticBag diagnostics)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            span = span[3..];
        if (System.Text.Unicode.Utf8.IsValid(span))
            return Encoding.UTF8.GetString(span); // the common case: no need to walk it rune by rune
        var offset = 0;
        int line = 1, column = 1;
        while (offset < span.Length)
        {
            var status = Rune.DecodeFromUtf8(span[offset..], out var rune, out var consumed);
            if (status != OperationStatus.Done)
            {
                diagnostics.Error(DiagnosticCodes.NotUtf8, new SourceLocation(relativePath, line, column),
                    $"`{relativePath}` is not UTF-8 text: byte 0x{span[offset]:X2} at offset {offset} starts no UTF-8 character",
                    "save the file as UTF-8 (most editors: File > Save with encoding > UTF-8)");
                return null;
            }

            if (rune.Value == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }

            offset += consumed;
        }

        return Encoding.UTF8.GetString(span);
    }

    /// <summary>
    /// At most <paramref name="limit"/> bytes of the file: read into one array of the size the file reports, then on in
    /// chunks if it has more than that (it grew, or it reports no size) until the end or the limit.
    /// </summary>
    private static byte[] ReadAtMost(string path, int limit)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var buffer = new byte[(int)Math.Clamp(RandomAccess.GetLength(handle), 0, limit)];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(total), total)) > 0)
            total += read;
        if (total < buffer.Length)
            return buffer[..total];
        if (total == limit)
            return buffer;
        var rest = new MemoryStream();
        rest.Write(buffer, 0, total);
        var chunk = new byte[16384];
        while (rest.Length < limit && (read = RandomAccess.Read(handle, chunk.AsSpan(0, (int)Math.Min(chunk.Length, limit - rest.Length)), rest.Length)) > 0)
            rest.Write(chunk, 0, read);
        return rest.Length == total ? buffer : rest.ToArray();
    }

    private static bool IsInside(string path, string root)
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>The path with every symlink along it resolved (like realpath(3)); a missing part is kept as written.</summary>
    internal static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var pending = new Stack<string>(fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                if (++hops > 40)
                    throw new IOException($"too many levels of symbolic links at `{next}`");
                var resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                var targetRoot = Path.GetPathRoot(resolved) ?? root;
                foreach (var p in resolved[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(p);
                current = targetRoot;
                continue;
            }

            current = next;
        }

        return current;
    }

    /// <summary>
    /// The real paths (<see cref="RealPath"/>) of the folders one load reads files from, each resolved once: the files of a
    /// project share a few folders, and resolving every component of every file's path was a third of reading it.
    /// </summary>
    internal sealed class RealPaths
    {
        private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);

        /// <summary>The real path of a folder (a full path).</summary>
        public string Of(string folder)
        {
            if (!_folders.TryGetValue(folder, out var real))
                _folders[folder] = real = RealPath(folder);
            return real;
        }

        /// <summary>The real path of a file (a full path): its folder's, then the file itself resolved when it is a link.</summary>
        public string OfFile(string fullPath)
        {
            if (Path.GetDirectoryName(fullPath) is not { } folder || Path.GetFileName(fullPath) is not { Length: > 0 } name)
                return RealPath(fullPath);
            var next = Path.Combine(Of(folder), name);
            return new FileInfo(next).LinkTarget is null ? next : RealPath(next);
        }
    }

    private const int RegularFile = 0x8000;

    private static string Describe(int type) => type switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => $"file type 0x{type:X4}",
    };

    /// <summary>The file type bits of stat(2) (S_IFMT), through statx(2) whose layout is the same on every Linux architecture; null elsewhere.</summary>
    private static int? FileType(string path)
    {
        if (!OperatingSystem.IsLinux())
            return Directory.Exists(path) ? 0x4000 : null;
        var buffer = new byte[256];
        try
        {
            if (Native.statx(-100, path, 0, 1, buffer) != 0)
                return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Directory.Exists(path) ? 0x4000 : null;
        }

        return BitConverter.ToUInt16(buffer, 28) & 0xF000;
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054, CA2101 // a plain DllImport keeps this file free of source generators
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
#pragma warning restore SYSLIB1054, CA2101
    }
}
