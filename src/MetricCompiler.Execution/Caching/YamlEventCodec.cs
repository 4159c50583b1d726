using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using TagDirective = YamlDotNet.Core.Tokens.TagDirective;

namespace MetricCompiler.Execution.Caching;

/// <summary>
/// The YAML parser's events of one file as compact bytes and back: kind, start and end marks, and per kind its
/// settings (a scalar's text, style and implicitness, a document's tag directives). It covers what project files use; a
/// file with anchors, aliases, tags or a version directive is not encoded (<see cref="TryEncode"/> is false) and is parsed every time.
/// </summary>
internal static class YamlEventCodec
{
    private enum Kind : byte
    {
        StreamStart = 1,
        StreamEnd,
        DocumentStart,
        DocumentEnd,
        MappingStart,
        MappingEnd,
        SequenceStart,
        SequenceEnd,
        Scalar,
    }

    public static byte[]? TryEncode(IReadOnlyList<ParsingEvent> events)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(events.Count);
            foreach (var e in events)
            {
                switch (e)
                {
                    case StreamStart:
                        w.Write((byte)Kind.StreamStart);
                        break;
                    case StreamEnd:
                        w.Write((byte)Kind.StreamEnd);
                        break;
                    case DocumentStart d when d.Version is null:
                        w.Write((byte)Kind.DocumentStart);
                        w.Write(d.IsImplicit);
                        w.Write7BitEncodedInt(d.Tags?.Count ?? -1);
                        foreach (var tag in d.Tags ?? [])
                        {
                            w.Write(tag.Handle);
                            w.Write(tag.Prefix);
                        }

                        break;
                    case DocumentEnd d:
                        w.Write((byte)Kind.DocumentEnd);
                        w.Write(d.IsImplicit);
                        break;
                    case MappingStart m when m.Anchor.IsEmpty && m.Tag.IsEmpty:
                        w.Write((byte)Kind.MappingStart);
                        w.Write(m.IsImplicit);
                        w.Write((byte)m.Style);
                        break;
                    case MappingEnd:
                        w.Write((byte)Kind.MappingEnd);
                        break;
                    case SequenceStart s when s.Anchor.IsEmpty && s.Tag.IsEmpty:
                        w.Write((byte)Kind.SequenceStart);
                        w.Write(s.IsImplicit);
                        w.Write((byte)s.Style);
                        break;
                    case SequenceEnd:
                        w.Write((byte)Kind.SequenceEnd);
                        break;
                    case Scalar s when s.Anchor.IsEmpty && s.Tag.IsEmpty:
                        w.Write((byte)Kind.Scalar);
                        w.Write((byte)s.Style);
                        w.Write((byte)((s.IsPlainImplicit ? 1 : 0) | (s.IsQuotedImplicit ? 2 : 0) | (s.IsKey ? 4 : 0)));
                        w.Write(s.Value);
                        break;
                    default:
                        return null; // an alias, an anchor, a tag, a directive or a comment
                }

                Write(w, e.Start);
                Write(w, e.End);
            }
        }

        return buffer.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not events this codec wrote.</exception>
    public static IReadOnlyList<ParsingEvent> Decode(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), System.Text.Encoding.UTF8);
        var count = r.Read7BitEncodedInt();
        if (count < 0 || count > bytes.Length)
            throw new InvalidDataException("bad event count");
        var events = new List<ParsingEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = (Kind)r.ReadByte();
            switch (kind)
            {
                case Kind.StreamStart:
                    events.Add(new StreamStart(Read(r), Read(r)));
                    break;
                case Kind.StreamEnd:
                    events.Add(new StreamEnd(Read(r), Read(r)));
                    break;
                case Kind.DocumentStart:
                {
                    var isImplicit = r.ReadBoolean();
                    var tagCount = r.Read7BitEncodedInt();
                    TagDirectiveCollection? tags = tagCount < 0 ? null : [];
                    for (var t = 0; t < tagCount; t++)
                        tags!.Add(new TagDirective(r.ReadString(), r.ReadString()));
                    events.Add(new DocumentStart(null, tags, isImplicit, Read(r), Read(r)));
                    break;
                }
                case Kind.DocumentEnd:
                {
                    var isImplicit = r.ReadBoolean();
                    events.Add(new DocumentEnd(isImplicit, Read(r), Read(r)));
                    break;
                }
                case Kind.MappingStart:
                {
                    var isImplicit = r.ReadBoolean();
                    var style = Style<MappingStyle>(r.ReadByte());
                    events.Add(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit, style, Read(r), Read(r)));
                    break;
                }
                case Kind.MappingEnd:
                    events.Add(new MappingEnd(Read(r), Read(r)));
                    break;
                case Kind.SequenceStart:
                {
                    var isImplicit = r.ReadBoolean();
                    var style = Style<SequenceStyle>(r.ReadByte());
                    events.Add(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit, style, Read(r), Read(r)));
                    break;
                }
                case Kind.SequenceEnd:
                    events.Add(new SequenceEnd(Read(r), Read(r)));
                    break;
                case Kind.Scalar:
                {
                    var style = Style<ScalarStyle>(r.ReadByte());
                    var flags = r.ReadByte();
                    var value = r.ReadString();
                    events.Add(new Scalar(AnchorName.Empty, TagName.Empty, value, style, (flags & 1) != 0, (flags & 2) != 0, Read(r), Read(r), (flags & 4) != 0));
                    break;
                }
                default:
                    throw new InvalidDataException($"unknown event kind {(byte)kind}");
            }
        }

        if (r.BaseStream.Position != bytes.Length)
            throw new InvalidDataException("trailing bytes after the events");
        return events;
    }

    // The styles are int enums: a byte converts without boxing, and the generic IsDefined needs no reflection per call.
    private static T Style<T>(byte value)
        where T : struct, Enum
    {
        var number = (int)value;
        var style = System.Runtime.CompilerServices.Unsafe.As<int, T>(ref number);
        return Enum.IsDefined(style) ? style : throw new InvalidDataException($"bad {typeof(T).Name} {value}");
    }

    private static void Write(BinaryWriter w, Mark mark)
    {
        w.Write7BitEncodedInt64(mark.Index);
        w.Write7BitEncodedInt64(mark.Line);
        w.Write7BitEncodedInt64(mark.Column);
    }

    private static Mark Read(BinaryReader r) => new(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
}
