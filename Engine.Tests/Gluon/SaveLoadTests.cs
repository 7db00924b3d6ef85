using Engine.Gluon;
using Engine.Gluon.NN;

namespace Engine.Tests.Gluon;

[NonParallelizable]
public class SaveLoadTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        dir = Path.Combine(Path.GetTempPath(), $"engine-saveload-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    private static Net Trained(NDArray x)
    {
        var net = new Net();
        net.Initialize();
        net.Call(x).Dispose();
        return net;
    }

    [Test]
    public void RoundTripGivesIdenticalOutputs()
    {
        using var x = Nd.RandomNormal(0, 1, new Shape(4, 1, 28, 28));
        var net = Trained(x);
        string file = Path.Combine(dir, "net.params");
        net.SaveParameters(file);
        var keys = Engine.IO.MXNetParams.Load(file).Select(k => k.Key).ToList();
        keys.ShouldContain("conv1.weight");
        keys.ShouldContain("fc3_weight");
        var fresh = new Net();
        fresh.LoadParameters(file);
        using var a = net.Call(x);
        using var b = fresh.Call(x);
        b.ToArray().ShouldBe(a.ToArray());
    }

    [Test]
    public void BatchNormRunningStatsAreSavedToo()
    {
        var block = new BasicBlockV1(4, 1, downsample: false, inChannels: 4);
        block.Initialize();
        using (Engine.Autograd.Record()) block.Call(Nd.RandomNormal(1, 2, new Shape(2, 4, 5, 5))).Dispose();
        string file = Path.Combine(dir, "block.params");
        block.SaveParameters(file);
        var keys = Engine.IO.MXNetParams.Load(file).Select(k => k.Key).ToList();
        keys.ShouldContain("body.1.running_mean");
        var fresh = new BasicBlockV1(4, 1, downsample: false, inChannels: 4);
        fresh.LoadParameters(file);
        var saved = ((BatchNorm)((HybridSequential)block.Children[0].Child)[1]).RunningMean.Data().ToArray();
        var loaded = ((BatchNorm)((HybridSequential)fresh.Children[0].Child)[1]).RunningMean.Data().ToArray();
        loaded.ShouldBe(saved);
        saved.ShouldNotBe(new float[4]);
    }

    [Test]
    public void MissingAndExtraKeysAreNamed()
    {
        var small = new Dense(3, inUnits: 2);
        small.Initialize();
        string file = Path.Combine(dir, "dense.params");
        var seq = new Sequential();
        seq.Add(new Dense(3, inUnits: 2), new Dense(4, inUnits: 3));
        seq.Initialize();
        seq.SaveParameters(file);
        var one = new Sequential();
        one.Add(new Dense(3, inUnits: 2));
        var extra = Should.Throw<InvalidDataException>(() => one.LoadParameters(file));
        extra.Message.ShouldContain("Parameter '1.weight' loaded from file");
        extra.Message.ShouldContain("Set ignoreExtra: true to ignore");
        one.LoadParameters(file, ignoreExtra: true);
        var three = new Sequential();
        three.Add(new Dense(3, inUnits: 2), new Dense(4, inUnits: 3), new Dense(5, inUnits: 4));
        var missing = Should.Throw<InvalidDataException>(() => three.LoadParameters(file));
        missing.Message.ShouldContain("Parameter '2.weight' is missing in file");
        missing.Message.ShouldContain("allowMissing: true");
        three.LoadParameters(file, allowMissing: true);
        var wrong = new Sequential();
        wrong.Add(new Dense(7, inUnits: 2), new Dense(4, inUnits: 7));
        Should.Throw<InvalidDataException>(() => wrong.LoadParameters(file))
            .Message.ShouldContain("shape incompatible");
    }

    [Test]
    public void CorruptedOrTruncatedFilesRaiseErrorsThatNameTheFile()
    {
        var d = new Dense(3, inUnits: 2);
        d.Initialize();
        string file = Path.Combine(dir, "d.params");
        var seq = new Sequential();
        seq.Add(d);
        seq.SaveParameters(file);
        var bytes = File.ReadAllBytes(file);
        foreach (int cut in new[] { 0, 5, 20, 30, 60, bytes.Length - 1 })
        {
            string bad = Path.Combine(dir, $"cut{cut}.params");
            File.WriteAllBytes(bad, bytes[..cut]);
            var fresh = new Sequential();
            fresh.Add(new Dense(3, inUnits: 2));
            var e = Should.Throw<InvalidDataException>(() => fresh.LoadParameters(bad));
            e.Message.ShouldContain(bad);
        }
        var flipped = (byte[])bytes.Clone();
        flipped[0] ^= 0xff;
        string corrupt = Path.Combine(dir, "corrupt.params");
        File.WriteAllBytes(corrupt, flipped);
        var f2 = new Sequential();
        f2.Add(new Dense(3, inUnits: 2));
        Should.Throw<InvalidDataException>(() => f2.LoadParameters(corrupt)).Message.ShouldContain(corrupt);
        Should.Throw<FileNotFoundException>(() => f2.LoadParameters(Path.Combine(dir, "none.params")));
    }

    [Test]
    public void DeferredParametersTakeTheirShapeFromTheFile()
    {
        var seq = new Sequential();
        seq.Add(new Dense(3, inUnits: 5));
        seq.Initialize();
        string file = Path.Combine(dir, "deferred.params");
        seq.SaveParameters(file);
        var fresh = new Sequential();
        fresh.Add(new Dense(3));
        fresh.LoadParameters(file);
        ((Dense)fresh[0]).Weight.Shape.ShouldBe(new Shape(3, 5));
        using var x = Nd.Ones(2, 5);
        using var a = seq.Call(x);
        using var b = fresh.Call(x);
        b.ToArray().ShouldBe(a.ToArray());
    }
}
