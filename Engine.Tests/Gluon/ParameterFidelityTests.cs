using Engine.Gluon;
using Engine.Gluon.Initializers;
using Engine.Gluon.NN;
using Engine.Gluon.Optimizers;

namespace Engine.Tests.Gluon;

/// <summary>Parameters and ParameterDicts that must behave as MXNet 1.x's: attributes, saving, loading,
/// devices.</summary>
[NonParallelizable]
public class ParameterFidelityTests
{
    private static readonly Device Cpu0 = Device.Cpu;
    private static readonly Device Cpu1 = new(DeviceKind.Cpu, 1);
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        dir = Path.Combine(Path.GetTempPath(), "engine-params-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    [Test]
    public void ASingleLayerSavedWithSaveParametersLoadsBack()
    {
        var d = new Dense(3, inUnits: 2);
        d.Initialize(new Xavier());
        string file = Path.Combine(dir, "dense.params");
        d.SaveParameters(file);                         // keys weight and bias: no dot, MXNet's legacy path
        var d2 = new Dense(3, inUnits: 2);
        d2.Prefix.ShouldBe("dense1_");
        d2.LoadParameters(file);
        d2.Weight.Data().ToArray<float>().ShouldBe(d.Weight.Data().ToArray<float>());

        // Full names saved without stripping do not match another prefix: the error gives the hint.
        string full = Path.Combine(dir, "full.params");
        d.CollectParams().Save(full);
        Should.Throw<InvalidDataException>(() => d2.LoadParameters(full)).Message
            .ShouldContain("same prefix");
    }

    [Test]
    public void ParameterDictSaveStripsAndLoadRestoresPrefixes()
    {
        var a = new Dense(2, inUnits: 2, prefix: "a_");
        a.Initialize(new Constant(3));
        string file = Path.Combine(dir, "a.params");
        a.CollectParams().Save(file, stripPrefix: "a_");
        Should.Throw<ArgumentException>(() => a.CollectParams().Save(file, stripPrefix: "b_")).Message
            .ShouldContain("Prefix 'b_' is to be striped before saving");
        var b = new Dense(2, inUnits: 2, prefix: "b_");
        b.Initialize(new Constant(0));
        b.CollectParams().Load(file, restorePrefix: "b_");
        b.Weight.Data().ToArray<float>().ShouldAllBe(v => v == 3f);
        Should.Throw<InvalidDataException>(() => b.CollectParams().Load(file)).Message
            .ShouldContain("Parameter 'b_weight' is missing");
        Should.Throw<ArgumentException>(() => b.CollectParams().Load(file, restorePrefix: "c_")).Message
            .ShouldContain("restorePrefix is 'c_' but Parameters name 'b_weight' does not start with 'c_'");
    }

    [Test]
    public void LoadingCastsAsAskedAndChecksEverythingFirst()
    {
        var wide = new Dense(2, inUnits: 2, dtype: DType.Float64, prefix: "w_");
        wide.Initialize(new Constant(1.25));
        string file = Path.Combine(dir, "wide.params");
        wide.SaveParameters(file);

        var narrow = new Dense(2, inUnits: 2, prefix: "n_");
        narrow.Initialize(new Constant(0));
        Should.Throw<InvalidDataException>(() => narrow.LoadParameters(file)).Message.ShouldContain("castDType");
        Should.Throw<ArgumentException>(() => narrow.LoadParameters(file, castDType: true, dtypeSource: "best"));
        narrow.LoadParameters(file, castDType: true);                 // dtypeSource "current"
        narrow.Weight.DType.ShouldBe(DType.Float32);
        narrow.Weight.Data().ToArray<float>().ShouldAllBe(v => v == 1.25f);
        var taker = new Dense(2, inUnits: 2, prefix: "t_");
        taker.Initialize(new Constant(0));
        taker.LoadParameters(file, castDType: true, dtypeSource: "saved");
        taker.Weight.DType.ShouldBe(DType.Float64);
        taker.Weight.Data().ToArray<double>().ShouldAllBe(v => v == 1.25);

        // A bad shape for the bias leaves the weight, which comes first, as it was.
        string mixed = Path.Combine(dir, "mixed.params");
        using (var w = Nd.Full(new Shape(2, 2), 9.0))
        using (var b = Nd.Full(new Shape(3), 9.0))
            Engine.IO.MXNetParams.Save(mixed, [new("weight", w), new("bias", b)]);
        Should.Throw<InvalidDataException>(() => narrow.LoadParameters(mixed)).Message.ShouldContain("shape");
        narrow.Weight.Data().ToArray<float>().ShouldAllBe(v => v == 1.25f);
    }

    [Test]
    public void SetAttrGradReqSkipsRunningStatisticsAndChecksTheValueFirst()
    {
        var net = new HybridSequential();
        net.Add(new Dense(4, inUnits: 3), new BatchNorm(inChannels: 4));
        var all = net.CollectParams();
        all.SetAttr("grad_req", "add");
        all.Values.Where(p => p.Name.Contains("running")).ShouldAllBe(p => p.GradReq == GradReq.Null);
        all.Values.Where(p => !p.Name.Contains("running")).ShouldAllBe(p => p.GradReq == GradReq.Add);
        Should.Throw<ArgumentException>(() => all.SetAttr("grad_req", "sometimes"));
        Should.Throw<ArgumentException>(() => all.SetAttr("lr_mult", "fast"));
        all.Values.Where(p => !p.Name.Contains("running")).ShouldAllBe(p => p.GradReq == GradReq.Add);
        all.Values.ShouldAllBe(p => p.LrMult == 1);
    }

    [Test]
    public void InitializeChangesAllParametersOrNone()
    {
        var dict = new ParameterDict("p_");
        var known = dict.Get("known", new Shape(2));
        dict.Get("unknown", new Shape(0, 2));         // no deferred initialisation allowed
        Should.Throw<InvalidOperationException>(() => dict.Initialize()).Message
            .ShouldContain("Cannot initialize Parameter 'p_unknown'");
        known.IsInitialized.ShouldBeFalse();
    }

    [Test]
    public void GetChecksEveryAttributeItWasGiven()
    {
        var dict = new ParameterDict("p_");
        var w = dict.Get("w", new Shape(2, 3), gradReq: GradReq.Null, dtype: DType.Float16);
        dict.Get("w").ShouldBeSameAs(w);                    // nothing given: nothing to disagree with
        dict.Get("w", new Shape(0, 3)).ShouldBeSameAs(w);
        Should.Throw<ArgumentException>(() => dict.Get("w", gradReq: GradReq.Write)).Message
            .ShouldContain("attribute 'grad_req': desired 'write' vs stored 'null'");
        Should.Throw<ArgumentException>(() => dict.Get("w", dtype: DType.Float32)).Message
            .ShouldContain("attribute 'dtype'");
        Should.Throw<ArgumentException>(() => dict.Get("w", new Shape(2, 4))).Message.ShouldContain("'shape'");
        Should.Throw<ArgumentException>(() => dict.Get("w", lrMult: 2)).Message.ShouldContain("'lr_mult'");
        dict.Get("w", init: new Constant(1)).Init.ShouldBeOfType<Constant>();   // set where there was none
        dict.Get("w", init: new Constant(1)).ShouldBeSameAs(w);
        Should.Throw<ArgumentException>(() => dict.Get("w", init: new Constant(2))).Message
            .ShouldContain("attribute 'init'");
    }

    [Test]
    public void ParametersLiveOnSeveralDevices()
    {
        var net = new Dense(2, inUnits: 3);
        net.Initialize(new Xavier(), device: [Cpu0, Cpu1]);
        net.Weight.ListDevices().ShouldBe([Cpu0, Cpu1]);
        net.Weight.ListData().Select(d => d.Device).ShouldBe([Cpu0, Cpu1]);
        net.Weight.ListData()[1].ToArray<float>().ShouldBe(net.Weight.ListData()[0].ToArray<float>());
        net.Weight.ListGrad().Select(g => g.Device).ShouldBe([Cpu0, Cpu1]);
        net.Weight.Data(Cpu1).Device.ShouldBe(Cpu1);
        Should.Throw<InvalidOperationException>(() => net.Weight.Data(new Device(DeviceKind.Cpu, 2))).Message
            .ShouldContain("was not initialized on device cpu(2). It was only initialized on [cpu(0), cpu(1)]");
        using (DefaultDevice.Use(Cpu1)) net.Weight.Data().Device.ShouldBe(Cpu1);

        net.CollectParams().ResetDevice(Cpu1);
        net.Weight.ListDevices().ShouldBe([Cpu1]);
        using var x = Nd.Array(new float[] { 1, 2, 3 }, new Shape(1, 3), Cpu1);
        using var y = net.Call(x);
        y.Device.ShouldBe(Cpu1);
        Should.Throw<ArgumentException>(() => DeviceList.Create([Cpu0, Cpu0]));
    }

    [Test]
    public void DataParallelTrainingMatchesOneDevice()
    {
        float[] xs = [1, 2, 0.5f, -1, 3, 1, -2, 0.5f, 0, 1, 1, 1];       // four samples of three features
        float[] ys = [1, 0, -1, 2];

        // Reference: the whole batch on one device.
        var single = new Dense(1, inUnits: 3, prefix: "single_");
        single.Initialize(new Constant(0.1));
        var t1 = new Trainer(single.CollectParams(), new SGD(learningRate: 0.5));
        using (var x = Nd.Array(xs, new Shape(4, 3)))
        using (var y = Nd.Array(ys, new Shape(4, 1)))
        {
            NDArray l;
            using (Engine.Autograd.Record()) l = Nd.Sum(Nd.Square(single.Call(x) - y));
            l.Backward();
        }
        t1.Step(4);

        // Data parallel: two samples on cpu(0), two on cpu(1), gradients summed by the Trainer.
        var twin = new Dense(1, inUnits: 3, prefix: "twin_");
        twin.Initialize(new Constant(0.1), device: [Cpu0, Cpu1]);
        var t2 = new Trainer(twin.CollectParams(), new SGD(learningRate: 0.5));
        var devices = new[] { Cpu0, Cpu1 };
        for (int k = 0; k < 2; k++)
        {
            using var x = Nd.Array(xs[(6 * k)..(6 * k + 6)], new Shape(2, 3), devices[k]);
            using var y = Nd.Array(ys[(2 * k)..(2 * k + 2)], new Shape(2, 1), devices[k]);
            NDArray l;
            using (Engine.Autograd.Record()) l = Nd.Sum(Nd.Square(twin.Call(x) - y));
            l.Backward();
        }
        t2.AllreduceGrads();
        twin.Weight.ListGrad()[1].ToArray<float>().ShouldBe(twin.Weight.ListGrad()[0].ToArray<float>());
        t2.Update(4);
        var expected = single.Weight.Data().ToArray<float>();
        foreach (var copy in twin.Weight.ListData())
        {
            var got = copy.ToArray<float>();
            for (int i = 0; i < expected.Length; i++) got[i].ShouldBe(expected[i], 1e-6f);
        }
        twin.Bias!.ListData()[1].ToArray<float>()[0].ShouldBe(single.Bias!.Data().ToArray<float>()[0], 1e-6f);

        // Saved as the mean of the copies (equal here), and mixed device sets are refused.
        string file = Path.Combine(dir, "twin.params");
        twin.SaveParameters(file);
        var other = new Dense(1, inUnits: 3, prefix: "other_");
        other.Initialize(device: Cpu0);
        var mixed = new Trainer(twin.CollectParams().Values.Concat(other.CollectParams().Values), new SGD());
        Should.Throw<InvalidOperationException>(() => mixed.Step(1)).Message
            .ShouldContain("All Parameters must be initialized on the same set of devices");
    }
}
