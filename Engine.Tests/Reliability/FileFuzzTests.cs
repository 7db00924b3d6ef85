using System.IO.Compression;
using Engine.Gluon.Data;
using Engine.IO;
using Engine.Memory;
using Engine.Tests.Support;

namespace Engine.Tests.Reliability;

/// <summary>
/// Seeded random truncations and bit flips of every file format the engine reads: each damaged file either loads
/// or raises <see cref="InvalidDataException"/>, and no reader allocates much more than the data there is.
/// </summary>
public class FileFuzzTests
{
    private const int CasesPerFormat = 600;
    private string folder = "";

    [SetUp]
    public void CreateFolder() =>
        folder = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), $"engine-fuzz-{Guid.NewGuid():N}")).FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static byte[] Mutate(byte[] original, Random rng)
    {
        if (rng.Next(3) == 0) return original[..rng.Next(original.Length)];
        var bytes = (byte[])original.Clone();
        int flips = 1 + rng.Next(4);
        for (int i = 0; i < flips; i++)
        {
            // Half the flips land in the first 128 bytes, where headers and sizes are.
            int at = rng.Next(2) == 0 ? rng.Next(Math.Min(128, bytes.Length)) : rng.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << rng.Next(8));
        }
        return bytes;
    }

    /// <summary>Runs the reader on many damaged copies; <paramref name="dataBytes"/> is the size of the data the
    /// intact file holds (larger than the file when compressed).</summary>
    private static void Fuzz(string format, byte[] original, long dataBytes, int seed, Action<byte[]> read)
    {
        var rng = new Random(seed);
        // Buffers, parsing and the arrays made from the data: a few times the data, never what a header claims.
        long bound = 4 * (dataBytes + original.Length) + (2 << 20);
        int loaded = 0;
        for (int i = 0; i < CasesPerFormat; i++)
        {
            byte[] damaged = Mutate(original, rng);
            var pool = CpuMemoryPool.Shared.Stats;
            long managed = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(damaged);
                loaded++;
            }
            catch (InvalidDataException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{format} case {i}: {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - managed;
            allocated.ShouldBeLessThan(bound, $"{format} case {i} allocated {allocated} managed bytes");
            long nativePeak = CpuMemoryPool.Shared.Stats.PeakBytesInUse;
            nativePeak.ShouldBeLessThanOrEqualTo(Math.Max(pool.PeakBytesInUse, pool.BytesInUse + bound),
                $"{format} case {i} reached a native peak of {nativePeak} bytes");
        }
        TestContext.Out.WriteLine($"{format}: {loaded} of {CasesPerFormat} damaged files loaded, the rest refused");
    }

    [Test]
    public void DamagedParamsFiles()
    {
        using var w = Nd.Array(TestData.Uniform(new Random(1), 48), new Shape(4, 12));
        using var b = Nd.Array(TestData.Uniform(new Random(2), 12), new Shape(12));
        var ms = new MemoryStream();
        MXNetParams.Save(ms, [new("arg:w", w), new("arg:b", b)]);
        byte[] file = ms.ToArray();
        Fuzz(".params", file, file.Length, 101, bytes =>
        {
            foreach (var (_, a) in MXNetParams.Load(new MemoryStream(bytes), "f.params")) a.Dispose();
        });
    }

    [Test]
    public void DamagedNpyFiles()
    {
        var ms = new MemoryStream();
        NpyFile.Write(ms, NpyArray.FromFloat32(new Shape(6, 8), TestData.Uniform(new Random(3), 48)));
        byte[] file = ms.ToArray();
        Fuzz(".npy", file, file.Length, 102, bytes => NpyFile.Read(new MemoryStream(bytes), "f.npy"));
    }

    [TestCase(CompressionLevel.NoCompression)]
    [TestCase(CompressionLevel.Optimal)]
    public void DamagedNpzFiles(CompressionLevel level)
    {
        long dataBytes = 0;
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, shape) in new[] { ("w", new Shape(4, 16)), ("b", new Shape(16)) })
            {
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                var npy = new MemoryStream();
                NpyFile.Write(npy, NpyArray.FromFloat32(shape, TestData.Uniform(new Random(4), shape.Size)));
                dataBytes += npy.Length;
                s.Write(npy.ToArray());
            }
        }
        byte[] file = ms.ToArray();
        string path = Path.Combine(folder, "f.npz");
        Fuzz($".npz ({level})", file, dataBytes, 103 + (int)level, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            NpyFile.ReadArchive(path);
        });
    }

    [Test]
    public void DamagedOptimizerStates()
    {
        var adam = new Engine.Gluon.Optimizers.Adam(0.01);
        using var w = Nd.Array(TestData.Uniform(new Random(6), 12), new Shape(3, 4));
        using var g = Nd.Array(TestData.Uniform(new Random(7), 12), new Shape(3, 4));
        adam.Update(0, w, g);
        adam.Update(1, w, g);
        var ms = new MemoryStream();
        adam.SaveStates(ms);
        byte[] file = ms.ToArray();
        Fuzz("optimizer states", file, file.Length, 109, bytes =>
            new Engine.Gluon.Optimizers.Adam(0.01).LoadStates(new MemoryStream(bytes), "f.states"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void DamagedIdxFiles(bool gzip)
    {
        var pixels = new byte[20 * 7 * 5];
        new Random(5).NextBytes(pixels);
        byte[] idx = FileValidationTests.Idx([20, 7, 5], pixels);
        byte[] file = gzip ? FileValidationTests.Gzip(idx) : idx;
        string path = Path.Combine(folder, gzip ? "images.gz" : "images");
        Fuzz(gzip ? "IDX (gzip)" : "IDX", file, idx.Length, 107 + (gzip ? 1 : 0), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            MnistIdx.ReadImages(path).Dispose();
        });
    }
}
