using System.IO.Compression;

namespace Engine.IO;

/// <summary>
/// Reads zip archives (.npz files and optimizer states) with every check System.IO.Compression leaves out: an
/// entry's claimed size is bounded before anything is allocated, its bytes must match that size exactly, and its
/// CRC-32 must match. Every problem is an <see cref="InvalidDataException"/> made by the caller's
/// <c>corrupt</c> function, so messages name the file the way the caller does.
/// </summary>
public sealed class ZipReader : IDisposable
{
    /// <summary>Deflate expands at most about 1032 to 1; a larger claim is damage, not compression.</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>Buffers grow from this size as bytes actually arrive, so a false size claim costs nothing.</summary>
    private const int InitialBuffer = 1 << 20;

    private readonly ZipArchive zip;
    private readonly Func<string, Exception?, InvalidDataException> corrupt;

    /// <param name="stream">The archive (left open when <paramref name="leaveOpen"/>).</param>
    /// <param name="corrupt">Makes the exception for a problem (a phrase such as "the entry 'a.npy' is
    /// truncated") and its cause.</param>
    public ZipReader(Stream stream, Func<string, Exception?, InvalidDataException> corrupt, bool leaveOpen = false)
    {
        this.corrupt = corrupt;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen);
            Entries = zip.Entries;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException
                                      or NotSupportedException)
        {
            throw corrupt($"it is not a zip archive ({e.Message})", e);
        }
    }

    public IReadOnlyList<ZipArchiveEntry> Entries { get; }

    /// <summary>The bytes of one entry, at most <paramref name="maxBytes"/>, with length and CRC-32 checked.</summary>
    public byte[] Read(ZipArchiveEntry entry, long maxBytes)
    {
        long length = entry.Length;
        if (length < 0 || length > maxBytes || length > Array.MaxLength)
            throw corrupt($"the entry '{entry.FullName}' claims {length} bytes, more than the {maxBytes} it may hold",
                null);
        long packed = entry.CompressedLength;
        if (length > Math.Max(packed, 1) * MaxDeflateRatio + 1024)
            throw corrupt($"the entry '{entry.FullName}' claims {length} bytes from {packed} compressed bytes, " +
                "more than deflate can produce", null);
        var bytes = new byte[Math.Min(length, InitialBuffer)];
        long read = 0;
        bool longer;
        try
        {
            using var s = entry.Open();
            while (read < length)
            {
                if (read == bytes.Length) Array.Resize(ref bytes, (int)Math.Min(length, 2L * bytes.Length));
                int n = s.Read(bytes, (int)read, bytes.Length - (int)read);
                if (n == 0) break;
                read += n;
            }
            longer = read == length && s.ReadByte() != -1;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
        {
            throw corrupt($"the entry '{entry.FullName}' cannot be read ({e.Message})", e);
        }
        if (read < length)
            throw corrupt($"the entry '{entry.FullName}' is truncated ({read} of {length} bytes)", null);
        if (longer) throw corrupt($"the entry '{entry.FullName}' is longer than the archive says", null);
        if (Crc32.Compute(bytes) != entry.Crc32)
            throw corrupt($"the entry '{entry.FullName}' fails its CRC-32 check: the file is damaged", null);
        return bytes;
    }

    public void Dispose() => zip.Dispose();
}
