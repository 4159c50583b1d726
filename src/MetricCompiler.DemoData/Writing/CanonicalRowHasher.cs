using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MetricCompiler.DemoData.Schema;

namespace MetricCompiler.DemoData.Writing;

/// <summary>
/// SHA-256 over the canonical text of one table's rows: one line per row, values separated by tabs; strings as in
/// PostgreSQL's COPY text format (backslash, tab, CR and LF escaped as <c>\\</c>, <c>\t</c>, <c>\r</c>, <c>\n</c>),
/// doubles in shortest round-trip invariant form ("R"), NULL as <c>\N</c>. The data set's checksum combines the
/// tables' digests (<see cref="CombineTableDigests"/>), so tables can be hashed while they are written side by side.
/// </summary>
internal sealed class CanonicalRowHasher : IDisposable
{
    private const int BufferSize = 1 << 16;
    private const int MaxDoubleChars = 32;
    private static readonly byte[] NullMarker = "\\N"u8.ToArray();
    private static readonly System.Buffers.SearchValues<char> CharactersToEscape = System.Buffers.SearchValues.Create("\\\t\r\n");

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _length;

    /// <summary>SHA-256 (lower-case hex) of the lines <c>table_name TAB table_digest LF</c>, in the given table order.</summary>
    public static string CombineTableDigests(IEnumerable<(TableDefinition Table, string Digest)> tableDigests)
    {
        var text = new StringBuilder();
        foreach (var (table, digest) in tableDigests)
        {
            text.Append(table.Name).Append('\t').Append(digest).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public void AppendRow(ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                AppendByte((byte)'\t');
            }

            switch (values[i])
            {
                case null or DBNull:
                    AppendBytes(NullMarker);
                    break;
                case string text:
                    AppendText(text);
                    break;
                case double number:
                    AppendDouble(number);
                    break;
                case var other:
                    throw new ArgumentException($"Unsupported value type {other.GetType().Name} in a demo row.", nameof(values));
            }
        }

        AppendByte((byte)'\n');
    }

    public string FinishHex()
    {
        Flush();
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    public void Dispose() => _hash.Dispose();

    private void AppendText(ReadOnlySpan<char> text)
    {
        while (true)
        {
            var special = text.IndexOfAny(CharactersToEscape);
            if (special < 0)
            {
                AppendUtf8(text);
                return;
            }

            AppendUtf8(text[..special]);
            AppendUtf8(text[special] switch
            {
                '\\' => "\\\\",
                '\t' => "\\t",
                '\r' => "\\r",
                _ => "\\n",
            });
            text = text[(special + 1)..];
        }
    }

    private void AppendDouble(double number)
    {
        Span<char> chars = stackalloc char[MaxDoubleChars];
        if (!number.TryFormat(chars, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"Could not format {number} canonically.");
        }

        AppendUtf8(chars[..written]);
    }

    private void AppendUtf8(ReadOnlySpan<char> text)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (maxBytes > BufferSize)
        {
            Flush();
            _hash.AppendData(Encoding.UTF8.GetBytes(text.ToArray()));
            return;
        }

        EnsureSpace(maxBytes);
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void AppendBytes(ReadOnlySpan<byte> bytes)
    {
        EnsureSpace(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void AppendByte(byte value)
    {
        EnsureSpace(1);
        _buffer[_length++] = value;
    }

    private void EnsureSpace(int bytes)
    {
        if (_length + bytes > BufferSize)
        {
            Flush();
        }
    }

    private void Flush()
    {
        _hash.AppendData(_buffer, 0, _length);
        _length = 0;
    }
}
