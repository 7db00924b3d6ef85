using System.IO.Compression;
using System.Text;
using Engine.Gluon.Optimizers;
using Engine.IO;

namespace Engine.Tests.Gluon;

public class OptimizerStatesTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), $"engine-optim-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<Optimizer>)(() => new SGD(0.1))).SetName("Sgd");
        yield return new TestCaseData((Func<Optimizer>)(() => new SGD(0.1, momentum: 0.9))).SetName("SgdMomentum");
        yield return new TestCaseData((Func<Optimizer>)(() => new NAG(0.1, momentum: 0.9))).SetName("Nag");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam(0.01, wd: 0.1))).SetName("Adam");
        yield return new TestCaseData((Func<Optimizer>)(() => new AdamW(0.01, wd: 0.1))).SetName("AdamW");
        yield return new TestCaseData((Func<Optimizer>)(() => new RMSProp(0.01, centered: true)))
            .SetName("RMSPropCentered");
    }

    /// <summary>Training, saving, loading into a fresh optimizer and going on gives the same weights.</summary>
    [TestCaseSource(nameof(Optimizers))]
    public void ResumingFromSavedStatesMatchesUninterruptedTraining(Func<Optimizer> make)
    {
        var rng = new Random(5);
        var grads = Enumerable.Range(0, 5).Select(_ => (Nd.Array(Uniform(rng, 6), new Shape(2, 3)),
            Nd.Array(Uniform(rng, 4), new Shape(4)))).ToArray();
        var straight = make();
        using var a0 = Nd.Ones(2, 3);
        using var a1 = Nd.Ones(4);
        for (int step = 0; step < 5; step++) Step(straight, step, a0, a1, grads[step]);

        var first = make();
        using var b0 = Nd.Ones(2, 3);
        using var b1 = Nd.Ones(4);
        for (int step = 0; step < 3; step++) Step(first, step, b0, b1, grads[step]);
        string path = Path.Combine(folder, "trainer.states");
        first.SaveStates(path);
        var resumed = make();
        resumed.LoadStates(path);
        resumed.NumUpdate.ShouldBe(first.NumUpdate);
        resumed.GetUpdateCount(1).ShouldBe(first.GetUpdateCount(1));
        for (int step = 3; step < 5; step++) Step(resumed, step, b0, b1, grads[step]);

        b0.ToArray().ShouldBe(a0.ToArray());
        b1.ToArray().ShouldBe(a1.ToArray());
        Directory.GetFiles(folder).ShouldBe([path]);  // no temporary file left behind
    }

    private static void Step(Optimizer o, int step, NDArray w0, NDArray w1, (NDArray, NDArray) g)
    {
        o.Update(0, w0, g.Item1);
        if (step % 2 == 0) o.Update(1, w1, g.Item2, lrMult: 0.5);  // a different count per index
    }

    [Test]
    public void TheArchiveIsNpzWithAJsonTableOfContents()
    {
        var adam = new Adam();
        using var w = Nd.Ones(new Shape(2, 2), DType.Float64);
        adam.Update(7, w, w);
        var ms = new MemoryStream();
        adam.SaveStates(ms);
        ms.Position = 0;
        using var zip = new ZipArchive(ms, ZipArchiveMode.Read);
        zip.Entries.Select(e => e.FullName).ShouldBe(["meta.json", "7.mean.npy", "7.var.npy"]);
        using var meta = new StreamReader(zip.GetEntry("meta.json")!.Open(), Encoding.UTF8);
        string json = meta.ReadToEnd();
        json.ShouldContain("\"optimizer\": \"adam\"");
        json.ShouldContain("\"num_update\": 1");
        using var s = zip.GetEntry("7.mean.npy")!.Open();
        var mean = NpyFile.Read(s, "7.mean.npy");
        mean.DType.ShouldBe(DType.Float64);
        mean.ToFloat64().ShouldAllBe(v => Math.Abs(v - 0.1) < 1e-12);
    }

    [Test]
    public void ScalarAndEmptyWeightsRoundTrip()
    {
        var adam = new Adam();
        using var scalar = Nd.Scalar(2.0);
        using var empty = Nd.Zeros(new Shape(0, 3));
        adam.Update(0, scalar, scalar);
        adam.Update(1, empty, empty);
        var back = new Adam();
        back.LoadStates(new MemoryStream(Saved(adam)), "s.states");
        back.GetState(0)![1].Shape.ShouldBe(Shape.Scalar);
        back.GetState(0)![1].ToArray().ShouldBe(adam.GetState(0)![1].ToArray());
        back.GetState(1)![0].Shape.ShouldBe(new Shape(0, 3));
        back.Update(1, empty, empty);
    }

    [Test]
    public void SavingReplacesAnExistingFile()
    {
        string path = Path.Combine(folder, "s.states");
        File.WriteAllText(path, "old");
        var sgd = new SGD(0.1, momentum: 0.5);
        using var w = Nd.Ones(3);
        sgd.Update(0, w, w);
        sgd.SaveStates(path);
        var back = new SGD(0.1, momentum: 0.5);
        back.LoadStates(path);
        back.GetState(0)![0].ToArray().ShouldBe(sgd.GetState(0)![0].ToArray());
        Should.Throw<DirectoryNotFoundException>(() => sgd.SaveStates(Path.Combine(folder, "no", "x.states")));
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(folder, "missing.states");
        Should.Throw<FileNotFoundException>(() => new SGD().LoadStates(path)).Message.ShouldContain(path);
    }

    [Test]
    public void ANonArchiveIsRejected()
    {
        string path = Path.Combine(folder, "garbage.states");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("this is not a zip archive at all"));
        var e = Should.Throw<InvalidDataException>(() => new Adam().LoadStates(path));
        e.Message.ShouldContain(path);
        e.Message.ShouldContain("not a zip archive");
    }

    [Test]
    public void ATruncatedFileIsRejected()
    {
        byte[] bytes = Saved(MomentumSgdWithDistinctState());
        var e = Should.Throw<InvalidDataException>(() =>
            new SGD(1, momentum: 0.5).LoadStates(new MemoryStream(bytes[..^40]), "cut.states"));
        e.Message.ShouldContain("'cut.states' is not a valid optimizer states file");
    }

    [Test]
    public void ADamagedStateFailsItsChecksumAndLeavesTheOptimizerUnchanged()
    {
        byte[] bytes = Saved(MomentumSgdWithDistinctState());
        int at = IndexOf(bytes, BitConverter.GetBytes(-0.123456f));
        at.ShouldBeGreaterThan(0);
        bytes[at] ^= 0x01;

        var target = new SGD(1, momentum: 0.5);
        using var w = Nd.Ones(2);
        target.Update(3, w, w);
        float[] before = target.GetState(3)![0].ToArray();
        var e = Should.Throw<InvalidDataException>(() => target.LoadStates(new MemoryStream(bytes), "bad.states"));
        e.Message.ShouldContain("'bad.states'");
        e.Message.ShouldContain("0.mom.npy");
        e.Message.ShouldContain("CRC-32");
        target.GetState(3)![0].ToArray().ShouldBe(before);
        target.NumUpdate.ShouldBe(1);
    }

    [Test]
    public void StatesOfAnotherOptimizerOrLayoutAreRejected()
    {
        byte[] bytes = Saved(MomentumSgdWithDistinctState());
        var other = Should.Throw<InvalidOperationException>(() =>
            new Adam().LoadStates(new MemoryStream(bytes), "sgd.states"));
        other.Message.ShouldContain("'sgd' optimizer");
        other.Message.ShouldContain("'adam'");
        var layout = Should.Throw<InvalidOperationException>(() =>
            new SGD(0.1).LoadStates(new MemoryStream(bytes), "sgd.states"));
        layout.Message.ShouldContain("[mom]");
        layout.Message.ShouldContain("momentum");
    }

    [Test]
    public void ADamagedTableOfContentsIsNamed()
    {
        var sgd = MomentumSgdWithDistinctState();
        Check(Rewrite(sgd, meta: _ => "{ not json"), "meta.json is not valid JSON");
        Check(Rewrite(sgd, meta: m => m.Replace("\"version\": 1", "\"version\": 9")), "format version 9");
        Check(Rewrite(sgd, meta: m => m.Replace("\"count\": 1", "\"count\": 5")), "update count 5");
        Check(Rewrite(sgd, meta: m => m.Replace("\"shape\": [\n        2\n      ]", "\"shape\": [3]")),
            "'0.mom.npy' holds float32(2,), but meta.json says float32(3,)");
        Check(Rewrite(sgd, drop: "meta.json"), "'meta.json' entry is missing");
        Check(Rewrite(sgd, drop: "0.mom.npy"), "'0.mom.npy' (state 'mom' of index 0) is missing");
        Check(Rewrite(sgd, extra: "notes.txt"), "entries meta.json does not list: notes.txt");
    }

    private static void Check(byte[] bytes, string problem)
    {
        var e = Should.Throw<InvalidDataException>(() =>
            new SGD(1, momentum: 0.5).LoadStates(new MemoryStream(bytes), "edited.states"));
        e.Message.ShouldContain("'edited.states' is not a valid optimizer states file");
        e.Message.ShouldContain(problem);
    }

    /// <summary>An SGD whose momentum for index 0 holds -0.123456 (a pattern to find in the file).</summary>
    private static SGD MomentumSgdWithDistinctState()
    {
        var sgd = new SGD(1, momentum: 0.5);
        using var w = Nd.Zeros(2);
        using var g = Nd.Array([0.123456f, 0.5f], new Shape(2));
        sgd.Update(0, w, g);
        return sgd;
    }

    private static byte[] Saved(Optimizer o)
    {
        var ms = new MemoryStream();
        o.SaveStates(ms);
        return ms.ToArray();
    }

    /// <summary>The saved archive with its meta.json edited, an entry dropped or an extra entry added.</summary>
    private static byte[] Rewrite(Optimizer o, Func<string, string>? meta = null, string? drop = null,
        string? extra = null)
    {
        using var source = new ZipArchive(new MemoryStream(Saved(o)), ZipArchiveMode.Read);
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                if (entry.FullName == drop) continue;
                using var read = entry.Open();
                var data = new MemoryStream();
                read.CopyTo(data);
                byte[] bytes = data.ToArray();
                if (entry.FullName == "meta.json" && meta is not null)
                    bytes = Encoding.UTF8.GetBytes(meta(Encoding.UTF8.GetString(bytes)));
                using var write = zip.CreateEntry(entry.FullName).Open();
                write.Write(bytes);
            }
            if (extra is not null)
            {
                using var write = zip.CreateEntry(extra).Open();
                write.Write("hello"u8);
            }
        }
        return output.ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }

    private static float[] Uniform(Random rng, int n) => Support.TestData.Uniform(rng, n);
}
