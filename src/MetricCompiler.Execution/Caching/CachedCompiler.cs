using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Execution.Caching;

/// <summary>The compiled nodes, and those whose file under <c>target/compiled/</c> already holds their SQL.</summary>
public sealed record CachedCompilation(IReadOnlyList<CompiledNode> Compiled, IReadOnlySet<string> OnDisk);

/// <summary>
/// <see cref="PlanCompiler.Compile(ExecutionPlan, SqlDialect)"/> with a cache: a node whose fingerprint the cache knows,
/// and whose file in <c>target/compiled/</c> still has the checksum of the SQL rendered for it then, gets that file's
/// text; every other node is rendered and remembered. The result is the same list.
/// </summary>
public static class CachedCompiler
{
    public static CachedCompilation Compile(ExecutionPlan plan, SqlDialect dialect, IReadOnlyDictionary<string, string> fingerprints, CompileCache cache, string targetDirectory)
    {
        var renderer = SqlRenderer.ForReview(dialect);
        var result = new List<CompiledNode>(plan.Nodes.Count);
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in plan.Nodes)
        {
            if (node.Query is null || !fingerprints.TryGetValue(node.Name, out var fingerprint))
            {
                result.Add(PlanCompiler.Compile(node, renderer));
                continue;
            }

            if (cache.FindSql(node.Name, fingerprint) is { } checksum)
            {
                var reused = new CompiledNode(node, null, checksum);
                if (ReadIfUnchanged(Path.Combine(targetDirectory, reused.RelativePath), checksum) is { } sql)
                {
                    cache.Reused(node.Name, fingerprint, checksum);
                    result.Add(reused with { Sql = sql });
                    onDisk.Add(node.Name);
                    continue;
                }
            }

            var compiled = PlanCompiler.Compile(node, renderer);
            cache.Rendered(node.Name, fingerprint, compiled.Checksum);
            result.Add(compiled);
        }

        return new CachedCompilation(result, onDisk);
    }

    /// <summary>The file's text when its bytes have this SHA-256 (lower-case hex); null when missing, unreadable or changed.</summary>
    /// <remarks>Read into a pooled buffer: the bytes are only hashed and decoded, never kept.</remarks>
    private static string? ReadIfUnchanged(string path, string checksum)
    {
        byte[]? rented = null;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = RandomAccess.GetLength(handle);
            if (length > Array.MaxLength / 2)
                return null;
            rented = ArrayPool<byte>.Shared.Rent((int)length + 1);
            var total = 0;
            int read;
            while (total < rented.Length && (read = RandomAccess.Read(handle, rented.AsSpan(total), total)) > 0)
                total += read;
            if (total != length) // it changed while read: not the file the cache knows
                return null;
            var bytes = rented.AsSpan(0, total);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes, hash);
            return Convert.ToHexStringLower(hash) == checksum ? Encoding.UTF8.GetString(bytes) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
