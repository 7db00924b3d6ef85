using Engine.Gluon;
using Engine.Gluon.NN;
using Engine.Kernels;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Gluon;

/// <summary>
/// The Conv3D, Conv1D/2D/3DTranspose and 1-D/3-D pooling layers: MXNet's parameter names and shapes (deferred
/// in_channels included), outputs against the naive references, MXNet's text, and errors that name the layer.
/// </summary>
[NonParallelizable]
public class ConvolutionNdLayerTests
{
    [SetUp]
    public void FreshNames() => Block.ResetNameCounters();

    private static NDArray Input(int seed, params int[] shape) =>
        Nd.Array(TestData.Uniform(new Random(seed), new Shape(shape).Size), new Shape(shape));

    private static double[] D(NDArray a) => a.ToArray<float>().Select(v => (double)v).ToArray();

    private static float[] F(IEnumerable<double> v) => v.Select(e => (float)e).ToArray();

    [Test]
    public void TransposedConvolutionsUseMXNetsNamesAndWeightLayout()
    {
        var net = new HybridSequential();
        using (net.NameScope())
            net.Add(new Conv2DTranspose(8, 4, strides: 2, padding: 1), new Conv3D(4, 3),
                new Conv1DTranspose(6, 3, groups: 2, useBias: false, inChannels: 4),
                new Conv3DTranspose(2, 2, strides: 2, outputPadding: 1, inChannels: 3));
        var p = net.CollectParams();
        p.Keys.ShouldBe(["hybridsequential0_conv0_weight", "hybridsequential0_conv0_bias",
            "hybridsequential0_conv1_weight", "hybridsequential0_conv1_bias", "hybridsequential0_conv2_weight",
            "hybridsequential0_conv3_weight", "hybridsequential0_conv3_bias"]);
        // Deferred: the input channels (dimension 0 of a transposed weight) are unknown until the first call.
        p["hybridsequential0_conv0_weight"].Shape.ShouldBe(new Shape(0, 8, 4, 4));
        p["hybridsequential0_conv1_weight"].Shape.ShouldBe(new Shape(4, 0, 3, 3, 3));
        p["hybridsequential0_conv2_weight"].Shape.ShouldBe(new Shape(4, 3, 3));
        p["hybridsequential0_conv3_weight"].Shape.ShouldBe(new Shape(3, 2, 2, 2, 2));
        p["hybridsequential0_conv3_bias"].Shape.ShouldBe(new Shape(2));

        var layer = new Conv2DTranspose(5, 3, groups: 1);
        layer.ToString().ShouldBe("Conv2DTranspose(5 -> 0, kernel_size=(3, 3), stride=(1, 1))");
        layer.Initialize();
        using var y = layer.Call(Input(1, 2, 7, 4, 4));
        layer.Weight.Shape.ShouldBe(new Shape(7, 5, 3, 3));
        layer.Bias!.Shape.ShouldBe(new Shape(5));
        y.Shape.ShouldBe(new Shape(2, 5, 6, 6));
        new Conv2DTranspose(4, 4, strides: 2, padding: 1, outputPadding: 1, groups: 2, useBias: false).ToString()
            .ShouldBe("Conv2DTranspose(2 -> 0, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), " +
                      "output_padding=(1, 1), groups=2, bias=False)");
    }

    [Test]
    public void Conv2DTransposeComputesTheScatterReference()
    {
        var layer = new Conv2DTranspose(3, (3, 2), strides: (2, 1), padding: (1, 0), outputPadding: (1, 0),
            dilation: (1, 2), groups: 1, activation: "relu");
        layer.Initialize();
        using var x = Input(2, 2, 4, 3, 3);
        using var y = layer.Call(x);
        var (expected, shape) = ConvolutionNdReference.ConvTranspose(D(x), [2, 4, 3, 3],
            D(layer.Weight.Data()), [4, 3, 3, 2], D(layer.Bias!.Data()), [2, 1],
            [1, 0], [1, 0], [1, 2], 1);
        y.Shape.ShouldBe(new Shape(shape));
        TensorAssert.AllClose(y.ToArray<float>(), F(expected.Select(v => Math.Max(v, 0))), Tolerances.Float32Gemm(36),
            "Conv2DTranspose with relu");
    }

    [Test]
    public void Conv3DComputesTheGatherReferenceAndTrains()
    {
        var layer = new Conv3D(4, (2, 3, 3), strides: (1, 2, 1), padding: (0, 1, 1), dilation: (1, 1, 2),
            groups: 2);
        layer.Initialize();
        using var x = Input(3, 1, 6, 3, 5, 6);
        NDArray y;
        using (Engine.Autograd.Record()) y = layer.Call(x);
        layer.Weight.Shape.ShouldBe(new Shape(4, 3, 2, 3, 3));
        var expected = ConvolutionNdReference.Conv(D(x), [1, 6, 3, 5, 6],
            D(layer.Weight.Data()), [4, 3, 2, 3, 3], D(layer.Bias!.Data()), [1, 2, 1],
            [0, 1, 1], [1, 1, 2], 2);
        TensorAssert.AllClose(y.ToArray<float>(), F(expected), Tolerances.Float32Gemm(54), "Conv3D");
        y.Backward();
        layer.Bias.Grad().ToArray<float>().ShouldAllBe(g => g == y.Shape.SizeOf(2, 5));
        y.Dispose();
    }

    [Test]
    public void PoolingLayersOf1DAnd3D()
    {
        using var x3 = Input(4, 2, 3, 5, 6, 7);
        using var x1 = Input(5, 2, 3, 9);
        new MaxPool3D().Call(x3).Shape.ShouldBe(new Shape(2, 3, 2, 3, 3));
        new AvgPool3D(3, 2, 1, ceilMode: true, countIncludePad: false).Call(x3).Shape
            .ShouldBe(new Shape(2, 3, 3, 4, 4));
        new MaxPool3D((1, 2, 3), (1, 2, 3), (0, 1, 1)).Call(x3).Shape.ShouldBe(new Shape(2, 3, 5, 4, 3));
        using var gmax3 = new GlobalMaxPool3D().Call(x3);
        gmax3.Shape.ShouldBe(new Shape(2, 3, 1, 1, 1));
        using var gavg1 = new GlobalAvgPool1D().Call(x1);
        gavg1.Shape.ShouldBe(new Shape(2, 3, 1));
        var v1 = x1.ToArray<float>();
        gavg1.ToArray<float>()[4].ShouldBe(v1.Skip(4 * 9).Take(9).Average(), 1e-6);
        var v3 = x3.ToArray<float>();
        gmax3.ToArray<float>()[5].ShouldBe(v3.Skip(5 * 210).Take(210).Max());
        new GlobalMaxPool1D().Call(x1).Shape.ShouldBe(new Shape(2, 3, 1));
        new GlobalAvgPool3D().Call(x3).Shape.ShouldBe(new Shape(2, 3, 1, 1, 1));

        new MaxPool3D(2, 1, 1).ToString().ShouldBe("MaxPool3D(size=(2, 2, 2), stride=(1, 1, 1), padding=(1, 1, 1), " +
            "ceil_mode=False, global_pool=False, pool_type=max, layout=NCDHW)");
        new GlobalAvgPool1D().ToString().ShouldBe("GlobalAvgPool1D(size=(1,), stride=(1,), padding=(0,), " +
            "ceil_mode=True, global_pool=True, pool_type=avg, layout=NCW)");
        new GlobalMaxPool2D().ToString().ShouldBe("GlobalMaxPool2D(size=(1, 1), stride=(1, 1), padding=(0, 0), " +
            "ceil_mode=True, global_pool=True, pool_type=max, layout=NCHW)");
    }

    [TestCase(2)]
    [TestCase(3)]
    public void HybridizedGradientsEqualImperativeOnes(int spatial)
    {
        (float[] Y, float[][] Grads) Run(bool hybridize)
        {
            Block.ResetNameCounters();
            RandomState.Seed(9);
            var net = new HybridSequential();
            if (spatial == 2)
                net.Add(new Conv2DTranspose(4, 3, strides: 2, padding: 1, outputPadding: 1, activation: "relu"),
                    new AvgPool2D(2), new Conv2DTranspose(2, 2, groups: 2, useBias: false), new GlobalMaxPool2D());
            else
                net.Add(new Conv3DTranspose(3, 2, strides: 2, activation: "tanh"), new MaxPool3D(2, 1),
                    new Conv3D(2, 2, padding: 1), new AvgPool3D(2, ceilMode: true), new GlobalAvgPool3D());
            net.Initialize();
            if (hybridize) net.Hybridize();
            using var input = spatial == 2 ? Input(7, 2, 6, 5, 5) : Input(7, 2, 3, 3, 2, 3);
            NDArray y;
            using (Engine.Autograd.Record()) y = net.Call(input);
            y.Backward();
            var grads = net.CollectParams().Values.Select(p => p.Grad().ToArray<float>()).ToArray();
            return (y.ToArray<float>(), grads);
        }
        var eager = Run(false);
        var traced = Run(true);
        traced.Y.ShouldBe(eager.Y);
        traced.Grads.Length.ShouldBe(eager.Grads.Length);
        for (int k = 0; k < eager.Grads.Length; k++)
            TensorAssert.AllClose(traced.Grads[k], eager.Grads[k], Tolerances.Float32Elementwise, $"gradient {k}");
    }

    private static IEnumerable<TestCaseData> BadLayers()
    {
        TestCaseData Bad(string name, TestDelegate make, params string[] expected) =>
            new TestCaseData(make, expected).SetName($"{{m}}({name})");
        yield return Bad("output_padding not below stride", () => _ = new Conv2DTranspose(4, 3, strides: 2,
            outputPadding: 2), "Conv2DTranspose", "output_padding (2, 2) must be smaller than strides (2, 2)");
        yield return Bad("groups", () => _ = new Conv3DTranspose(5, 3, groups: 2), "Conv3DTranspose",
            "channels 5 must be divisible by groups 2");
        yield return Bad("kernel", () => _ = new Conv1DTranspose(5, 0), "Conv1DTranspose", "kernel_size (0)");
        yield return Bad("in_channels", () => _ = new Conv2DTranspose(4, 3, groups: 2, inChannels: 3),
            "Conv2DTranspose", "in_channels 3");
        yield return Bad("transpose input rank", () =>
        {
            var layer = new Conv3DTranspose(2, 3);
            layer.Initialize();
            layer.Call(Input(1, 1, 2, 4, 4));
        }, "Conv3DTranspose 'conv", "expects input of rank 5 (N, C, D, H, W)");
        yield return Bad("conv3d input rank", () =>
        {
            var layer = new Conv3D(2, 3);
            layer.Initialize();
            layer.Call(Input(1, 1, 2, 4, 4));
        }, "Conv3D 'conv", "expects input of rank 5 (N, C, D, H, W)");
        yield return Bad("transpose channels after init", () =>
        {
            var layer = new Conv2DTranspose(2, 3, inChannels: 4);
            layer.Initialize();
            layer.Call(Input(1, 1, 3, 4, 4));
        }, "Conv2DTranspose 'conv", "input has 3 channels but the layer was built for 4");
        yield return Bad("conv channels after init", () =>
        {
            var layer = new Conv2D(2, 3, inChannels: 4);
            layer.Initialize();
            layer.Call(Input(1, 1, 3, 4, 4));
        }, "Conv2D 'conv", "input has 3 channels but the layer was built for 4");
        yield return Bad("grouped conv channels after init", () =>
        {
            var layer = new Conv1D(2, 3, groups: 2, inChannels: 4);
            layer.Initialize();
            layer.Call(Input(1, 1, 5, 8));
        }, "Conv1D 'conv", "input has 5 channels, not divisible by groups 2");
        yield return Bad("conv negative in_channels", () => _ = new Conv2D(4, 3, groups: 2, inChannels: -2),
            "Conv2D", "in_channels -2 must be non-negative");
        yield return Bad("pool3d input rank", () => new MaxPool3D().Call(Input(1, 1, 2, 4, 4)), "MaxPool3D 'pool",
            "expects input of rank 5");
        yield return Bad("global pool1d input rank", () => new GlobalAvgPool1D().Call(Input(1, 1, 2, 4, 4)),
            "GlobalAvgPool1D 'pool", "expects input of rank 3 (N, C, W)");
    }

    [TestCaseSource(nameof(BadLayers))]
    public void BadArgumentsNameTheLayer(TestDelegate make, string[] expected)
    {
        var e = Should.Throw<ArgumentException>(() => make());
        foreach (string part in expected) e.Message.ShouldContain(part);
    }
}
