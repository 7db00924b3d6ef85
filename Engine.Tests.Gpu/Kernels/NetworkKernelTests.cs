using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>Pooling, batch norm, softmax family, cross-entropy, random streams and optimizer updates.</summary>
public sealed class NetworkKernelTests : GpuFixture
{
    private static IEnumerable<PoolingDescriptor> Pools()
    {
        yield return new PoolingDescriptor(PoolingMode.Max, 2, 3, 8, 8, 2, 2, 2, 2);
        yield return new PoolingDescriptor(PoolingMode.Max, 1, 2, 7, 6, 3, 3, 2, 2, 1, 1,
            PoolingConvention.Full);
        yield return new PoolingDescriptor(PoolingMode.Avg, 2, 2, 7, 7, 3, 3, 2, 2, 1, 1);
        yield return new PoolingDescriptor(PoolingMode.Avg, 1, 3, 6, 5, 2, 3, 2, 2, 1, 1,
            PoolingConvention.Full, countIncludePad: false);
        yield return PoolingDescriptor.Global(PoolingMode.Avg, 2, 4, 5, 5);
    }

    [TestCaseSource(nameof(Pools))]
    public void PoolingMatchesTheCpu(PoolingDescriptor d)
    {
        var x = RandomFloats((int)d.InputLength, 61);
        x[3] = x[4]; // a tie: the gradient goes to the first maximum
        var gy = Empty<float>(Gpu, d.OutputShape);
        var gx = Upload(Gpu, x, d.InputShape);
        GpuPooling.Forward(Gpu, d, gx, gy);
        var ey = new float[d.OutputLength];
        CpuPooling.Forward<float>(d, x, ey);
        AssertClose(Download<float>(gy), ey, 1e-6, 1e-7, "forward");
        var dy = RandomFloats((int)d.OutputLength, 62);
        var gdx = Empty<float>(Gpu, d.InputShape);
        GpuPooling.Backward(Gpu, d, gx, Upload(Gpu, dy, d.OutputShape), gdx);
        var edx = new float[d.InputLength];
        CpuPooling.Backward<float>(d, x, ey, dy, edx);
        AssertClose(Download<float>(gdx), edx, 1e-5, 1e-6, "backward");
    }

    private static IEnumerable<PoolingDescriptor> ArgMaxPools()
    {
        yield return new PoolingDescriptor(PoolingMode.Max, 2, 3, 8, 8, 2, 2, 2, 2);
        yield return new PoolingDescriptor(PoolingMode.Max, 1, 2, 9, 11, 2, 2, 2, 2, 0, 0, PoolingConvention.Full);
        yield return new PoolingDescriptor(PoolingMode.Max, 1, 2, 7, 6, 3, 3, 2, 2, 1, 1, PoolingConvention.Full);
        yield return new PoolingDescriptor(PoolingMode.Max, 2, 2, 7, 8, 3, 3, 1, 1);
        yield return PoolingDescriptor.Pool1d(PoolingMode.Max, 2, 3, 17, 3, 2, 1);
        yield return PoolingDescriptor.Global(PoolingMode.Max, 2, 3, 8, 5);
    }

    /// <summary>The arg-max kernels (PoolingArgMaxPass) against the CPU's: the same winner bytes (ties on a coarse
    /// grid, a relu's zeros masked), the same maxima, and dx from the bytes alone.</summary>
    [TestCaseSource(nameof(ArgMaxPools))]
    public void PoolingArgMaxMatchesTheCpu(PoolingDescriptor d)
    {
        foreach (bool relu in new[] { false, true })
        {
            var x = RandomFloats((int)d.InputLength, 63).Select(v => MathF.Round(v * 2) / 2).ToArray();
            if (relu) x = x.Select(v => MathF.Max(v, 0)).ToArray();
            var gx = Upload(Gpu, x, d.InputShape);
            var gy = Empty<float>(Gpu, d.OutputShape);
            var gi = Empty<byte>(Gpu, d.OutputShape);
            GpuPooling.ForwardWithArgMax(Gpu, d, gx, gy, gi, relu);
            var ey = new float[d.OutputLength];
            var ei = new byte[d.OutputLength];
            CpuPooling.ForwardWithArgMax<float>(d, x, ey, ei, relu);
            Download<byte>(gi).ShouldBe(ei, $"winners, relu mask {relu}");
            AssertClose(Download<float>(gy), ey, 0, 0, "forward");
            var dy = RandomFloats((int)d.OutputLength, 64);
            var gdx = Empty<float>(Gpu, d.InputShape);
            GpuPooling.BackwardFromArgMax(Gpu, d, Upload(Gpu, ei, d.OutputShape), Upload(Gpu, dy, d.OutputShape),
                gdx);
            var edx = new float[d.InputLength];
            CpuPooling.BackwardFromArgMax<float>(d, ei, dy, edx);
            AssertClose(Download<float>(gdx), edx, 1e-6, 1e-7, $"backward, relu mask {relu}");
        }
    }

    [TestCase(false, false)]
    [TestCase(true, true)]
    public void BatchNormMatchesTheCpu(bool fixGamma, bool unbiased)
    {
        var d = new BatchNormDescriptor(3, 4, 25)
        {
            FixGamma = fixGamma, UnbiasedRunningVar = unbiased, Momentum = 0.8,
        };
        var shape = new Shape(3, 4, 25);
        var cs = new Shape(4);
        var x = RandomFloats(300, 71, -1f, 3f);
        var gamma = RandomFloats(4, 72, 0.5f, 1.5f);
        var beta = RandomFloats(4, 73);
        var rm = RandomFloats(4, 74);
        var rv = RandomFloats(4, 75, 0.5f, 2f);
        var g = new[] { Empty<float>(Gpu, shape), Empty<float>(Gpu, cs), Empty<float>(Gpu, cs) };
        var grm = Upload(Gpu, rm, cs);
        var grv = Upload(Gpu, rv, cs);
        var gx = Upload(Gpu, x, shape);
        var ggamma = Upload(Gpu, gamma, cs);
        GpuBatchNorm.ForwardTraining(Gpu, d, gx, ggamma, Upload(Gpu, beta, cs), g[0], g[1], g[2], grm, grv);
        var y = new float[300];
        var sm = new float[4];
        var si = new float[4];
        CpuBatchNorm.ForwardTraining<float>(d, x, gamma, beta, y, sm, si, rm, rv);
        AssertClose(Download<float>(g[0]), y, 1e-5, 1e-5, "y");
        AssertClose(Download<float>(g[1]), sm, 1e-6, 1e-7, "saved mean");
        AssertClose(Download<float>(g[2]), si, 1e-6, 1e-7, "saved inverse std");
        AssertClose(Download<float>(grm), rm, 1e-6, 1e-7, "running mean");
        AssertClose(Download<float>(grv), rv, 1e-6, 1e-7, "running var");

        var dy = RandomFloats(300, 76);
        var gdx = Empty<float>(Gpu, shape);
        var gdg = Empty<float>(Gpu, cs);
        var gdb = Empty<float>(Gpu, cs);
        GpuBatchNorm.Backward(Gpu, d, gx, Upload(Gpu, dy, shape), ggamma, g[1], g[2], gdx, gdg, gdb);
        var dx = new float[300];
        var dg = new float[4];
        var db = new float[4];
        CpuBatchNorm.Backward<float>(d, x, dy, gamma, sm, si, dx, dg, db);
        AssertClose(Download<float>(gdx), dx, 1e-4, 1e-5, "dx");
        AssertClose(Download<float>(gdg), dg, 1e-5, 1e-5, "dgamma");
        AssertClose(Download<float>(gdb), db, 1e-5, 1e-5, "dbeta");

        var gyi = Empty<float>(Gpu, shape);
        GpuBatchNorm.ForwardInference(Gpu, d, gx, ggamma, Upload(Gpu, beta, cs), grm, grv, gyi);
        var yi = new float[300];
        CpuBatchNorm.ForwardInference<float>(d, x, gamma, beta, rm, rv, yi);
        AssertClose(Download<float>(gyi), yi, 1e-5, 1e-5, "inference");
    }

    [TestCase(4, 10, 1, 1.0)]
    [TestCase(3, 7, 5, 2.0)]
    public void SoftmaxFamilyMatchesTheCpu(int outer, int axis, int inner, double temperature)
    {
        int n = outer * axis * inner;
        var shape = new Shape(n);
        var x = RandomFloats(n, 81, -5f, 5f);
        var dy = RandomFloats(n, 82);
        foreach (bool log in new[] { false, true })
        {
            var gy = Empty<float>(Gpu, shape);
            var ey = new float[n];
            if (log)
            {
                GpuSoftmax.LogSoftmax(Gpu, outer, axis, inner, Upload(Gpu, x, shape), gy, temperature);
                CpuSoftmax.LogSoftmax<float>(outer, axis, inner, x, ey, temperature);
            }
            else
            {
                GpuSoftmax.Softmax(Gpu, outer, axis, inner, Upload(Gpu, x, shape), gy, temperature);
                CpuSoftmax.Softmax<float>(outer, axis, inner, x, ey, temperature);
            }
            AssertClose(Download<float>(gy), ey, 1e-5, 1e-6, log ? "log_softmax" : "softmax");
            var gdx = Empty<float>(Gpu, shape);
            var edx = new float[n];
            if (log)
            {
                GpuSoftmax.LogSoftmaxBackward(Gpu, outer, axis, inner, gy, Upload(Gpu, dy, shape), gdx, temperature);
                CpuSoftmax.LogSoftmaxBackward<float>(outer, axis, inner, ey, dy, edx, temperature);
            }
            else
            {
                GpuSoftmax.SoftmaxBackward(Gpu, outer, axis, inner, gy, Upload(Gpu, dy, shape), gdx, temperature);
                CpuSoftmax.SoftmaxBackward<float>(outer, axis, inner, ey, dy, edx, temperature);
            }
            AssertClose(Download<float>(gdx), edx, 1e-4, 1e-6, log ? "log_softmax backward" : "softmax backward");
        }
    }

    [Test]
    public void SoftmaxCrossEntropyMatchesTheCpuAndChecksLabels()
    {
        int batch = 6, classes = 5;
        var x = RandomFloats(batch * classes, 83, -4f, 4f);
        var labels = new[] { 0f, 4f, 2f, 2f, 1f, 3f };
        var gl = Empty<float>(Gpu, new Shape(batch));
        var glabels = Upload(Gpu, labels, new Shape(batch));
        var gx = Upload(Gpu, x, new Shape(batch, classes));
        GpuSoftmaxCrossEntropy.Forward(Gpu, batch, classes, gx, glabels, gl);
        var el = new float[batch];
        CpuSoftmaxCrossEntropy.Forward<float, float>(batch, classes, x, labels, el);
        AssertClose(Download<float>(gl), el, 1e-5, 1e-6, "loss");
        var dloss = RandomFloats(batch, 84);
        var gdx = Empty<float>(Gpu, new Shape(batch, classes));
        GpuSoftmaxCrossEntropy.Backward(Gpu, batch, classes, gx, glabels, Upload(Gpu, dloss, new Shape(batch)), gdx);
        var edx = new float[batch * classes];
        CpuSoftmaxCrossEntropy.Backward<float, float>(batch, classes, x, labels, dloss, edx);
        AssertClose(Download<float>(gdx), edx, 1e-5, 1e-6, "dx");
        var bad = Upload(Gpu, new[] { 0f, 5f, 0f, 0f, 0f, 0f }, new Shape(batch));
        Should.Throw<ArgumentException>(() => GpuSoftmaxCrossEntropy.Forward(Gpu, batch, classes, gx, bad, gl))
            .Message.ShouldContain("label 5 at index 1");
    }

    [Test]
    public void DropoutMasksAndUniformValuesAreBitIdenticalToTheCpu()
    {
        const ulong seed = 0x1234_5678_9abc_def0, offset = 77;
        var shape = new Shape(1001);
        var gm = Empty<float>(Gpu, shape);
        GpuRandom.DropoutMask(Gpu, seed, offset, 0.7, gm);
        var em = new float[1001];
        CpuRandom.DropoutMask<float>(seed, offset, 0.7, em);
        Download<float>(gm).ShouldBe(em);
        var gu = Empty<float>(Gpu, shape);
        GpuRandom.Uniform(Gpu, seed, offset, -2f, 3f, gu);
        var eu = new float[1001];
        CpuRandom.Uniform(seed, offset, -2f, 3f, eu);
        Download<float>(gu).ShouldBe(eu);
        var gn = Empty<float>(Gpu, shape);
        GpuRandom.Normal(Gpu, seed, offset, 1f, 2f, gn);
        var en = new float[1001];
        CpuRandom.Normal(seed, offset, 1f, 2f, en);
        AssertClose(Download<float>(gn), en, 1e-5, 1e-5, "normal");
        var gd = Empty<double>(Gpu, shape);
        GpuRandom.DropoutMask(Gpu, seed, offset, 0.25, gd);
        var ed = new double[1001];
        CpuRandom.DropoutMask<double>(seed, offset, 0.25, ed);
        Download<double>(gd).ShouldBe(ed);
    }

    [TestCase(0f)]
    [TestCase(0.05f)]
    public void OptimizerUpdatesMatchTheCpu(float clip)
    {
        var shape = new Shape(300);
        var w = RandomFloats(300, 91);
        var g = RandomFloats(300, 92);
        var m = RandomFloats(300, 93, -0.1f, 0.1f);
        var v = RandomFloats(300, 94, 0f, 0.1f);
        var gw = Upload(Gpu, w, shape);
        var gm = Upload(Gpu, m, shape);
        var gv = Upload(Gpu, v, shape);
        GpuOptimizers.Adam(Gpu, gw, Upload(Gpu, g, shape), gm, gv, 0.5f, 1e-4f, 0.9f, 0.999f, 1e-3f, 1e-8f, clip);
        CpuOptimizers.Adam(w, g, m, v, 0.5f, 1e-4f, 0.9f, 0.999f, 1e-3f, 1e-8f, clip);
        AssertClose(Download<float>(gw), w, 1e-6, 1e-7, "adam weight");
        AssertClose(Download<float>(gm), m, 1e-6, 1e-7, "adam mean");
        AssertClose(Download<float>(gv), v, 1e-6, 1e-7, "adam variance");

        var mom = new float[300];
        var gmom = Upload(Gpu, mom, shape);
        GpuOptimizers.Sgd(Gpu, gw, Upload(Gpu, g, shape), gmom, 1f, 0.1f, 1e-4f, 0.9f, clip);
        CpuOptimizers.Sgd(w, g, mom, 1f, 0.1f, 1e-4f, 0.9f, clip);
        AssertClose(Download<float>(gw), w, 1e-6, 1e-7, "sgd weight");
        AssertClose(Download<float>(gmom), mom, 1e-6, 1e-7, "sgd momentum");
        GpuOptimizers.Sgd(Gpu, gw, Upload(Gpu, g, shape), null, 1f, 0.1f, 1e-4f, 0f, clip);
        CpuOptimizers.Sgd(w, g, [], 1f, 0.1f, 1e-4f, 0f, clip);
        AssertClose(Download<float>(gw), w, 1e-6, 1e-7, "sgd without momentum");
    }
}
