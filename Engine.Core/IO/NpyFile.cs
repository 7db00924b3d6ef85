using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Engine.IO;

/// <summary>
/// An array read from or written to NumPy's .npy format: shape, dtype and raw little-endian C-order bytes.
/// </summary>
public sealed class NpyArray
{
    public NpyArray(Shape shape, DType dtype, byte[] data)
    {
        long expected = shape.Size * dtype.SizeInBytes();
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"NpyArray: shape {shape} of {dtype.Name()} needs {expected} bytes, got {data.LongLength}.");
        Shape = shape;
        DType = dtype;
        Data = data;
    }

    public Shape Shape { get; }

    public DType DType { get; }

    public byte[] Data { get; }

    /// <summary>The elements converted to float (any numeric dtype).</summary>
    public float[] ToFloat32() => Convert(i => (float)ElementAsDouble(i));

    public double[] ToFloat64() => Convert(ElementAsDouble);

    public long[] ToInt64() => Convert(i => (long)ElementAsDouble(i));

    public static NpyArray FromFloat32(Shape shape, float[] values) =>
        new(shape, DType.Float32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private T[] Convert<T>(Func<long, T> get)
    {
        var result = new T[Shape.Size];
        for (long i = 0; i < result.LongLength; i++) result[i] = get(i);
        return result;
    }

    private double ElementAsDouble(long i)
    {
        var s = Data.AsSpan();
        int o = checked((int)(i * DType.SizeInBytes()));
        return DType switch
        {
            DType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(s[o..]),
            DType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(s[o..]),
            DType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(s[o..]),
            DType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s[o..]),
            DType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(s[o..]),
            DType.UInt8 => s[o],
            DType.Int8 => (sbyte)s[o],
            DType.Bool => s[o] != 0 ? 1 : 0,
            _ => throw new NotSupportedException(DType.Name()),
        };
    }
}

/// <summary>Reads and writes NumPy .npy files and .npz archives (uncompressed or deflated).</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>NumPy writes headers of a few hundred bytes and itself refuses ones over 10,000 by default.</summary>
    private const int MaxHeaderBytes = 1 << 20;

    public static NpyArray Read(string path)
    {
        using var stream = OpenForRead(path);
        return Read(stream, path);
    }

    /// <summary>
    /// Reads one array from <paramref name="stream"/>; <paramref name="name"/> names it in errors. Sizes the
    /// header claims are checked before anything is allocated: against the bytes left in a seekable stream, and
    /// otherwise by growing the buffer only as data arrives. A damaged file is an <see cref="InvalidDataException"/>
    /// naming it.
    /// </summary>
    public static NpyArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= "stream";
        var head = new byte[10];
        ReadExactly(stream, head, name, "header");
        if (!head.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"'{name}' is not a .npy file: the magic string \\x93NUMPY is missing.");
        int major = head[6];
        long headerLen;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8));
        }
        else if (major is 2 or 3)
        {
            var more = new byte[2];
            ReadExactly(stream, more, name, "header length");
            headerLen = BinaryPrimitives.ReadUInt32LittleEndian([head[8], head[9], more[0], more[1]]);
        }
        else
        {
            throw new InvalidDataException($"'{name}': unsupported .npy format version {major}.{head[7]}.");
        }
        if (headerLen > MaxHeaderBytes)
            throw new InvalidDataException(
                $"'{name}': the .npy header claims {headerLen} bytes; headers are a short text dictionary (at most " +
                $"{MaxHeaderBytes} bytes here), so the file is damaged.");
        CheckRemaining(stream, headerLen, name, "header dictionary");
        var header = new byte[headerLen];
        ReadExactly(stream, header, name, "header dictionary");
        var (shape, dtype) = ParseHeader(Encoding.ASCII.GetString(header), name);
        long bytes = shape.Size * dtype.SizeInBytes();
        if (shape.Size > Array.MaxLength / dtype.SizeInBytes())
            throw new InvalidDataException(
                $"'{name}': shape {shape} of {dtype.Name()} needs {bytes} bytes, more than one array can hold.");
        CheckRemaining(stream, bytes, name, "data");
        return new NpyArray(shape, dtype, ReadGrowing(stream, (int)bytes, name));
    }

    private static (Shape, DType) ParseHeader(string text, string name)
    {
        var descr = DescrRegex().Match(text);
        var order = FortranRegex().Match(text);
        var shapeMatch = ShapeRegex().Match(text);
        if (!descr.Success || !order.Success || !shapeMatch.Success)
            throw new InvalidDataException($"'{name}': malformed .npy header: {Printable(text)}");
        if (order.Groups[1].Value == "True")
            throw new InvalidDataException($"'{name}': Fortran-order arrays are not supported; save with C order.");
        string d = descr.Groups[1].Value;
        if (d.Length > 0 && d[0] == '>' && d[1..] is not ("u1" or "i1" or "b1"))
            throw new InvalidDataException($"'{name}': big-endian dtype '{d}' is not supported.");
        DType dtype;
        try
        {
            dtype = DTypeExtensions.Parse(d.TrimStart('<', '|', '='));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{name}': the .npy header's dtype: {e.Message}", e);
        }
        var parts = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out dims[i]))
                throw new InvalidDataException(
                    $"'{name}': the .npy header's shape ({shapeMatch.Groups[1].Value}) has '{Printable(parts[i])}', " +
                    $"not a size from 0 to {int.MaxValue}.");
        }
        try
        {
            return (new Shape(dims), dtype);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{name}': the .npy header's shape: {e.Message}", e);
        }
    }

    private static string Printable(string text)
    {
        var t = new string(text.Trim().Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return t.Length > 200 ? t[..200] + "..." : t;
    }

    /// <summary>In a seekable stream, the bytes a header promises must be there before they are allocated.</summary>
    private static void CheckRemaining(Stream stream, long needed, string name, string what)
    {
        if (!stream.CanSeek) return;
        long left = stream.Length - stream.Position;
        if (needed > left)
            throw new InvalidDataException(
                $"'{name}' is truncated: expected {needed} bytes of {what}, found {Math.Max(0, left)}.");
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, growing the buffer as they arrive, so a stream
    /// that ends early never costs the full claimed size.</summary>
    private static byte[] ReadGrowing(Stream stream, int count, string name)
    {
        var buffer = new byte[Math.Min(count, 1 << 20)];
        int read = 0;
        while (read < count)
        {
            if (read == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            int n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
                throw new InvalidDataException(
                    $"'{name}' is truncated: expected {count} bytes of data, found {read}.");
            read += n;
        }
        return buffer;
    }

    /// <summary>Writes <paramref name="path"/> atomically: a temporary file in the same folder replaces it only
    /// once complete, so a failed or killed save leaves the previous file as it was.</summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        AtomicFile.Write(path, "NpyFile.Write", stream => Write(stream, array));
    }

    public static void Write(Stream stream, NpyArray array)
    {
        string descr = array.DType switch
        {
            DType.UInt8 => "|u1",
            DType.Int8 => "|i1",
            DType.Bool => "|b1",
            DType.Float32 => "<f4",
            DType.Float64 => "<f8",
            DType.Float16 => "<f2",
            DType.Int32 => "<i4",
            DType.Int64 => "<i8",
            _ => throw new NotSupportedException(array.DType.Name()),
        };
        string shape = array.Shape.Rank == 1 ? $"({array.Shape[0]},)" : array.Shape.ToString();
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        dict = dict + new string(' ', pad) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)dict.Length));
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(dict));
        stream.Write(array.Data);
    }

    /// <summary>Reads every array of an .npz archive, keyed by name without the .npy suffix. Each entry's size is
    /// bounded and its CRC-32 checked (<see cref="ZipReader"/>).</summary>
    public static Dictionary<string, NpyArray> ReadArchive(string path)
    {
        using var stream = OpenForRead(path);
        using var zip = new ZipReader(stream,
            (problem, e) => new InvalidDataException($"'{path}' is not a valid .npz (zip) archive: {problem}.", e));
        var result = new Dictionary<string, NpyArray>();
        foreach (var entry in zip.Entries)
        {
            string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal)
                ? entry.FullName[..^4] : entry.FullName;
            if (result.ContainsKey(key))
                throw new InvalidDataException($"'{path}' is not a valid .npz archive: '{key}' appears twice.");
            // ZipReader bounds the claimed size by the compressed size and grows its buffer as bytes arrive.
            byte[] bytes = zip.Read(entry, Array.MaxLength);
            result[key] = Read(new MemoryStream(bytes, writable: false), $"{path}:{entry.FullName}");
        }
        return result;
    }

    /// <summary>Writes an .npz archive atomically (as <see cref="Write(string, NpyArray)"/>).</summary>
    public static void WriteArchive(string path, IReadOnlyDictionary<string, NpyArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        AtomicFile.Write(path, "NpyFile.WriteArchive", stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                using var s = zip.CreateEntry(key + ".npy", CompressionLevel.Optimal).Open();
                Write(s, array);
            }
        });
    }

    private static FileStream OpenForRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"NumPy file '{path}' does not exist.", path);
        return File.OpenRead(path);
    }

    private static void ReadExactly(Stream s, byte[] buffer, string name, string what)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = s.Read(buffer, read, buffer.Length - read);
            if (n == 0)
                throw new InvalidDataException(
                    $"'{name}' is truncated: expected {buffer.Length} bytes of {what}, found {read}.");
            read += n;
        }
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
