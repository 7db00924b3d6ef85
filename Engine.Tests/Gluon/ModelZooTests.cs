using Engine.Gluon;
using Engine.Gluon.Losses;
using Engine.Gluon.NN;
using Engine.Gluon.Vision;
using ZooBasicBlockV1 = Engine.Gluon.Vision.BasicBlockV1;

namespace Engine.Tests.Gluon;

/// <summary>
/// The vision model zoo against MXNet's names and structure (golden lists in ModelZooGolden.cs, produced by
/// tools/golden/gen_modelzoo_names.py from MXNet's naming rules and model-zoo source), forward shapes, training,
/// and saving and loading. Inputs stay small: the ResNets' parameter shapes do not depend on the image size.
/// </summary>
[NonParallelizable]
public class ModelZooTests
{
    private string dir = "";

    [SetUp]
    public void SetUp()
    {
        Block.ResetNameCounters();
        RandomState.Seed(7);
        dir = Path.Combine(Path.GetTempPath(), $"engine-modelzoo-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    public static IEnumerable<TestCaseData> GoldenNetworks()
    {
        yield return new TestCaseData("resnet18_v1", ModelZooGolden.Resnet18V1, 32).SetName("ResNet18V1");
        yield return new TestCaseData("resnet18_v2", ModelZooGolden.Resnet18V2, 32).SetName("ResNet18V2");
        yield return new TestCaseData("resnet50_v1", ModelZooGolden.Resnet50V1, 32).SetName("ResNet50V1");
        yield return new TestCaseData("resnet50_v2", ModelZooGolden.Resnet50V2, 32).SetName("ResNet50V2");
        // VGG's first Dense takes 512 * (size / 32)^2 inputs; the golden shapes are for 32x32.
        yield return new TestCaseData("vgg11", ModelZooGolden.Vgg11, 32).SetName("Vgg11");
        yield return new TestCaseData("vgg11_bn", ModelZooGolden.Vgg11Bn, 32).SetName("Vgg11Bn");
    }

    [TestCaseSource(nameof(GoldenNetworks))]
    public void ParameterNamesShapesAndKeysMatchMXNet(string model, (string Name, int[] Shape, string Key)[] golden,
        int size)
    {
        var net = ModelZoo.GetModel(model);
        net.Initialize();
        using (var x = Nd.Zeros(1, 3, size, size))
        using (var y = net.Call(x))
            y.Shape.ShouldBe(new Shape(1, 1000));
        var parameters = net.CollectParams().Values.ToList();
        parameters.Count.ShouldBe(golden.Length);
        parameters.Select(p => p.Name).ShouldBe(golden.Select(g => g.Name));
        for (int i = 0; i < golden.Length; i++)
            parameters[i].Shape.ShouldBe(new Shape(golden[i].Shape), golden[i].Name);
        var structural = net.StructuralParameters();
        structural.Select(kv => kv.Key).ShouldBe(golden.Select(g => g.Key));
        structural.Select(kv => kv.Value.Name).ShouldBe(golden.Select(g => g.Name));
    }

    [Test]
    public void FirstAndLastNamesAndCountsAsMXNetWritesThem()
    {
        // Spot checks written from MXNet's resnet.py and vgg.py, independent of the generated lists.
        var v1 = ModelZoo.ResNet18V1();
        var names = v1.CollectParams().Keys.ToList();
        names.Count.ShouldBe(102);
        names[0].ShouldBe("resnetv10_conv0_weight");
        names.ShouldContain("resnetv10_stage1_conv0_weight");
        names.ShouldContain("resnetv10_stage2_conv2_weight");     // stage 2's downsample convolution
        names.ShouldNotContain("resnetv10_stage1_conv4_weight");  // stage 1 keeps 64 channels: no downsample
        names[^1].ShouldBe("resnetv10_dense0_bias");
        var v2 = ModelZoo.ResNet18V2();
        var names2 = v2.CollectParams().Keys.ToList();
        names2.Count.ShouldBe(98);
        names2[0].ShouldBe("resnetv20_batchnorm0_gamma");
        names2[^1].ShouldBe("resnetv20_dense0_bias");
        var vgg = ModelZoo.Vgg11();
        var names3 = vgg.CollectParams().Keys.ToList();
        names3.Count.ShouldBe(22);
        names3[0].ShouldBe("vgg0_conv0_weight");
        names3[^1].ShouldBe("vgg0_dense2_bias");
        // A second network of a kind counts on, as MXNet's process-wide name manager does.
        ModelZoo.ResNet18V1().Prefix.ShouldBe("resnetv11_");
        ModelZoo.Vgg16Bn().CollectParams().Keys.Count().ShouldBe(13 * 6 + 6);
    }

    [Test]
    public void NamesDoNotDependOnWhatIsReadFirst()
    {
        // MXNet names layers when they are created; reading the classifier's name before anything else must not
        // renumber the Dense layers of the features.
        var vgg = ModelZoo.Vgg11();
        vgg.Output.Weight.Name.ShouldBe("vgg0_dense2_weight");
        vgg.Features[^2].Prefix.ShouldBe("vgg0_dense1_");
        var resnet = ModelZoo.ResNet18V2();
        ((Conv2D)((HybridBlock)resnet.Features[6]).Children[0].Child.Children[^1].Child).Prefix
            .ShouldBe("resnetv20_stage2_conv2_");
        resnet.Features[^4].Prefix.ShouldBe("resnetv20_batchnorm2_");
        resnet.CollectParams().Keys.ShouldBe(ModelZooGolden.Resnet18V2.Select(g => g.Name));
    }

    [Test]
    public void V2InputNormalisationHasNoScaleOrShift()
    {
        var net = ModelZoo.ResNet18V2(classes: 10, thumbnail: true);
        var bn = (BatchNorm)net.Features[0];
        bn.Scale.ShouldBeFalse();
        bn.Gamma.GradReq.ShouldBe(GradReq.Null);
        bn.Beta.GradReq.ShouldBe(GradReq.Null);
        net.Features[^1].ShouldBeOfType<Flatten>();
    }

    [Test]
    public void ThumbnailNetworksTake32x32Inputs()
    {
        using var x = Nd.RandomNormal(0, 1, new Shape(2, 3, 32, 32));
        var v1 = ModelZoo.ResNet18V1(classes: 10, thumbnail: true);
        v1.Initialize();
        v1.Features.Count.ShouldBe(6);    // conv, 4 stages, global pool
        using (var f = v1.Features.Call(x)) f.Shape.ShouldBe(new Shape(2, 512, 1, 1));
        using (var y = v1.Call(x)) y.Shape.ShouldBe(new Shape(2, 10));
        v1.Features[0].ShouldBeOfType<Conv2D>().Kernel.ShouldBe([3, 3]);
        var v2 = ModelZoo.ResNet18V2(classes: 10, thumbnail: true);
        v2.Initialize();
        using (var f = v2.Features.Call(x)) f.Shape.ShouldBe(new Shape(2, 512));
        using (var y = v2.Call(x)) y.Shape.ShouldBe(new Shape(2, 10));
    }

    [Test]
    public void ImageNetSizedInputsGiveOneRowPerImage()
    {
        using var x = Nd.RandomNormal(0, 1, new Shape(1, 3, 224, 224));
        var v1 = ModelZoo.ResNet18V1(classes: 5);
        v1.Initialize();
        // 224 -> conv 7x7/2 -> 112 -> pool 3x3/2 -> 56 -> stages 56, 28, 14, 7 -> global pool.
        using var stem = v1.Features[..4].Call(x);
        stem.Shape.ShouldBe(new Shape(1, 64, 56, 56));
        using var stage4 = v1.Features[4..^1].Call(stem);
        stage4.Shape.ShouldBe(new Shape(1, 512, 7, 7));
        using var y1 = v1.Output.Call(v1.Features[^1].Call(stage4));
        y1.Shape.ShouldBe(new Shape(1, 5));
        y1.ToArray().ShouldAllBe(v => float.IsFinite(v));
        var v2 = ModelZoo.ResNet18V2(classes: 5);
        v2.Initialize();
        using var y2 = v2.Call(x);
        y2.Shape.ShouldBe(new Shape(1, 5));
        y2.ToArray().ShouldAllBe(v => float.IsFinite(v));
    }

    // VGG's classifier is two Dense(4096) layers whatever the input (17 million parameters), so the training and
    // saving tests use ResNets built small through the public constructors; VGG's keys are checked against MXNet's.
    public static IEnumerable<TestCaseData> SmallResNets()
    {
        yield return new TestCaseData((Func<HybridBlock>)(() => new ResNetV1(
            (c, s, d, i, p) => new ZooBasicBlockV1(c, s, d, i, p), [1, 1], [8, 8, 16], classes: 3, thumbnail: true)))
            .SetName("SmallResNetV1Basic");
        yield return new TestCaseData((Func<HybridBlock>)(() => new ResNetV1(
            (c, s, d, i, p) => new BottleneckV1(c, s, d, i, p), [1, 1], [8, 16, 32], classes: 3, thumbnail: true)))
            .SetName("SmallResNetV1Bottleneck");
        yield return new TestCaseData((Func<HybridBlock>)(() => new ResNetV2(
            (c, s, d, i, p) => new BasicBlockV2(c, s, d, i, p), [1, 1], [8, 8, 16], classes: 3, thumbnail: true)))
            .SetName("SmallResNetV2Basic");
        yield return new TestCaseData((Func<HybridBlock>)(() => new ResNetV2(
            (c, s, d, i, p) => new BottleneckV2(c, s, d, i, p), [1, 1], [8, 16, 32], classes: 3, thumbnail: true)))
            .SetName("SmallResNetV2Bottleneck");
    }

    /// <summary>The loss of the batch in training mode (batch statistics), without recording.</summary>
    private static float TrainingLoss(HybridBlock net, NDArray x, NDArray label)
    {
        using var train = Engine.Autograd.TrainMode();
        using var scope = NDArray.Scope();
        return Nd.Mean(new SoftmaxCrossEntropyLoss().Call(net.Call(x), label)).ToScalar();
    }

    public static IEnumerable<TestCaseData> TrainableNetworks() => SmallResNets().Append(
        new TestCaseData((Func<HybridBlock>)(() => ModelZoo.ResNet18V1(classes: 3, thumbnail: true)))
            .SetName("ResNet18V1Thumbnail"));

    [TestCaseSource(nameof(TrainableNetworks))]
    public void TrainingStepsLowerTheLoss(Func<HybridBlock> make)
    {
        var net = make();
        net.Initialize(new Engine.Gluon.Initializers.Xavier());
        using var x = Nd.RandomNormal(0, 1, new Shape(4, 3, 16, 16));
        using var label = Nd.Array(new float[] { 0, 1, 2, 1 });
        var loss = new SoftmaxCrossEntropyLoss();
        var trainer = new Trainer(net.CollectParams(), "sgd", new() { ["learning_rate"] = 0.01 });
        float before = TrainingLoss(net, x, label);
        for (int step = 0; step < 2; step++)
        {
            using var scope = NDArray.Scope();
            NDArray l;
            using (Engine.Autograd.Record()) l = loss.Call(net.Call(x), label);
            l.Backward();
            trainer.Step(4);
        }
        float after = TrainingLoss(net, x, label);
        after.ShouldBeLessThan(before);
    }

    [TestCaseSource(nameof(SmallResNets))]
    public void SaveAndLoadReproduceTheOutputs(Func<HybridBlock> make)
    {
        var net = make();
        net.Initialize();
        using var x = Nd.RandomNormal(0, 1, new Shape(2, 3, 8, 8));
        using (Engine.Autograd.Record())
        {
            using var y = net.Call(x);
            y.Backward();    // moves the batch-norm running statistics away from their initial values
        }
        string file = Path.Combine(dir, "net.params");
        net.SaveParameters(file);
        var keys = Engine.IO.MXNetParams.Load(file).Select(kv => kv.Key).ToList();
        keys.ShouldBe(net.StructuralParameters().Select(kv => kv.Key));
        keys.ShouldContain("output.weight");
        keys.ShouldContain(k => k.StartsWith("features.") && k.EndsWith(".running_var"));
        var fresh = make();
        fresh.LoadParameters(file);
        using var a = net.Call(x);
        using var b = fresh.Call(x);
        b.ToArray().ShouldBe(a.ToArray());
        foreach (var (key, p) in fresh.StructuralParameters())
            p.Data().ToArray().ShouldBe(net.StructuralParameters().Single(kv => kv.Key == key).Value.Data().ToArray());
    }

    [Test]
    public void ParametersExportedByMXNetLoadByName()
    {
        // An MXNet export of resnet18_v1 stores arg:NAME for learned parameters and aux:NAME for the running
        // statistics. Write such a file from the golden names and shapes, then load it by name.
        string file = Path.Combine(dir, "resnet18_v1-0000.params");
        var arrays = ModelZooGolden.Resnet18V1.Select(g => new KeyValuePair<string, NDArray>(
            (g.Name.Contains("_running_") ? "aux:" : "arg:") + g.Name,
            Nd.RandomUniform(0.5, 1.5, new Shape(g.Shape)))).ToList();
        Engine.IO.MXNetParams.Save(file, arrays);
        var net = ModelZoo.ResNet18V1(classes: 1000);
        net.Initialize();
        using (var probe = Nd.Zeros(1, 3, 32, 32)) net.Call(probe).Dispose();
        var parameters = net.CollectParams();
        var loaded = Engine.IO.MXNetParams.Load(file);
        var unmatched = new List<string>();
        foreach (var (key, value) in loaded)
        {
            string name = key[4..];
            if (!parameters.TryGet(name, out var p)) unmatched.Add(key);
            else p.SetData(value);
        }
        unmatched.ShouldBeEmpty();
        loaded.Count.ShouldBe(parameters.Count);
        foreach (var (key, value) in loaded)
        {
            using var scope = NDArray.Scope();
            Nd.Sum(parameters[key[4..]].Data()).ToScalar().ShouldBe(Nd.Sum(value).ToScalar(), key);
        }
        using var y = net.Call(Nd.Ones(1, 3, 32, 32));
        y.Shape.ShouldBe(new Shape(1, 1000));
        foreach (var kv in arrays.Concat(loaded)) kv.Value.Dispose();
    }

    [Test]
    public void ParametersSavedByMXNetUnderStructuralKeysLoad()
    {
        // MXNet's save_parameters writes structural keys (features.0.gamma, features.6.0.downsample.weight, ...).
        // Write such a file for resnet18_v2 from the golden keys and shapes and load it into a network that has not
        // run yet: the deferred shapes come from the file.
        string file = Path.Combine(dir, "resnet18_v2.params");
        var arrays = ModelZooGolden.Resnet18V2.Select(g => new KeyValuePair<string, NDArray>(g.Key,
            Nd.RandomUniform(0.5, 1.5, new Shape(g.Shape)))).ToList();
        Engine.IO.MXNetParams.Save(file, arrays);
        var net = ModelZoo.ResNet18V2();
        net.LoadParameters(file);
        var byKey = net.StructuralParameters().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (key, value) in arrays)
        {
            using var scope = NDArray.Scope();
            byKey[key].Shape.ShouldBe(value.Shape, key);
            Nd.Sum(byKey[key].Data()).ToScalar().ShouldBe(Nd.Sum(value).ToScalar(), key);
        }
        using (var y = net.Call(Nd.Ones(1, 3, 32, 32))) y.Shape.ShouldBe(new Shape(1, 1000));
        foreach (var kv in arrays) kv.Value.Dispose();
    }

    [Test]
    public void SeedBasicBlockInANameScopeIsNamedAsInMXNet()
    {
        // seeds/000: the block creates its children without entering its own name scope, so inside a
        // HybridSequential's scope they are named under the container: hybridsequential0_conv0_, ...
        var net = new HybridSequential();
        using (net.NameScope())
        {
            net.Add(new ZooBasicBlockV1(4, 1, inChannels: 4));
            net.Add(new ZooBasicBlockV1(8, 2, downsample: true, inChannels: 4));
        }
        net.Initialize();
        using var x = Nd.RandomNormal(0, 1, new Shape(2, 4, 6, 6));
        using var y = net.Call(x);
        y.Shape.ShouldBe(new Shape(2, 8, 3, 3));
        var names = net.CollectParams().Keys.ToList();
        names.Where(n => n.EndsWith("_weight")).ShouldBe([
            "hybridsequential0_conv0_weight", "hybridsequential0_conv1_weight", "hybridsequential0_conv2_weight",
            "hybridsequential0_conv3_weight", "hybridsequential0_conv4_weight"]);
        names.Count.ShouldBe(5 + 5 * 4);
        names.ShouldContain("hybridsequential0_batchnorm4_running_var");
        net[0].Prefix.ShouldBe("hybridsequential0_basicblockv10_");
        var keys = net.StructuralParameters().Select(kv => kv.Key).ToList();
        keys[0].ShouldBe("0.body.0.weight");
        keys.ShouldContain("1.downsample.0.weight");
        keys.ShouldContain("1.downsample.1.running_mean");
        ((ZooBasicBlockV1)net[0]).Downsample.ShouldBeNull();

        // The forward is relu(body(x) + shortcut(x)); compare with the same operators called by hand.
        var block = (ZooBasicBlockV1)net[1];
        using var z = block.Call(((ZooBasicBlockV1)net[0]).Call(x));
        using var scope = NDArray.Scope();
        var h = ((ZooBasicBlockV1)net[0]).Call(x);
        NDArray Conv(Conv2D c, NDArray v) =>
            Nd.Convolution(v, c.Weight.Data(), null, c.Strides, c.Padding, c.Dilation, c.Groups);
        NDArray Bn(BatchNorm b, NDArray v) =>
            Nd.BatchNorm(v, b.Gamma.Data(), b.Beta.Data(), b.RunningMean.Data(), b.RunningVar.Data(), b.Epsilon,
                b.Momentum, fixGamma: false, useGlobalStats: false, axis: 1);
        var body = block.Body;
        var main = Bn((BatchNorm)body[4], Conv((Conv2D)body[3],
            Nd.Relu(Bn((BatchNorm)body[1], Conv((Conv2D)body[0], h)))));
        var shortcut = Bn((BatchNorm)block.Downsample![1], Conv((Conv2D)block.Downsample[0], h));
        z.ToArray().ShouldBe(Nd.Relu(main + shortcut).ToArray(), tolerance: 1e-6f);
    }

    [Test]
    public void FactoriesCheckTheirArguments()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => ModelZoo.GetResNet(1, 20)).Message
            .ShouldContain("Options are 18, 34, 50, 101, 152");
        Should.Throw<ArgumentOutOfRangeException>(() => ModelZoo.GetResNet(3, 18)).Message
            .ShouldContain("Options are 1 and 2");
        Should.Throw<ArgumentOutOfRangeException>(() => ModelZoo.GetVgg(12)).Message
            .ShouldContain("Options are 11, 13, 16, 19");
        var pretrained = Should.Throw<NotSupportedException>(() => ModelZoo.ResNet50V2(pretrained: true));
        pretrained.Message.ShouldContain("resnet50_v2");
        pretrained.Message.ShouldContain("LoadParameters");
        Should.Throw<NotSupportedException>(() => ModelZoo.Vgg16Bn(pretrained: true)).Message.ShouldContain("vgg16_bn");
        var unknown = Should.Throw<ArgumentException>(() => ModelZoo.GetModel("resnet19_v1"));
        unknown.Message.ShouldContain("Available options are");
        unknown.Message.ShouldContain("vgg19_bn");
        Should.Throw<ArgumentException>(() => ModelZoo.GetModel("vgg11", thumbnail: true));
        ModelZoo.GetModel("ResNet34_V2").ShouldBeOfType<ResNetV2>();
        ModelZoo.GetModel("vgg13_bn").CollectParams().Keys.ShouldContain("vgg0_batchnorm9_gamma");
        ModelZoo.ModelNames.Count.ShouldBe(18);
        Should.Throw<ArgumentException>(() => new ResNetV1((c, s, d, i, p) => new ZooBasicBlockV1(c, s, d, i, p),
            [2, 2], [64, 64])).Message.ShouldContain("one more entry");
        Should.Throw<ArgumentOutOfRangeException>(() => new BottleneckV1(30, 1)).Message
            .ShouldContain("divisible by 4");
        Should.Throw<ArgumentOutOfRangeException>(() => new BasicBlockV2(8, 0)).Message.ShouldContain("stride");
        Should.Throw<ArgumentException>(() => new Vgg([1, 1], [8], 10)).Message.ShouldContain("same");
        Should.Throw<ArgumentOutOfRangeException>(() => ModelZoo.ResNet18V1(classes: 0));
    }
}
