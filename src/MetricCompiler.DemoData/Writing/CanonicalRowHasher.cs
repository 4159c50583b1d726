using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MetricCompiler.DemoData.Schema;

namespace MetricCompiler.DemoData.Writing;

/// <summary>
/// SHA-256 over a canonical text rendering of rows: for each table <c>#table_name\n</c>, then one line per row with
/// values separated by tabs; strings verbatim, doubles in shortest round-trip invariant form ("R"), NULL as <c>\N</c>.
/// </summary>
internal sealed class CanonicalRowHasher : IDisposable
{
    private const int BufferSize = 1 << 16;
    private const int MaxDoubleChars = 32;
    private static readonly byte[] NullMarker = "\\N"u8.ToArray();

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _length;

    public void BeginTable(TableDefinition table)
    {
        AppendAscii("#");
        AppendAscii(table.Name);
        AppendByte((byte)'\n');
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
                    AppendAscii(text);
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

    private void AppendDouble(double number)
    {
        Span<char> chars = stackalloc char[MaxDoubleChars];
        if (!number.TryFormat(chars, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"Could not format {number} canonically.");
        }

        AppendAscii(chars[..written]);
    }

    private void AppendAscii(ReadOnlySpan<char> text)
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
