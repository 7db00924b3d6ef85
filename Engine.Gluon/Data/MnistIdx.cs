using System.Buffers.Binary;
using System.IO.Compression;

namespace Engine.Gluon.Data;

/// <summary>
/// Reads the IDX files of MNIST and MNIST-format datasets (Fashion-MNIST, KMNIST, ...), gzip-compressed or
/// plain. An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, then each
/// dimension as a 32-bit integer) followed by the values in row-major order; these datasets hold unsigned bytes
/// (type code 0x08). Bad files raise <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class MnistIdx
{
    private const byte UnsignedByte = 0x08;

    /// <summary>
    /// Images as float32 (samples, 1, rows, cols) scaled to [0, 1] (byte / 255, as MXNet's ToTensor), from an
    /// idx3 file. <paramref name="limit"/> reads only the first samples.
    /// </summary>
    public static NDArray ReadImages(string path, int? limit = null) =>
        ReadImages(path, limit, nameof(MnistIdx)).Images;

    /// <summary>Labels as a (samples,) array of <paramref name="dtype"/> (Float32, Int32 or UInt8), from an idx1
    /// file.</summary>
    public static NDArray ReadLabels(string path, int? limit = null, DType dtype = DType.Float32) =>
        ReadLabels(path, limit, dtype, nameof(MnistIdx)).Labels;

    /// <summary>An <see cref="ArrayDataset"/> of (image, label) from an images file and a labels file.</summary>
    public static ArrayDataset Load(string imagesPath, string labelsPath, int? limit = null,
        DType labelDType = DType.Float32)
    {
        var (images, imageCount) = ReadImages(imagesPath, limit, nameof(MnistIdx));
        using (images)
        {
            var (labels, labelCount) = ReadLabels(labelsPath, limit, labelDType, nameof(MnistIdx));
            using (labels)
            {
                CheckCounts(imagesPath, imageCount, labelsPath, labelCount, nameof(MnistIdx));
                return new ArrayDataset(images, labels);
            }
        }
    }

    internal static (NDArray Images, int Count) ReadImages(string path, int? limit, string owner)
    {
        var (dims, data) = Read(path, 3, limit, owner);
        // A table of byte / 255 in float32 gives the same values as dividing each byte, at copy speed.
        var scale = new float[256];
        for (int i = 0; i < 256; i++) scale[i] = i / 255f;
        var images = Nd.FromHost<float>(new Shape(data.Length / (dims[1] * dims[2]), 1, dims[1], dims[2]), pixels =>
        {
            for (int i = 0; i < data.Length; i++) pixels[i] = scale[data[i]];
        }, Device.Cpu);
        return (images, dims[0]);
    }

    internal static (NDArray Labels, int Count) ReadLabels(string path, int? limit, DType dtype, string owner)
    {
        if (dtype is not (DType.Float32 or DType.Int32 or DType.UInt8))
            throw new ArgumentException(
                $"{owner}: labels can be read as Float32, Int32 or UInt8, not {dtype.Name()}; cast them afterwards " +
                "with AsType.", nameof(dtype));
        var (dims, data) = Read(path, 1, limit, owner);
        var shape = new Shape(data.Length);
        var labels = dtype switch
        {
            DType.Float32 => Nd.Array(Array.ConvertAll(data, b => (float)b), shape, Device.Cpu),
            DType.Int32 => Nd.Array(Array.ConvertAll(data, b => (int)b), shape, Device.Cpu),
            _ => Nd.Array(data, shape, Device.Cpu),
        };
        return (labels, dims[0]);
    }

    internal static void CheckCounts(string imagesPath, int images, string labelsPath, int labels, string owner)
    {
        if (images != labels)
            throw new InvalidDataException(
                $"{owner}: {imagesPath} holds {images} images but {labelsPath} holds {labels} labels; the two " +
                "files must come from the same set (train or t10k).");
    }

    /// <summary>
    /// The header's dimensions and the values of the first <paramref name="limit"/> samples (all without one).
    /// </summary>
    internal static (int[] Dims, byte[] Data) Read(string path, int rank, int? limit, string owner)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (limit < 1)
            throw new ArgumentOutOfRangeException(nameof(limit),
                $"{owner}: limit must be at least 1 (or null to read every sample), got {limit}.");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{owner}: {path} was not found.", path);
        using var file = File.OpenRead(path);
        bool gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return ReadCore(stream, path, rank, limit, owner, gzip ? null : file.Length);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && e is not FileNotFoundException &&
                                  !e.Message.StartsWith(owner + ":", StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"{owner}: {path} cannot be decompressed ({e.Message}); the file is corrupt or not gzip data. " +
                "Download it again.", e);
        }
    }

    /// <param name="fileBytes">The length of an uncompressed file, checked against the header before the data is
    /// allocated; null for gzip data, whose buffer then grows only as bytes arrive.</param>
    private static (int[] Dims, byte[] Data) ReadCore(Stream stream, string path, int rank, int? limit,
        string owner, long? fileBytes)
    {
        string kind = rank == 1 ? "a labels (idx1)" : $"an idx{rank}";
        Span<byte> head = stackalloc byte[4];
        int got = ReadAtMost(stream, head);
        if (got < 4)
            throw Bad(owner, path, $"the file is {got} bytes long, too short for the 4-byte IDX magic number");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw Bad(owner, path,
                $"bad magic number 0x{magic:X8}; IDX files start with two zero bytes, a type code and the number " +
                $"of dimensions (0x{0x800 | rank:X8} for {kind} file)");
        if (head[2] != UnsignedByte)
            throw Bad(owner, path,
                $"type code 0x{head[2]:X2} in magic number 0x{magic:X8} is not supported; MNIST-format files hold " +
                "unsigned bytes (0x08)");
        if (head[3] != rank)
            throw Bad(owner, path,
                $"wrong dims: the file has {head[3]} dimensions (magic 0x{magic:X8}) but {kind} file has {rank}; " +
                "were the images and labels files swapped?");
        Span<byte> dimBytes = stackalloc byte[4 * rank];
        got = ReadAtMost(stream, dimBytes);
        if (got < dimBytes.Length)
            throw Bad(owner, path, $"the header ends after {got} of its {dimBytes.Length} bytes of dimensions");
        var dims = new int[rank];
        long sampleSize = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * i)..]);
            if (dims[i] < (i == 0 ? 0 : 1))
                throw Bad(owner, path,
                    $"wrong dims: dimension {i} is {dims[i]} ({string.Join(" x ", dims[..(i + 1)])})");
            if (i > 0) sampleSize *= dims[i];
        }
        long samples = Math.Min(dims[0], limit ?? int.MaxValue);
        long bytes = samples * sampleSize;
        if (sampleSize > Array.MaxLength || bytes > Array.MaxLength)
            throw Bad(owner, path,
                $"wrong dims: {string.Join(" x ", dims)} describe {bytes} bytes, more than one array can hold; " +
                "pass a limit to read fewer samples");
        long headerBytes = 4 + 4L * rank;
        if (fileBytes is long length && headerBytes + bytes > length)
            throw Bad(owner, path,
                $"short data: the header promises {samples} samples of {sampleSize} bytes ({bytes} bytes), but the " +
                $"file holds {length - headerBytes} bytes after its header; the file is truncated, download it again");
        var data = ReadGrowing(stream, (int)bytes, out got);
        if (got < bytes)
            throw Bad(owner, path,
                $"short data: the header promises {dims[0]} samples of {sampleSize} bytes, but the file ends after " +
                $"{got / sampleSize} whole samples ({got} of {bytes} bytes); the file is truncated, download it again");
        // Reading to the end makes GZipStream check the gzip trailer (CRC-32 and length): a damaged .gz file that
        // still inflates would otherwise load wrong values silently.
        if (fileBytes is null || limit is null)
        {
            long extra = Drain(stream);
            if (extra > 0 && samples == dims[0])
                throw Bad(owner, path,
                    $"the file has {extra} bytes after the {dims[0]} samples its header declares; it is damaged or " +
                    "not an IDX file");
        }
        return (dims, data);
    }

    /// <summary>Reads up to <paramref name="count"/> bytes, growing the buffer as they arrive (a header's claim
    /// costs nothing until the data is there); <paramref name="read"/> says how many arrived.</summary>
    private static byte[] ReadGrowing(Stream stream, int count, out int read)
    {
        var buffer = new byte[Math.Min(count, 1 << 20)];
        read = 0;
        while (read < count)
        {
            if (read == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            int n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) break;
            read += n;
        }
        return buffer;
    }

    /// <summary>Reads the stream to its end and returns how many bytes were left.</summary>
    private static long Drain(Stream stream)
    {
        var scratch = new byte[1 << 16];
        long total = 0;
        for (int n; (n = stream.Read(scratch)) > 0;) total += n;
        return total;
    }

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InvalidDataException Bad(string owner, string path, string problem) =>
        new($"{owner}: {path}: {problem}.");
}
