using System.Buffers.Binary;
using System.Text;
using Engine.IO;
using Engine.Tests.Support;

namespace Engine.Tests.IO;

/// <summary>
/// MXNet's .params format (reference section 2.2). Fixtures are built byte by byte from the spec with
/// <see cref="Bytes"/>, independently of the writer.
/// </summary>
public class MXNetParamsTests
{
    private const uint V1 = 0xF993FAC8, V2 = 0xF993FAC9, V3 = 0xF993FACA;

    private string folder = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), $"engine-params-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    [Test]
    public void ZerosTwoByThreeNamedWIsExactly105BytesInMXNetsLayout()
    {
        using var w = Nd.Zeros(2, 3);
        var bytes = SaveToBytes([new("w", w)]);

        bytes.Length.ShouldBe(105);
        var expected = new Bytes()
            .U64(0x112).U64(0).U64(1)
            .U32(V2).I32(0).I32(2).I64(2).I64(3).I32(1).I32(0).I32(0).Zeros(24)
            .U64(1).U64(1).Ascii("w")
            .ToArray();
        bytes.ShouldBe(expected);
    }

    [Test]
    public void HeaderFieldsSitAtTheirOffsets()
    {
        using var a = Nd.Array([1f, 2, 3], new Shape(3));
        using var b = Nd.Array([7L, 8], new Shape(1, 2));
        var f = SaveToBytes([new("arg:a", a), new("aux:b", b)]);

        U64(f, 0).ShouldBe(0x112UL);
        U64(f, 8).ShouldBe(0UL);
        U64(f, 16).ShouldBe(2UL);
        // Record 0 at 24: magic, stype, ndim 1, dim 3, cpu(0), float32, 12 data bytes.
        U32(f, 24).ShouldBe(V2);
        I32(f, 28).ShouldBe(0);
        I32(f, 32).ShouldBe(1);
        I64(f, 36).ShouldBe(3);
        I32(f, 44).ShouldBe(1);
        I32(f, 48).ShouldBe(0);
        I32(f, 52).ShouldBe(0);
        BinaryPrimitives.ReadSingleLittleEndian(f.AsSpan(56)).ShouldBe(1f);
        BinaryPrimitives.ReadSingleLittleEndian(f.AsSpan(64)).ShouldBe(3f);
        // Record 1 at 68: ndim 2, dims 1 and 2, int64 (code 6), 16 data bytes.
        U32(f, 68).ShouldBe(V2);
        I32(f, 76).ShouldBe(2);
        I64(f, 80).ShouldBe(1);
        I64(f, 88).ShouldBe(2);
        I32(f, 104).ShouldBe(6);
        I64(f, 108).ShouldBe(7);
        I64(f, 116).ShouldBe(8);
        // Names at 124: count, then length-prefixed bytes with no terminator.
        U64(f, 124).ShouldBe(2UL);
        U64(f, 132).ShouldBe(5UL);
        Encoding.ASCII.GetString(f, 140, 5).ShouldBe("arg:a");
        U64(f, 145).ShouldBe(5UL);
        Encoding.ASCII.GetString(f, 153, 5).ShouldBe("aux:b");
        f.Length.ShouldBe(158);
    }

    [Test]
    public void EveryDTypeAndShapeRoundTripsThroughAFileInOrder()
    {
        var rng = new Random(3);
        var arrays = new List<KeyValuePair<string, NDArray>>
        {
            new("f32", Nd.Array(TestData.Uniform(rng, 6), new Shape(2, 3))),
            new("f64", Nd.Array(TestData.UniformDouble(rng, 4), new Shape(4))),
            new("f16", Cast(Nd.Array(TestData.Uniform(rng, 8), new Shape(2, 2, 2)), DType.Float16)),
            new("u8", Nd.Array(new byte[] { 0, 1, 128, 255, 7 }, new Shape(5))),
            new("i32", Nd.Array(new[] { -5, 0, int.MaxValue }, new Shape(3, 1))),
            new("i8", Cast(Nd.Array(new[] { -128, -1, 0, 1, 2, 127 }, new Shape(2, 3)), DType.Int8)),
            new("i64", Nd.Array(new[] { long.MinValue, long.MaxValue }, new Shape(2))),
            new("bool", Cast(Nd.Array(new[] { 1, 0, 1 }, new Shape(3)), DType.Bool)),
            new("z", Nd.Array(TestData.Uniform(rng, 24), new Shape(1, 2, 3, 4, 1))),
            new("scalar", Nd.Scalar(2.5)),
            new("scalar_i64", Nd.Scalar(-9, DType.Int64)),
            new("empty", Nd.Zeros(new Shape(0, 3))),
            new("empty1", Nd.Zeros(new Shape(0), DType.Int32)),
            // The key "b" after "z": the file keeps the given order, not a sorted one.
            new("b", Nd.Ones(1)),
        };
        string path = Path.Combine(folder, "all.params");
        MXNetParams.Save(path, arrays);
        var loaded = MXNetParams.Load(path);

        loaded.Select(p => p.Key).ShouldBe(arrays.Select(p => p.Key));
        for (int i = 0; i < arrays.Count; i++)
        {
            var (key, expected) = arrays[i];
            var actual = loaded[i].Value;
            actual.Shape.ShouldBe(expected.Shape, key);
            actual.DType.ShouldBe(expected.DType, key);
            actual.Device.ShouldBe(Device.Cpu, key);
            actual.ToArray<double>().ShouldBe(expected.ToArray<double>(), key);
        }
        DisposeAll(arrays);
        DisposeAll(loaded);
    }

    [Test]
    public void ZeroDimensionalArraysAreV3RecordsWithRankZero()
    {
        // V2 reads ndim 0 as "no array" (legacy shape semantics), so a 0-d array is written in V3, MXNet's
        // numpy-shape form, where ndim 0 is a scalar.
        using var s = Nd.Scalar(4, DType.Float64);
        var f = SaveToBytes([new("s", s)]);

        var expected = new Bytes()
            .U64(0x112).U64(0).U64(1)
            .U32(V3).I32(0).I32(0).I32(1).I32(0).I32(1).F64(4)
            .U64(1).U64(1).Ascii("s")
            .ToArray();
        f.ShouldBe(expected);
        var back = LoadBytes(f);
        back[0].Value.Shape.ShouldBe(Shape.Scalar);
        back[0].Value.ToScalar<double>().ShouldBe(4);
        DisposeAll(back);
    }

    [Test]
    public void EmptyArraysKeepTheirShapeAndWriteNoData()
    {
        using var e = Nd.Zeros(new Shape(0, 3));
        var f = SaveToBytes([new("e", e)]);

        f.ShouldBe(new Bytes()
            .U64(0x112).U64(0).U64(1)
            .U32(V2).I32(0).I32(2).I64(0).I64(3).I32(1).I32(0).I32(0)
            .U64(1).U64(1).Ascii("e")
            .ToArray());
        var back = LoadBytes(f);
        back[0].Value.Shape.ShouldBe(new Shape(0, 3));
        DisposeAll(back);
    }

    [Test]
    public void NonContiguousViewsAreWrittenInCOrder()
    {
        using var x = Nd.Array([1f, 2, 3, 4, 5, 6], new Shape(2, 3));
        using var t = x.T;
        using var slice = x[1..];
        var back = LoadBytes(SaveToBytes([new("t", t), new("row1", slice)]));

        back[0].Value.Shape.ShouldBe(new Shape(3, 2));
        back[0].Value.ToArray().ShouldBe([1f, 4, 2, 5, 3, 6]);
        back[1].Value.ToArray().ShouldBe([4f, 5, 6]);
        DisposeAll(back);
    }

    [Test]
    public void AListSavedWithoutNamesHasNameCountZeroAndLoadsWithEmptyKeys()
    {
        using var a = Nd.Array([1f, 2], new Shape(2));
        using var b = Nd.Array([3, 4], new Shape(1, 2));
        string path = Path.Combine(folder, "list.params");
        MXNetParams.SaveList(path, [a, b]);

        var f = File.ReadAllBytes(path);
        U64(f, f.Length - 8).ShouldBe(0UL);
        var back = MXNetParams.Load(path);
        back.Select(p => p.Key).ShouldBe(["", ""]);
        back[1].Value.DType.ShouldBe(DType.Int32);
        back[1].Value.ToArray<int>().ShouldBe([3, 4]);
        DisposeAll(back);
        var list = MXNetParams.LoadList(path);
        list.Count.ShouldBe(2);
        list[0].ToArray().ShouldBe([1f, 2]);
        foreach (var x in list) x.Dispose();
    }

    [Test]
    public void AHandBuiltFileAsMXNetWritesItLoads()
    {
        // nd.save(f, {'arg:conv0_weight': <2x1x2x2 float32 on gpu(1)>, 'aux:bn0_moving_var': <3 float64>,
        //              'arg:labels': <2 int64>, 'arg:mask': <uint8>, 'arg:half': <float16>})
        float[] w = [0.5f, -1, 2, 3.25f, -0.125f, 8, 9, 10];
        var file = new Bytes().U64(0x112).U64(0).U64(5);
        file.U32(V2).I32(0).I32(4).I64(2).I64(1).I64(2).I64(2).I32(2).I32(1).I32(0);
        foreach (float v in w) file.F32(v);
        file.U32(V2).I32(0).I32(1).I64(3).I32(1).I32(0).I32(1).F64(1).F64(0.25).F64(1e300);
        file.U32(V2).I32(0).I32(1).I64(2).I32(3).I32(0).I32(6).I64(-3).I64(1L << 40);
        file.U32(V2).I32(0).I32(2).I64(1).I64(3).I32(5).I32(0).I32(3).Raw(0, 200, 255);
        file.U32(V2).I32(0).I32(1).I64(2).I32(1).I32(0).I32(2).U16(0x3C00).U16(0xC000); // 1.0, -2.0
        string[] names = ["arg:conv0_weight", "aux:bn0_moving_var", "arg:labels", "arg:mask", "arg:half"];
        file.U64(5);
        foreach (string n in names) file.U64((ulong)n.Length).Ascii(n);

        string path = Path.Combine(folder, "mxnet-0000.params");
        File.WriteAllBytes(path, file.ToArray());
        var loaded = MXNetParams.Load(path);

        loaded.Select(p => p.Key).ShouldBe(names);
        loaded[0].Value.Shape.ShouldBe(new Shape(2, 1, 2, 2));
        loaded[0].Value.Device.ShouldBe(Device.Cpu); // saved on gpu(1), loaded on the CPU as MXNet does
        loaded[0].Value.ToArray().ShouldBe(w);
        loaded[1].Value.DType.ShouldBe(DType.Float64);
        loaded[1].Value.ToArray<double>().ShouldBe([1, 0.25, 1e300]);
        loaded[2].Value.ToArray<long>().ShouldBe([-3, 1L << 40]);
        loaded[3].Value.DType.ShouldBe(DType.UInt8);
        loaded[3].Value.Shape.ShouldBe(new Shape(1, 3));
        loaded[3].Value.ToArray<byte>().ShouldBe([(byte)0, 200, 255]);
        loaded[4].Value.DType.ShouldBe(DType.Float16);
        loaded[4].Value.ToArray().ShouldBe([1f, -2f]);
        DisposeAll(loaded);
    }

    [Test]
    public void V1AndPreV1AndV3RecordsLoad()
    {
        var file = new Bytes().U64(0x112).U64(0).U64(3)
            // V1: no storage type; int32 ndim + int64 dims.
            .U32(V1).I32(2).I64(1).I64(2).I32(1).I32(0).I32(0).F32(1.5f).F32(-2)
            // Pre-V1: the first uint32 is ndim, dims are uint32.
            .U32(2).U32(2).U32(1).I32(1).I32(0).I32(4).I32(11).I32(-12)
            // V3: numpy shape semantics, ndim 0 is a scalar.
            .U32(V3).I32(0).I32(0).I32(1).I32(0).I32(0).F32(7)
            .U64(0)
            .ToArray();
        var loaded = LoadBytes(file);

        loaded[0].Value.Shape.ShouldBe(new Shape(1, 2));
        loaded[0].Value.ToArray().ShouldBe([1.5f, -2]);
        loaded[1].Value.Shape.ShouldBe(new Shape(2, 1));
        loaded[1].Value.ToArray<int>().ShouldBe([11, -12]);
        loaded[2].Value.Shape.ShouldBe(Shape.Scalar);
        loaded[2].Value.ToScalar().ShouldBe(7f);
        DisposeAll(loaded);
    }

    [Test]
    public void BoolBytesOtherThanZeroAndOneLoadAsTrue()
    {
        var file = new Bytes().U64(0x112).U64(0).U64(1)
            .U32(V2).I32(0).I32(1).I64(3).I32(1).I32(0).I32(7).Raw(0, 1, 5).U64(0).ToArray();
        var loaded = LoadBytes(file);
        loaded[0].Value.ToArray<bool>().ShouldBe([false, true, true]);
        DisposeAll(loaded);
    }

    [Test]
    public void TruncationAtEveryOffsetRaisesInvalidDataNamingTheFile()
    {
        using var a = Nd.Array([1f, 2, 3, 4, 5, 6], new Shape(2, 3));
        using var s = Nd.Scalar(3, DType.Int64);
        using var e = Nd.Zeros(new Shape(0, 2));
        var full = SaveToBytes([new("arg:a", a), new("s", s), new("aux:e", e)]);
        string path = Path.Combine(folder, "cut.params");

        for (int length = 0; length < full.Length; length++)
        {
            File.WriteAllBytes(path, full[..length]);
            var fromFile = Should.Throw<InvalidDataException>(() => MXNetParams.Load(path), $"length {length}");
            fromFile.Message.ShouldContain(path);
            fromFile.Message.ShouldContain("byte offset");

            var seekable = Should.Throw<InvalidDataException>(
                () => MXNetParams.Load(new MemoryStream(full[..length]), "cut.params"), $"length {length}");
            seekable.Message.ShouldContain("cut.params");

            var streamed = Should.Throw<InvalidDataException>(
                () => MXNetParams.Load(new NonSeekableStream(full[..length]), "pipe"), $"length {length}");
            streamed.Message.ShouldContain("'pipe'");
        }
        // The whole file loads, and one extra byte is reported.
        DisposeAll(LoadBytes(full));
        File.WriteAllBytes(path, [.. full, 0]);
        Should.Throw<InvalidDataException>(() => MXNetParams.Load(path)).Message.ShouldContain("unexpected bytes");
    }

    private static IEnumerable<TestCaseData> Corruptions()
    {
        static Bytes Head(ulong count = 1) => new Bytes().U64(0x112).U64(0).U64(count);
        static Bytes Rec(Bytes b, int ndim = 1, long dim = 2, int dtype = 0, int devType = 1, int devId = 0,
            uint magic = V2, int stype = 0)
        {
            b.U32(magic).I32(stype).I32(ndim);
            for (int i = 0; i < Math.Clamp(ndim, 0, 4); i++) b.I64(dim);
            return b.I32(devType).I32(devId).I32(dtype);
        }

        yield return Case("bad header magic", new Bytes().U64(0x113).U64(0).U64(0).U64(0), "0x113", 0);
        yield return Case("numpy file", Encoding.ASCII.GetBytes("\x93NUMPY\x01\x00 garbage garbage"), "header", 0);
        yield return Case("absurd array count", Head(1UL << 60), "array count", 16);
        yield return Case("count beyond the bytes", Head(10).U64(0), "array count", 16);
        yield return Case("record magic", Head().U32(0xDEADBEEF).U64(0), "0xDEADBEEF", 24);
        yield return Case("rank 33", Rec(Head(), ndim: 33).U64(0), "rank 33", 32);
        yield return Case("negative rank", Rec(Head(), ndim: -2).U64(0), "rank -2", 32);
        yield return Case("negative dim", Rec(Head(), dim: -5).U64(0), "dimension 0 of array 0 is -5", 36);
        yield return Case("dim over int", Rec(Head(), dim: 1L << 40).U64(0), "dimension 0", 36);
        yield return Case("dims beyond the bytes", Rec(Head(), ndim: 2, dim: 1 << 20).U64(0), "needs", 64);
        yield return Case("dtype 99", Rec(Head(), dtype: 99).F32(0).F32(0).U64(0), "dtype code 99", 52);
        yield return Case("bfloat16", Rec(Head(), dtype: 12).F32(0).U64(0), "bfloat16", 52);
        yield return Case("negative dtype", Rec(Head(), dtype: -1).U64(0), "dtype code -1", 52);
        yield return Case("row_sparse", Rec(Head(), stype: 1).U64(0), "row_sparse", 28);
        yield return Case("csr", Rec(Head(), stype: 2).U64(0), "tostype('default')", 28);
        yield return Case("unknown stype", Rec(Head(), stype: 9).U64(0), "storage type 9", 28);
        yield return Case("device type", Rec(Head(), devType: 7).F64(0).U64(0), "device type 7", 44);
        yield return Case("device id", Rec(Head(), devId: -3).F64(0).U64(0), "device id -3", 48);
        yield return Case("none record", Head().U32(V2).I32(0).I32(0).U64(0), "'none'", 24);
        yield return Case("unknown-shape V3", Head().U32(V3).I32(0).I32(-1).U64(0), "'none'", 24);
        yield return Case("name count", Rec(Head()).F64(0).U64(3), "3 names", 64);
        yield return Case("name length", Rec(Head()).F64(0).U64(1).U64(1UL << 50), "name 0 claims", 72);
        yield return Case("name bytes", Rec(Head()).F64(0).U64(1).U64(2).Raw(0xC3, 0x28), "UTF-8", 80);

        static TestCaseData Case(string what, object bytes, string message, long offset) =>
            new TestCaseData(bytes is Bytes b ? b.ToArray() : (byte[])bytes, message, offset).SetName(
                $"Corrupt file raises InvalidData: {what}");
    }

    [TestCaseSource(nameof(Corruptions))]
    public void CorruptFilesRaiseInvalidDataNamingTheProblemAndOffset(byte[] bytes, string message, long offset)
    {
        string path = Path.Combine(folder, "bad.params");
        File.WriteAllBytes(path, bytes);
        var e = Should.Throw<InvalidDataException>(() => MXNetParams.Load(path));
        e.Message.ShouldContain(path);
        e.Message.ShouldContain(message);
        e.Message.ShouldContain($"byte offset {offset}:");
        // A stream of unknown length reports the same problem or, where only the length gave it away, truncation.
        Should.Throw<InvalidDataException>(() => MXNetParams.Load(new NonSeekableStream(bytes), "pipe"));
    }

    [Test]
    public void RandomByteCorruptionNeverRaisesAnythingButInvalidData()
    {
        using var a = Nd.Array([1f, 2, 3, 4, 5, 6], new Shape(3, 2));
        using var b = Nd.Array([1L, 2], new Shape(2));
        using var s = Nd.Scalar(1);
        var full = SaveToBytes([new("arg:a", a), new("b", b), new("s", s)]);
        var rng = new Random(11);
        int failures = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            var bytes = (byte[])full.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            try
            {
                DisposeAll(MXNetParams.Load(new MemoryStream(bytes), "fuzz"));
                DisposeAll(MXNetParams.Load(new NonSeekableStream(bytes), "fuzz"));
            }
            catch (InvalidDataException e)
            {
                e.Message.ShouldContain("'fuzz'");
                failures++;
            }
        }
        failures.ShouldBeGreaterThan(100);
    }

    [Test]
    public void AFailedWriteLeavesTheOldFileIntactAndNoTemporaryFile()
    {
        string path = Path.Combine(folder, "model.params");
        using var old = Nd.Array([1f, 2, 3], new Shape(3));
        MXNetParams.Save(path, [new KeyValuePair<string, NDArray>("w", old)]);
        var before = File.ReadAllBytes(path);

        using var big = Nd.Ones(100, 100);
        for (long failAfter = 0; failAfter < 200; failAfter += 37)
        {
            long limit = failAfter;
            Should.Throw<IOException>(() => MXNetParams.SaveAtomically(path, [new("w", big)],
                s => new FailingStream(s, limit)));
            File.ReadAllBytes(path).ShouldBe(before);
            Directory.GetFiles(folder).ShouldBe([path]);
        }
        // A disposed array is caught before anything is written.
        var gone = Nd.Ones(2);
        gone.Dispose();
        Should.Throw<ObjectDisposedException>(() => MXNetParams.Save(path, [new("w", old), new("x", gone)]));
        File.ReadAllBytes(path).ShouldBe(before);
        // A successful save replaces the file whole.
        MXNetParams.Save(path, [new KeyValuePair<string, NDArray>("w", big)]);
        var now = MXNetParams.Load(path);
        now[0].Value.Shape.ShouldBe(new Shape(100, 100));
        DisposeAll(now);
        Directory.GetFiles(folder).ShouldBe([path]);
    }

    [Test]
    public void SavingIntoAMissingFolderOrOntoAFolderIsRefusedClearly()
    {
        using var a = Nd.Ones(2);
        Should.Throw<DirectoryNotFoundException>(() =>
            MXNetParams.Save(Path.Combine(folder, "nope", "m.params"), [new KeyValuePair<string, NDArray>("a", a)]))
            .Message.ShouldContain("does not exist");
        Should.Throw<IOException>(() => MXNetParams.Save(folder, [new KeyValuePair<string, NDArray>("a", a)]))
            .Message.ShouldContain("is a folder");
    }

    [Test]
    public void SaveRejectsDuplicateAndNullKeysAndNullArrays()
    {
        using var a = Nd.Ones(2);
        var ms = new MemoryStream();
        Should.Throw<ArgumentException>(() => MXNetParams.Save(ms, [new("k", a), new("k", a)]))
            .Message.ShouldContain("'k' appears twice");
        Should.Throw<ArgumentException>(() => MXNetParams.Save(ms, [new(null!, a)]))
            .Message.ShouldContain("null key");
        Should.Throw<ArgumentException>(() => MXNetParams.Save(ms, [new("k", null!)]))
            .Message.ShouldContain("is null");
        ms.Length.ShouldBe(0);
    }

    [Test]
    public void LoadingAMissingFileSaysSo()
    {
        string path = Path.Combine(folder, "missing.params");
        Should.Throw<FileNotFoundException>(() => MXNetParams.Load(path)).Message.ShouldContain(path);
    }

    [Test]
    public void StreamOverloadsLeaveTheStreamAfterTheList()
    {
        using var a = Nd.Array([5f], new Shape(1));
        var ms = new MemoryStream();
        ms.Write([9, 9, 9]);
        MXNetParams.Save(ms, [new KeyValuePair<string, NDArray>("a", a)]);
        ms.Write([42]);
        ms.Position = 3;
        var back = MXNetParams.Load(ms, "embedded");
        ms.ReadByte().ShouldBe(42);
        back[0].Value.ToArray().ShouldBe([5f]);
        DisposeAll(back);
    }

    private static NDArray Cast(NDArray x, DType dtype)
    {
        using (x) return x.AsType(dtype);
    }

    private static byte[] SaveToBytes(IReadOnlyList<KeyValuePair<string, NDArray>> arrays)
    {
        var ms = new MemoryStream();
        MXNetParams.Save(ms, arrays);
        return ms.ToArray();
    }

    private static IReadOnlyList<KeyValuePair<string, NDArray>> LoadBytes(byte[] bytes) =>
        MXNetParams.Load(new MemoryStream(bytes), "bytes");

    private static void DisposeAll(IEnumerable<KeyValuePair<string, NDArray>> arrays)
    {
        foreach (var (_, a) in arrays) a.Dispose();
    }

    private static ulong U64(byte[] f, int at) => BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(at));

    private static uint U32(byte[] f, int at) => BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(at));

    private static int I32(byte[] f, int at) => BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(at));

    private static long I64(byte[] f, int at) => BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(at));

    /// <summary>Little-endian bytes, field by field, as the spec lays them out.</summary>
    private sealed class Bytes
    {
        private readonly List<byte> bytes = [];

        public Bytes U64(ulong v) => Put(8, s => BinaryPrimitives.WriteUInt64LittleEndian(s, v));

        public Bytes I64(long v) => Put(8, s => BinaryPrimitives.WriteInt64LittleEndian(s, v));

        public Bytes U32(uint v) => Put(4, s => BinaryPrimitives.WriteUInt32LittleEndian(s, v));

        public Bytes I32(int v) => Put(4, s => BinaryPrimitives.WriteInt32LittleEndian(s, v));

        public Bytes U16(ushort v) => Put(2, s => BinaryPrimitives.WriteUInt16LittleEndian(s, v));

        public Bytes F32(float v) => Put(4, s => BinaryPrimitives.WriteSingleLittleEndian(s, v));

        public Bytes F64(double v) => Put(8, s => BinaryPrimitives.WriteDoubleLittleEndian(s, v));

        public Bytes Zeros(int n) => Raw(new byte[n]);

        public Bytes Raw(params byte[] b)
        {
            bytes.AddRange(b);
            return this;
        }

        public Bytes Ascii(string s) => Raw(Encoding.ASCII.GetBytes(s));

        public byte[] ToArray() => [.. bytes];

        private Bytes Put(int n, SpanAction write)
        {
            var b = new byte[n];
            write(b);
            return Raw(b);
        }

        private delegate void SpanAction(Span<byte> span);
    }

    /// <summary>A read-only stream that cannot seek or tell its length, like a pipe or a network stream.</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
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

        // Returns at most 3 bytes a call, so readers must loop.
        public override int Read(byte[] buffer, int offset, int count) =>
            inner.Read(buffer, offset, Math.Min(count, 3));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Passes writes through until <paramref name="limit"/> bytes, then fails like a full disk.</summary>
    private sealed class FailingStream(Stream inner, long limit) : Stream
    {
        private long written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (written + buffer.Length > limit) throw new IOException("No space left on device (simulated).");
            written += buffer.Length;
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
