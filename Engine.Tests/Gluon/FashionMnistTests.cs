using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Engine.Gluon.Data;

namespace Engine.Tests.Gluon;

public class FashionMnistTests
{
    private string root = "";

    [SetUp]
    public void CreateFolder()
    {
        root = Path.Combine(Path.GetTempPath(), "engine-fmnist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(root, recursive: true);

    /// <summary>An IDX file: 0, 0, type code, rank, big-endian dims, then the bytes.</summary>
    private static byte[] Idx(int[] dims, byte[] values, byte typeCode = 0x08, int? rank = null)
    {
        var bytes = new byte[4 + 4 * dims.Length + values.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)(rank ?? dims.Length);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        values.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var memory = new MemoryStream();
        using (var gz = new GZipStream(memory, CompressionLevel.Fastest)) gz.Write(raw);
        return memory.ToArray();
    }

    /// <summary>Pixel p of image i is (i * 7 + p) % 256; label i is i % 10.</summary>
    private static (byte[] Images, byte[] Labels) Synthetic(int n, int side = 28)
    {
        var images = new byte[n * side * side];
        for (int i = 0; i < images.Length; i++) images[i] = (byte)((i / (side * side) * 7 + i % (side * side)) % 256);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        return (images, labels);
    }

    private void Write(string name, byte[] raw, bool gzip = true) =>
        File.WriteAllBytes(Path.Combine(root, gzip ? name + ".gz" : name), gzip ? Gzip(raw) : raw);

    private void WriteSet(string prefix, int n, bool gzip = true, int side = 28)
    {
        var (images, labels) = Synthetic(n, side);
        Write($"{prefix}-images-idx3-ubyte", Idx([n, side, side], images), gzip);
        Write($"{prefix}-labels-idx1-ubyte", Idx([n], labels), gzip);
    }

    [Test]
    public void ReadsImagesScaledToUnitRangeAndLabels()
    {
        WriteSet("train", 12);
        WriteSet("t10k", 5);
        using var train = new FashionMNIST(train: true, root: root);
        train.Count.ShouldBe(12);
        train.Train.ShouldBeTrue();
        train.GetSampleShape(0).ShouldBe(new Shape(1, 28, 28));
        var (image, label) = train[3];
        image.DType.ShouldBe(DType.Float32);
        image.Shape.ShouldBe(new Shape(1, 28, 28));
        var pixels = image.ToArray();
        for (int p = 0; p < 784; p++) pixels[p].ShouldBe((float)((3 * 7 + p) % 256) / 255f);
        label.DType.ShouldBe(DType.Float32);
        label.ToScalar().ShouldBe(3f);
        using var test = new FashionMNIST(train: false, root: root);
        test.Count.ShouldBe(5);
        using var s = test[4];
        s.Label.ToScalar().ShouldBe(4f);
    }

    [Test]
    public void LimitReadsTheFirstSamplesAndLabelsCanBeInt32()
    {
        WriteSet("train", 30);
        using var ds = new FashionMNIST(root: root, limit: 7, labelDType: DType.Int32);
        ds.Count.ShouldBe(7);
        using var s = ds[6];
        s.Label.DType.ShouldBe(DType.Int32);
        s.Label.ToScalar<int>().ShouldBe(6);
        using var all = new FashionMNIST(root: root, limit: 1000);
        all.Count.ShouldBe(30);
        Should.Throw<ArgumentOutOfRangeException>(() => new FashionMNIST(root: root, limit: 0)).Message
            .ShouldContain("limit must be at least 1");
        Should.Throw<ArgumentException>(() => new FashionMNIST(root: root, labelDType: DType.Float16)).Message
            .ShouldContain("Float32, Int32 or UInt8");
    }

    [Test]
    public void UncompressedFilesWorkToo()
    {
        WriteSet("t10k", 4, gzip: false);
        using var ds = new FashionMNIST(train: false, root: root);
        ds.Count.ShouldBe(4);
        using var s = ds[0];
        s.Data.ToArray()[1].ShouldBe(1 / 255f);
    }

    [Test]
    public void BatchesThroughTheDataLoader()
    {
        WriteSet("train", 10);
        using var ds = new FashionMNIST(root: root);
        var batches = new DataLoader(ds, batchSize: 4).ToList();
        batches.Select(b => b.Size).ShouldBe([4, 4, 2]);
        batches[1].Data.Shape.ShouldBe(new Shape(4, 1, 28, 28));
        batches[1].Label.ToArray().ShouldBe([4f, 5, 6, 7]);
        batches[2].Data.ToArray()[784].ShouldBe((9 * 7 % 256) / 255f);
        foreach (var b in batches) b.Dispose();
    }

    [Test]
    public void MnistIdxReadsAnyMnistFormatFolder()
    {
        WriteSet("train", 6, side: 5);
        using var ds = MnistIdx.Load(Path.Combine(root, "train-images-idx3-ubyte.gz"),
            Path.Combine(root, "train-labels-idx1-ubyte.gz"), limit: 4);
        ds.Count.ShouldBe(4);
        ds.GetSampleShape(0).ShouldBe(new Shape(1, 5, 5));
        using var labels = MnistIdx.ReadLabels(Path.Combine(root, "train-labels-idx1-ubyte.gz"), dtype: DType.UInt8);
        labels.ToArray<byte>().ShouldBe(new byte[] { 0, 1, 2, 3, 4, 5 });
        using var images = MnistIdx.ReadImages(Path.Combine(root, "train-images-idx3-ubyte.gz"));
        images.Shape.ShouldBe(new Shape(6, 1, 5, 5));
        // FashionMNIST itself insists on 28x28.
        Should.Throw<InvalidDataException>(() => new FashionMNIST(root: root)).Message
            .ShouldContain("wrong dims: the images are 5x5, not 28x28");
    }

    [Test]
    public void AMissingFolderOrFileNamesThePathThePackageAndTheFlag()
    {
        string missing = Path.Combine(root, "nowhere");
        var e = Should.Throw<FileNotFoundException>(() => new FashionMNIST(root: missing));
        e.Message.ShouldContain(missing);
        e.Message.ShouldContain("apt-get install dataset-fashion-mnist");
        e.Message.ShouldContain("--data");
        WriteSet("train", 3);
        File.Delete(Path.Combine(root, "train-labels-idx1-ubyte.gz"));
        e = Should.Throw<FileNotFoundException>(() => new FashionMNIST(root: root));
        e.FileName.ShouldBe(Path.Combine(root, "train-labels-idx1-ubyte.gz"));
        e.Message.ShouldContain(Path.Combine(root, "train-labels-idx1-ubyte.gz"));
        e.Message.ShouldContain("apt-get install dataset-fashion-mnist");
        Should.Throw<FileNotFoundException>(() => new FashionMNIST(train: false, root: root)).Message
            .ShouldContain("t10k-images-idx3-ubyte.gz");
    }

    private InvalidDataException Corrupt(string file, byte[] raw)
    {
        WriteSet("train", 3);
        Write(file, raw);
        var e = Should.Throw<InvalidDataException>(() => new FashionMNIST(root: root));
        e.Message.ShouldContain(Path.Combine(root, file + ".gz"));
        e.Message.ShouldStartWith("FashionMNIST: ");
        return e;
    }

    [Test]
    public void CorruptFilesNameTheFileAndTheProblem()
    {
        var (images, labels) = Synthetic(3);
        Corrupt("train-images-idx3-ubyte", [1, 2, 3, 4, 5, 6]).Message.ShouldContain("bad magic number 0x01020304");
        Corrupt("train-images-idx3-ubyte", [0, 0]).Message.ShouldContain("too short for the 4-byte IDX magic");
        Corrupt("train-images-idx3-ubyte", Idx([3, 28, 28], images, typeCode: 0x0D)).Message
            .ShouldContain("type code 0x0D");
        Corrupt("train-images-idx3-ubyte", Idx([3], labels)).Message
            .ShouldContain("wrong dims: the file has 1 dimensions");
        Corrupt("train-labels-idx1-ubyte", Idx([3, 28, 28], images)).Message
            .ShouldContain("were the images and labels files swapped");
        Corrupt("train-images-idx3-ubyte", Idx([3, -28, 28], images)).Message
            .ShouldContain("wrong dims: dimension 1 is -28");
        Corrupt("train-images-idx3-ubyte", Idx([3, 28, 28], images)[..10]).Message
            .ShouldContain("the header ends after 6 of its 12 bytes");
        var shortData = Corrupt("train-images-idx3-ubyte", Idx([3, 28, 28], images)[..(16 + 784 + 100)]);
        shortData.Message.ShouldContain("short data: the header promises 3 samples of 784 bytes");
        shortData.Message.ShouldContain("after 1 whole samples (884 of 2352 bytes)");
        Corrupt("train-labels-idx1-ubyte", Idx([4], [0, 1, 2, 3])).Message
            .ShouldContain("holds 3 images but");
        Corrupt("train-labels-idx1-ubyte", Idx([3], [0, 12, 2])).Message
            .ShouldContain("label 12 of sample 1 is out of range");
        // An uncompressed file is used when the .gz one is absent, and checked the same way.
        File.Delete(Path.Combine(root, "train-images-idx3-ubyte.gz"));
        string plain = Path.Combine(root, "train-images-idx3-ubyte");
        File.WriteAllBytes(plain, Idx([3, 28], images[..84]));
        Should.Throw<InvalidDataException>(() => new FashionMNIST(root: root)).Message
            .ShouldContain($"{plain}: wrong dims: the file has 2 dimensions");
    }

    [Test]
    public void TruncatedOrDamagedGzipIsReportedNotThrownRaw()
    {
        var (images, _) = Synthetic(3);
        var gz = Gzip(Idx([3, 28, 28], images));
        WriteSet("train", 3);
        string path = Path.Combine(root, "train-images-idx3-ubyte.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var e = Should.Throw<InvalidDataException>(() => new FashionMNIST(root: root));
        e.Message.ShouldContain(path);
        TestContext.Out.WriteLine(e.Message);
        var damaged = (byte[])gz.Clone();
        for (int i = 12; i < damaged.Length - 8; i++) damaged[i] = (byte)(damaged[i] ^ 0x5A);
        File.WriteAllBytes(path, damaged);
        e = Should.Throw<InvalidDataException>(() => new FashionMNIST(root: root));
        e.Message.ShouldContain(path);
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void ReadsTheRealFilesWhenInstalled()
    {
        if (!Directory.Exists(FashionMNIST.DefaultRoot))
            Assert.Ignore($"{FashionMNIST.DefaultRoot} does not exist; `apt-get install dataset-fashion-mnist` " +
                          "installs the real files this test reads.");
        var watch = Stopwatch.StartNew();
        using var train = new FashionMNIST(train: true);
        TestContext.Out.WriteLine($"train set loaded in {watch.ElapsedMilliseconds} ms");
        using var test = new FashionMNIST(train: false);
        train.Count.ShouldBe(60000);
        test.Count.ShouldBe(10000);
        // The first labels of each set (read with Python's gzip module from the same files).
        using (var first = new DataLoader(train, batchSize: 12, prefetch: 0).First())
            first.Label.ToArray().ShouldBe([9f, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9]);
        using (var first = new DataLoader(test, batchSize: 12, prefetch: 0).First())
            first.Label.ToArray().ShouldBe([9f, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5]);
        using var s = train[0];
        var pixels = s.Data.ToArray();
        pixels.Max().ShouldBe(1f);
        pixels.Min().ShouldBe(0f);
        ((double)pixels.Sum() * 255).ShouldBe(76247, 0.5);
        FashionMNIST.ClassNames[(int)s.Label.ToScalar()].ShouldBe("Ankle boot");
    }
}
