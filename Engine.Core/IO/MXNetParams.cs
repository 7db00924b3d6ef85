using System.Buffers.Binary;
using System.Text;

namespace Engine.IO;

/// <summary>
/// MXNet's binary NDArray-list format, the <c>.params</c> files of <c>nd.save</c>, <c>save_parameters</c> and
/// <c>export</c>. Files move between this engine and MXNet in both directions; docs/file-formats.md gives the
/// layout byte by byte.
/// </summary>
/// <remarks>
/// Writes are atomic: the bytes go to a temporary file in the target's folder, which replaces the target only once
/// it is complete and flushed, so a failure never destroys an existing file. Loads check every field against the
/// format and against the bytes that remain, and report any problem as an <see cref="InvalidDataException"/> that
/// names the file and the byte offset; corrupt input never crashes, hangs or allocates more than the file holds.
/// Dense records are written as V2 (0xF993FAC9) with CPU context; a 0-d array has no V2 form (ndim 0 means "no
/// array" there), so it is written as a V3 record, MXNet's numpy-shape form. Loads accept V1, V2, V3 and pre-V1
/// records and put every array on the CPU.
/// </remarks>
public static class MXNetParams
{
    /// <summary>kMXAPINDArrayListMagic, the file's first 8 bytes.</summary>
    internal const ulong ListMagic = 0x112;

    /// <summary>Record magics: V1 (int64 dims, no storage type), V2 (storage type), V3 (numpy shapes).</summary>
    internal const uint V1Magic = 0xF993FAC8, V2Magic = 0xF993FAC9, V3Magic = 0xF993FACA;

    /// <summary>The largest rank a record may claim; more is treated as corruption.</summary>
    internal const int MaxRank = 32;

    /// <summary>The longest name accepted, in bytes (real keys are a few dozen bytes).</summary>
    internal const int MaxNameBytes = 1 << 20;

    private const int CpuDevType = 1;

    /// <summary>Saves named arrays, keys in the given order (MXNet's <c>nd.save(f, dict)</c>), atomically.</summary>
    public static void Save(string path, IReadOnlyList<KeyValuePair<string, NDArray>> arrays) =>
        SaveAtomically(path, arrays, null);

    /// <summary>Saves arrays with no names (MXNet's <c>nd.save(f, list)</c>), atomically.</summary>
    public static void SaveList(string path, IReadOnlyList<NDArray> arrays) =>
        SaveAtomically(path, Unnamed(arrays), null);

    /// <summary>Writes named arrays to <paramref name="stream"/> at its current position.</summary>
    public static void Save(Stream stream, IReadOnlyList<KeyValuePair<string, NDArray>> arrays)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (values, names) = Validate(arrays, named: true);
        WriteCore(stream, values, names);
    }

    /// <summary>Writes arrays with no names to <paramref name="stream"/> at its current position.</summary>
    public static void SaveList(Stream stream, IReadOnlyList<NDArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (values, names) = Validate(Unnamed(arrays), named: false);
        WriteCore(stream, values, names);
    }

    /// <summary>
    /// Loads every array of a .params file, in file order, on the CPU. Keys are the saved names, or empty strings
    /// when the file was saved from a list. Duplicate names are returned as they are stored.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a valid .params file; the message names the file,
    /// the byte offset and the problem.</exception>
    public static IReadOnlyList<KeyValuePair<string, NDArray>> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"MXNetParams.Load: the file '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = new Reader(stream, path);
        var result = reader.ReadList();
        if (reader.HasMore())
        {
            Dispose(result);
            throw reader.Fail(
                $"{stream.Length - reader.Position} unexpected bytes follow the name list; the file is corrupt " +
                "or is not a single .params file");
        }
        return result;
    }

    /// <summary>The arrays of a .params file in file order, without their names (MXNet's list form).</summary>
    public static IReadOnlyList<NDArray> LoadList(string path) => [.. Load(path).Select(p => p.Value)];

    /// <summary>
    /// Loads a .params list from <paramref name="stream"/>, which is left just after the name list.
    /// <paramref name="name"/> is used in error messages; offsets count from the stream's starting position.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, NDArray>> Load(Stream stream, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
            throw new ArgumentException("MXNetParams.Load: the stream is not readable.", nameof(stream));
        return new Reader(stream, name ?? "stream").ReadList();
    }

    /// <summary>Save with a hook that wraps the temporary file's stream (tests use it to inject failures).</summary>
    internal static void SaveAtomically(string path, IReadOnlyList<KeyValuePair<string, NDArray>> arrays,
        Func<Stream, Stream>? wrapStream)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool named = arrays is not UnnamedList;
        var (values, names) = Validate(arrays, named);
        AtomicFile.Write(path, "MXNetParams.Save", file =>
        {
            var stream = wrapStream?.Invoke(file) ?? file;
            WriteCore(stream, values, names);
            stream.Flush();
        });
    }

    private static (NDArray[] Values, string[]? Names) Validate(
        IReadOnlyList<KeyValuePair<string, NDArray>> arrays, bool named)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        var values = new NDArray[arrays.Count];
        var names = named ? new string[arrays.Count] : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < arrays.Count; i++)
        {
            var (key, array) = arrays[i];
            string label = named ? $"array {i} ('{key}')" : $"array {i}";
            if (array is null)
                throw new ArgumentException($"MXNetParams.Save: {label} is null; every entry needs an NDArray.",
                    nameof(arrays));
            if (array.IsDisposed)
                throw new ObjectDisposedException(nameof(NDArray),
                    $"MXNetParams.Save: {label} of shape {array.Shape} was disposed; save arrays before disposing " +
                    "them (or keep them out of the NDArray.Scope that ended).");
            if (array.Shape.Size * array.DType.SizeInBytes() > int.MaxValue)
                throw new ArgumentException(
                    $"MXNetParams.Save: {label} of shape {array.Shape} holds more than 2 GiB, the most this engine " +
                    "writes per array; split it into smaller arrays.", nameof(arrays));
            if (named)
            {
                if (key is null)
                    throw new ArgumentException($"MXNetParams.Save: {label} has a null key; give every array a name.",
                        nameof(arrays));
                if (!seen.Add(key))
                    throw new ArgumentException(
                        $"MXNetParams.Save: the key '{key}' appears twice (again at index {i}); keys must be unique, " +
                        "as in MXNet's dict.", nameof(arrays));
                names![i] = key;
            }
            values[i] = array;
        }
        return (values, names);
    }

    private static void WriteCore(Stream stream, NDArray[] arrays, string[]? names)
    {
        if (!stream.CanWrite)
            throw new ArgumentException("MXNetParams.Save: the stream is not writable.", nameof(stream));
        Span<byte> word = stackalloc byte[8];
        WriteUInt64(stream, word, ListMagic);
        WriteUInt64(stream, word, 0); // reserved
        WriteUInt64(stream, word, (ulong)arrays.Length);
        foreach (var array in arrays) WriteRecord(stream, word, array);
        WriteUInt64(stream, word, (ulong)(names?.Length ?? 0));
        if (names is null) return;
        foreach (string name in names)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(name);
            WriteUInt64(stream, word, (ulong)bytes.Length);
            stream.Write(bytes);
        }
    }

    /// <summary>One dense record: magic, stype 0, shape (int32 ndim, int64 dims), cpu(0), dtype, data.</summary>
    private static void WriteRecord(Stream stream, Span<byte> word, NDArray array)
    {
        WriteUInt32(stream, word, array.Rank == 0 ? V3Magic : V2Magic);
        WriteInt32(stream, word, 0); // default (dense) storage
        WriteInt32(stream, word, array.Rank);
        foreach (int d in array.Shape.Dims) WriteUInt64(stream, word, (ulong)d);
        WriteInt32(stream, word, CpuDevType);
        WriteInt32(stream, word, 0); // dev_id
        WriteInt32(stream, word, (int)array.DType);
        int bytes = checked((int)(array.Size * array.DType.SizeInBytes()));
        if (bytes == 0) return;
        var cpu = array.AsContiguousCpu();
        try
        {
            int start = checked((int)(cpu.Offset * cpu.DType.SizeInBytes()));
            stream.Write(cpu.RawBufferAsSpan<byte>().Slice(start, bytes));
        }
        finally
        {
            if (!ReferenceEquals(cpu, array)) cpu.Dispose();
        }
    }

    private static void WriteUInt64(Stream s, Span<byte> word, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(word, value);
        s.Write(word[..8]);
    }

    private static void WriteUInt32(Stream s, Span<byte> word, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(word, value);
        s.Write(word[..4]);
    }

    private static void WriteInt32(Stream s, Span<byte> word, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(word, value);
        s.Write(word[..4]);
    }

    private static UnnamedList Unnamed(IReadOnlyList<NDArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        return new UnnamedList(arrays);
    }

    private static void Dispose(IEnumerable<KeyValuePair<string, NDArray>> arrays)
    {
        foreach (var (_, a) in arrays) a.Dispose();
    }

    /// <summary>A list saved without names: the file's name count is 0.</summary>
    private sealed class UnnamedList(IReadOnlyList<NDArray> arrays) : IReadOnlyList<KeyValuePair<string, NDArray>>
    {
        public int Count => arrays.Count;

        public KeyValuePair<string, NDArray> this[int index] => new("", arrays[index]);

        public IEnumerator<KeyValuePair<string, NDArray>> GetEnumerator()
        {
            for (int i = 0; i < arrays.Count; i++) yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// Reads one .params list, tracking its own byte offset (the stream may not seek) and, where the stream
    /// knows its length, checking every count and size against the bytes that remain before allocating.
    /// </summary>
    private sealed class Reader(Stream stream, string name)
    {
        /// <summary>Data is read in pieces of this size from streams of unknown length, so a record that claims
        /// more bytes than the stream holds fails at the end of the stream, not at allocation.</summary>
        private const int Chunk = 1 << 24;

        private readonly long start = stream.CanSeek ? stream.Position : 0;
        private readonly byte[] word = new byte[8];

        public long Position { get; private set; }

        /// <summary>Bytes left in the stream, or null when its length is unknown.</summary>
        private long? Remaining => stream.CanSeek ? stream.Length - start - Position : null;

        public IReadOnlyList<KeyValuePair<string, NDArray>> ReadList()
        {
            long at = Position;
            ulong magic = ReadUInt64("the file header");
            if (magic != ListMagic)
                throw Fail($"this is not an MXNet .params (NDArray list) file: the header is 0x{magic:X}, " +
                    "expected 0x112; check that the file was written by nd.save, save_parameters or export", at);
            ReadUInt64("the reserved header word");
            at = Position;
            ulong count = ReadUInt64("the array count");
            // The shortest record (a pre-V1 record of rank 0) takes 4 bytes.
            if (count > int.MaxValue || (Remaining is long left && count > (ulong)left / 4))
                throw Fail($"the array count {count} is impossible: every record takes at least 4 bytes and " +
                    $"{(Remaining is long r ? $"{r} bytes remain" : "no stream holds that many")}; the file is corrupt",
                    at);
            var arrays = new List<NDArray>();
            try
            {
                for (int i = 0; i < (int)count; i++) arrays.Add(ReadRecord(i));
                var names = ReadNames(arrays.Count);
                var result = new KeyValuePair<string, NDArray>[arrays.Count];
                for (int i = 0; i < result.Length; i++) result[i] = new(names?[i] ?? "", arrays[i]);
                return result;
            }
            catch
            {
                foreach (var a in arrays) a.Dispose();
                throw;
            }
        }

        /// <summary>True when bytes follow the current position.</summary>
        public bool HasMore() => stream.CanSeek ? Remaining > 0 : stream.ReadByte() >= 0;

        public InvalidDataException Fail(string problem, long? offset = null) =>
            new($"MXNet .params file '{name}', byte offset {offset ?? Position}: {problem}.");

        private string[]? ReadNames(int count)
        {
            long at = Position;
            ulong k = ReadUInt64("the name count");
            if (k == 0) return null;
            if (k != (ulong)count)
                throw Fail($"the file holds {count} arrays but {k} names; MXNet requires no names or one per array",
                    at);
            var names = new string[count];
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            for (int i = 0; i < count; i++)
            {
                at = Position;
                ulong length = ReadUInt64($"the length of name {i}");
                if (length > MaxNameBytes || (Remaining is long left && length > (ulong)left))
                    throw Fail($"name {i} claims {length} bytes, more than " +
                        (length > MaxNameBytes ? $"the {MaxNameBytes} a name may have" : $"the {Remaining} that remain")
                        + "; the file is corrupt or truncated", at);
                var bytes = new byte[(int)length];
                at = Position;
                ReadExactly(bytes, $"name {i}");
                try
                {
                    names[i] = utf8.GetString(bytes);
                }
                catch (DecoderFallbackException)
                {
                    throw Fail($"name {i} is not valid UTF-8", at);
                }
            }
            return names;
        }

        private NDArray ReadRecord(int i)
        {
            long at = Position;
            string label = $"array {i}";
            uint magic = ReadUInt32($"{label}'s record magic");
            int[]? dims = magic switch
            {
                V2Magic or V3Magic => ReadDenseV2Shape(label, magic == V3Magic),
                V1Magic => ReadShape64(label, allowUnknown: false) is { Length: > 0 } d1 ? d1 : null,
                _ => ReadLegacyShape(label, magic, at),
            };
            if (dims is null)
                throw Fail($"{label} is an empty ('none') NDArray record with no shape or data, which this engine " +
                    "cannot represent; save only initialized arrays", at);
            var shape = new Shape(dims);
            ReadContext(label);
            var dtype = ReadDType(label);
            return ReadData(label, shape, dtype);
        }

        /// <summary>V2/V3 after the magic: storage type, then the shape; null for a "none" record.</summary>
        private int[]? ReadDenseV2Shape(string label, bool v3)
        {
            long at = Position;
            int stype = ReadInt32($"{label}'s storage type");
            if (stype is 1 or 2)
                throw Fail($"{label} uses sparse storage ({(stype == 1 ? "row_sparse" : "csr")}), which this " +
                    "engine does not support; convert it in MXNet with arr.tostype('default') and save again", at);
            if (stype != 0)
                throw Fail($"{label} has storage type {stype}; expected 0 (dense), 1 (row_sparse) or 2 (csr)", at);
            // V2 (legacy shape semantics): ndim 0 or -1 is "none". V3 (numpy semantics): ndim 0 is a scalar and
            // -1 in ndim or any dim means an unknown shape, which MXNet also loads as "none".
            var dims = ReadShape64(label, allowUnknown: true);
            if (dims is null) return null;
            if (!v3 && dims.Length == 0) return null;
            if (v3 && Array.IndexOf(dims, -1) >= 0) return null;
            return dims;
        }

        /// <summary>An int32 ndim and ndim int64 dims; null for ndim -1 when <paramref name="allowUnknown"/>.</summary>
        private int[]? ReadShape64(string label, bool allowUnknown)
        {
            long at = Position;
            int ndim = ReadInt32($"{label}'s rank (ndim)");
            if (ndim == -1 && allowUnknown) return null;
            if (ndim < 0 || ndim > MaxRank)
                throw Fail($"{label} claims rank {ndim}; a rank must be in [0, {MaxRank}], so the file is corrupt", at);
            var dims = new int[ndim];
            for (int d = 0; d < ndim; d++)
            {
                long dimAt = Position;
                long value = ReadInt64($"dimension {d} of {label}");
                if (value == -1 && allowUnknown)
                {
                    dims[d] = -1;
                    continue;
                }
                if (value < 0 || value > int.MaxValue)
                    throw Fail($"dimension {d} of {label} is {value}, not a size in [0, {int.MaxValue}]; the file is " +
                        "corrupt", dimAt);
                dims[d] = (int)value;
            }
            return dims;
        }

        /// <summary>Pre-V1 records: the first uint32 is the rank, then uint32 dims; rank 0 is "none".</summary>
        private int[]? ReadLegacyShape(string label, uint ndim, long at)
        {
            if (ndim > MaxRank)
                throw Fail($"{label} starts with 0x{ndim:X8}, which is neither a record magic (V1 0xF993FAC8, " +
                    $"V2 0xF993FAC9, V3 0xF993FACA) nor a pre-V1 rank (at most {MaxRank}); the file is corrupt", at);
            if (ndim == 0) return null;
            var dims = new int[ndim];
            for (int d = 0; d < dims.Length; d++)
            {
                long dimAt = Position;
                uint value = ReadUInt32($"dimension {d} of {label}");
                if (value > int.MaxValue)
                    throw Fail($"dimension {d} of {label} is {value}, not a size in [0, {int.MaxValue}]; the file is " +
                        "corrupt", dimAt);
                dims[d] = (int)value;
            }
            return dims;
        }

        private void ReadContext(string label)
        {
            long at = Position;
            int devType = ReadInt32($"{label}'s device type");
            if (devType is not (1 or 2 or 3 or 5))
                throw Fail($"{label} has device type {devType}; expected 1 (cpu), 2 (gpu), 3 (cpu_pinned) or " +
                    "5 (cpu_shared)", at);
            at = Position;
            int devId = ReadInt32($"{label}'s device id");
            if (devId < 0)
                throw Fail($"{label} has device id {devId}; expected a non-negative id", at);
        }

        private DType ReadDType(string label)
        {
            long at = Position;
            int flag = ReadInt32($"{label}'s dtype code");
            if (flag is >= 0 and <= 7) return (DType)flag;
            string? known = flag switch
            {
                8 => "int16",
                9 => "uint16",
                10 => "uint32",
                11 => "uint64",
                12 => "bfloat16",
                _ => null,
            };
            throw known is null
                ? Fail($"{label} has dtype code {flag}, which no MXNet version defines (0..12); the file is corrupt",
                    at)
                : Fail($"{label} has dtype {known} (code {flag}), which this engine does not support; in MXNet " +
                    "convert it with arr.astype('float32') (or int32/int64) and save again", at);
        }

        private NDArray ReadData(string label, Shape shape, DType dtype)
        {
            long at = Position;
            long bytes;
            try
            {
                // Shape.Size does not check for overflow; a corrupt file may claim dims whose product wraps.
                bytes = dtype.SizeInBytes();
                foreach (int d in shape.Dims) bytes = checked(bytes * d);
            }
            catch (OverflowException)
            {
                throw Fail($"{label} of shape {shape} has more elements than any file can hold; the file is corrupt",
                    at);
            }
            if (Remaining is long left && bytes > left)
                throw Fail($"{label} of shape {shape} and dtype {dtype.Name()} needs {bytes} bytes of data but only " +
                    $"{left} remain; the file is truncated or corrupt", at);
            if (bytes > int.MaxValue)
                throw Fail($"{label} of shape {shape} holds {bytes} bytes; this engine reads arrays of at most " +
                    "2 GiB", at);
            byte[]? staged = stream.CanSeek ? null : ReadStaged((int)bytes, label);
            var array = NDArray.Empty(shape, dtype, Device.Cpu);
            try
            {
                var target = array.RawBufferAsSpan<byte>()[..(int)bytes];
                if (staged is null) ReadExactly(target, $"{label}'s data");
                else staged.CopyTo(target);
                if (dtype == DType.Bool)
                {
                    for (int k = 0; k < target.Length; k++) target[k] = target[k] != 0 ? (byte)1 : (byte)0;
                }
                return array;
            }
            catch
            {
                array.Dispose();
                throw;
            }
        }

        /// <summary>Reads data from a stream of unknown length in chunks: memory follows the bytes present.</summary>
        private byte[] ReadStaged(int bytes, string label)
        {
            if (bytes <= Chunk)
            {
                var small = new byte[bytes];
                ReadExactly(small, $"{label}'s data");
                return small;
            }
            var pieces = new List<byte[]>();
            for (int done = 0; done < bytes; done += Chunk)
            {
                var piece = new byte[Math.Min(Chunk, bytes - done)];
                ReadExactly(piece, $"{label}'s data (from byte {done} of {bytes})");
                pieces.Add(piece);
            }
            var all = new byte[bytes];
            int o = 0;
            foreach (var p in pieces)
            {
                p.CopyTo(all, o);
                o += p.Length;
            }
            return all;
        }

        private uint ReadUInt32(string what)
        {
            ReadExactly(word.AsSpan(0, 4), what);
            return BinaryPrimitives.ReadUInt32LittleEndian(word);
        }

        private int ReadInt32(string what)
        {
            ReadExactly(word.AsSpan(0, 4), what);
            return BinaryPrimitives.ReadInt32LittleEndian(word);
        }

        private ulong ReadUInt64(string what)
        {
            ReadExactly(word.AsSpan(0, 8), what);
            return BinaryPrimitives.ReadUInt64LittleEndian(word);
        }

        private long ReadInt64(string what)
        {
            ReadExactly(word.AsSpan(0, 8), what);
            return BinaryPrimitives.ReadInt64LittleEndian(word);
        }

        private void ReadExactly(Span<byte> buffer, string what)
        {
            int read = 0;
            while (read < buffer.Length)
            {
                int n = stream.Read(buffer[read..]);
                if (n == 0)
                    throw Fail($"the file is truncated: {what} needs {buffer.Length} bytes but only {read} remain");
                read += n;
            }
            Position += read;
        }
    }
}
