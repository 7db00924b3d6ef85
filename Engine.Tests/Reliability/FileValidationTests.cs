using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Engine.Gluon.Data;
using Engine.IO;

namespace Engine.Tests.Reliability;

public class FileValidationTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() =>
        folder = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), $"engine-files-{Guid.NewGuid():N}")).FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    /// <summary>A version-1 .npy header (padded as NumPy pads it) with any dictionary text.</summary>
    internal static byte[] NpyHeader(string dict, int major = 1)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        byte[] text = Encoding.ASCII.GetBytes(dict + "\n");
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)text.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(text);
        return [.. bytes];
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            action();
        }
        catch (InvalidDataException)
        {
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Test]
    public void AnNpyHeaderClaimingMoreThanTheFileHoldsAllocatesNothing()
    {
        byte[] file = [.. NpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (20000, 20000), }"), 1, 2, 3];
        var e = Should.Throw<InvalidDataException>(() => NpyFile.Read(new MemoryStream(file), "big.npy"));
        e.Message.ShouldContain("big.npy");
        Allocated(() => NpyFile.Read(new MemoryStream(file), "big.npy")).ShouldBeLessThan(64 * 1024);
        // Not seekable (as an .npz entry): the buffer grows only as data arrives.
        Allocated(() => NpyFile.Read(new BufferedStream(new NonSeekable(file)), "big.npy"))
            .ShouldBeLessThan(4 << 20);
    }

    [Test]
    public void AVersion2HeaderLengthOfTwoGigabytesAllocatesNothing()
    {
        // Version 2.0 with a 4-byte header length of 0x77359400 = 2,000,000,000.
        var file = new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0, 0x94, 0x35,
            0x77 };
        var e = Should.Throw<InvalidDataException>(() => NpyFile.Read(new MemoryStream(file), "long.npy"));
        e.Message.ShouldContain("long.npy");
        Allocated(() => NpyFile.Read(new MemoryStream(file), "long.npy")).ShouldBeLessThan(64 * 1024);
    }

    [TestCase("(99999999999,)")]
    [TestCase("(-3, 2)")]
    [TestCase("(2147483647, 2147483647, 2147483647)")]
    [TestCase("(2, x)")]
    public void MalformedOrHugeShapesAreInvalidDataNamingTheFile(string shape)
    {
        byte[] file = [.. NpyHeader($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"), 0, 0, 0, 0];
        var e = Should.Throw<InvalidDataException>(() => NpyFile.Read(new MemoryStream(file), "odd.npy"));
        e.Message.ShouldContain("odd.npy");
    }

    [Test]
    public void AnUnknownDTypeIsInvalidDataNamingTheFile()
    {
        byte[] file = NpyHeader("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }");
        Should.Throw<InvalidDataException>(() => NpyFile.Read(new MemoryStream(file), "c.npy"))
            .Message.ShouldContain("c.npy");
    }

    [Test]
    public void ShapeSizesAreCheckedForOverflow()
    {
        Should.Throw<ArgumentException>(() => new Shape(int.MaxValue, int.MaxValue, int.MaxValue))
            .Message.ShouldContain("64-bit");
        new Shape(int.MaxValue, int.MaxValue, int.MaxValue, 0).Size.ShouldBe(0);
        new Shape(int.MaxValue, int.MaxValue).Size.ShouldBe((long)int.MaxValue * int.MaxValue);
    }

    internal static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AnIdxHeaderClaimingTwoGigabytesAllocatesNothing(bool gzip)
    {
        byte[] idx = Idx([30000, 256, 256], new byte[100]);
        string path = Path.Combine(folder, gzip ? "images.gz" : "images");
        File.WriteAllBytes(path, gzip ? Gzip(idx) : idx);
        Should.Throw<InvalidDataException>(() => MnistIdx.ReadImages(path)).Message.ShouldContain(path);
        Allocated(() => MnistIdx.Read(path, 3, null, "MnistIdx")).ShouldBeLessThan(4 << 20);
    }

    [Test]
    public void EverySingleBitFlipOfAGzipLabelsFileIsCaughtOrHarmless()
    {
        var labels = new byte[300];
        var rng = new Random(13);
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)rng.Next(10);
        byte[] gz = Gzip(Idx([300], labels));
        string path = Path.Combine(folder, "labels.gz");
        int silent = 0, caught = 0;
        for (int bit = 0; bit < gz.Length * 8; bit += 3)
        {
            var damaged = (byte[])gz.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            File.WriteAllBytes(path, damaged);
            try
            {
                var (_, data) = MnistIdx.Read(path, 1, null, "MnistIdx");
                // The gzip header's flag and time fields are not covered by the CRC; the data must still be right.
                if (!data.AsSpan().SequenceEqual(labels)) silent++;
            }
            catch (InvalidDataException)
            {
                caught++;
            }
        }
        silent.ShouldBe(0, "a damaged file loaded with wrong labels");
        caught.ShouldBeGreaterThan(gz.Length * 8 / 3 - 40);
        // The trailer is the CRC-32 and length of the data: damage there is damage to the file.
        for (int i = gz.Length - 8; i < gz.Length; i++)
        {
            var damaged = (byte[])gz.Clone();
            damaged[i] ^= 0x10;
            File.WriteAllBytes(path, damaged);
            Should.Throw<InvalidDataException>(() => MnistIdx.ReadLabels(path)).Message.ShouldContain(path);
        }
    }

    [Test]
    public void ANpzEntryWithABadCrcIsAnErrorNotWrongValues()
    {
        // NumPy's savez stores entries uncompressed; one changed byte of data leaves a readable array.
        var ms = new MemoryStream();
        NpyFile.Write(ms, NpyArray.FromFloat32(new Shape(4), [1, 2, 3, 4]));
        byte[] npy = ms.ToArray();
        string path = Path.Combine(folder, "a.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("a.npy", CompressionLevel.NoCompression).Open())
            s.Write(npy);
        byte[] file = File.ReadAllBytes(path);
        int at = file.AsSpan().IndexOf(npy.AsSpan(npy.Length - 16)) + 14;
        file[at] ^= 0x01;
        File.WriteAllBytes(path, file);
        var e = Should.Throw<InvalidDataException>(() => NpyFile.ReadArchive(path));
        e.Message.ShouldContain(path);
        e.Message.ShouldContain("CRC-32");
    }

    [Test]
    public void AFailedArchiveWriteLeavesThePreviousFileAndNoTemporaryFile()
    {
        string path = Path.Combine(folder, "w.npz");
        var a = NpyArray.FromFloat32(new Shape(2), [1, 2]);
        NpyFile.WriteArchive(path, new Dictionary<string, NpyArray> { ["a"] = a });
        byte[] before = File.ReadAllBytes(path);
        var other = NpyArray.FromFloat32(new Shape(2), [5, 6]);
        Should.Throw<InvalidOperationException>(() => NpyFile.WriteArchive(path, new FailingDictionary(other)));
        File.ReadAllBytes(path).ShouldBe(before);
        Directory.GetFiles(folder).ShouldBe([path]);
    }

    [Test]
    public void WriteErrorsNameTheTargetNotATemporaryFile()
    {
        string target = Path.Combine(folder, "sub");
        Directory.CreateDirectory(target);
        var a = NpyArray.FromFloat32(new Shape(2), [1, 2]);
        var e = Should.Throw<IOException>(() => NpyFile.Write(target, a));
        e.Message.ShouldContain(target);
        e.Message.ShouldNotContain(".tmp");
        Directory.GetFiles(folder).ShouldBeEmpty();
    }

    [TestCase(".npy")]
    [TestCase(".npz")]
    public void ASaveRemovesTheStaleTemporaryFilesOfAKilledSave(string extension)
    {
        string path = Path.Combine(folder, "m" + extension);
        string stale = Path.Combine(folder, $".m{extension}.{Guid.NewGuid():N}.tmp");
        string recent = Path.Combine(folder, $".m{extension}.{Guid.NewGuid():N}.tmp");
        string other = Path.Combine(folder, $".other{extension}.{Guid.NewGuid():N}.tmp");
        foreach (string f in new[] { stale, recent, other })
        {
            File.WriteAllBytes(f, [1, 2, 3]);
            File.SetLastWriteTimeUtc(f, f == recent ? DateTime.UtcNow : DateTime.UtcNow.AddHours(-2));
        }
        var a = NpyArray.FromFloat32(new Shape(2), [1, 2]);
        if (extension == ".npy") NpyFile.Write(path, a);
        else NpyFile.WriteArchive(path, new Dictionary<string, NpyArray> { ["a"] = a });
        File.Exists(stale).ShouldBeFalse("a save cleans up what a killed save of the same file left");
        File.Exists(recent).ShouldBeTrue("a save in progress elsewhere keeps its temporary file");
        File.Exists(other).ShouldBeTrue("temporary files of other targets are theirs to clean up");
    }

    private sealed class FailingDictionary(NpyArray a) : IReadOnlyDictionary<string, NpyArray>
    {
        public NpyArray this[string key] => a;
        public IEnumerable<string> Keys => ["a", "b"];
        public IEnumerable<NpyArray> Values => [a, a];
        public int Count => 2;
        public bool ContainsKey(string key) => true;
        public bool TryGetValue(string key, out NpyArray value)
        {
            value = a;
            return true;
        }

        public IEnumerator<KeyValuePair<string, NpyArray>> GetEnumerator()
        {
            yield return new("a", a);
            throw new InvalidOperationException("the second array cannot be produced");
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    internal sealed class NonSeekable(byte[] data) : Stream
    {
        private readonly MemoryStream inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
