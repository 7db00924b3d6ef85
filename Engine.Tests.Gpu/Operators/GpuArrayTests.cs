using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>Arrays on the GPU device through the public API: moving between devices, views, autograd.</summary>
public sealed class GpuArrayTests : GpuFixture
{
    [Test]
    public void ArraysMoveBetweenDevicesBothWaysIncludingViews()
    {
        using var scope = NDArray.Scope();
        var values = RandomFloats(6 * 5, 101);
        var x = Nd.Array(values, new Shape(6, 5));
        var g = x.CopyTo(TestDevice);
        g.Device.ShouldBe(TestDevice);
        g.ToArray().ShouldBe(values);
        // A transposed view on the GPU copies back as its row-major elements.
        var back = g.T.CopyTo(Device.Cpu);
        back.Device.ShouldBe(Device.Cpu);
        back.ToArray().ShouldBe(x.T.ToArray());
        var int64 = Nd.Array(new long[] { 1, -2, 3 }, new Shape(3)).CopyTo(TestDevice);
        int64.ToArray<long>().ShouldBe([1L, -2, 3]);
    }

    [Test]
    public void AssignCopiesASourceFromAnotherDeviceBothWays()
    {
        using var scope = NDArray.Scope();
        var values = RandomFloats(4 * 3, 104);
        var g = Nd.Zeros(new Shape(4, 3), device: TestDevice);
        g.Assign(Nd.Array(values, new Shape(4, 3)));
        g.ToArray().ShouldBe(values);
        var row = Nd.Array(values[..3], new Shape(3));
        g.Assign(row.CopyTo(TestDevice));
        var c = Nd.Zeros(new Shape(4, 3));
        c.Assign(g);
        c.ToArray().ShouldBe(Enumerable.Range(0, 4).SelectMany(_ => values[..3]).ToArray());
    }

    [Test]
    public void ParametersSavedOnTheCpuLoadOntoTheGpu()
    {
        using var scope = NDArray.Scope();
        string path = Path.Combine(Path.GetTempPath(), $"gpu-load-{Guid.NewGuid():N}.params");
        try
        {
            var cpuNet = new Engine.Gluon.NN.Dense(4, inUnits: 3);
            cpuNet.Initialize(new Engine.Gluon.Initializers.Uniform(0.5));
            cpuNet.SaveParameters(path);
            var gpuNet = new Engine.Gluon.NN.Dense(4, inUnits: 3);
            gpuNet.Initialize(device: TestDevice);
            gpuNet.LoadParameters(path);
            gpuNet.Weight.Data(TestDevice).ToArray().ShouldBe(cpuNet.Weight.Data().ToArray());
            gpuNet.Weight.Data(TestDevice).Device.ShouldBe(TestDevice);
            var x = Nd.Array(RandomFloats(2 * 3, 105), new Shape(2, 3));
            AssertClose(gpuNet.Call(x.CopyTo(TestDevice)).ToArray(), cpuNet.Call(x).ToArray(), 1e-6, 1e-6, "y");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MixingDevicesInOneOperationIsAnErrorThatNamesBoth()
    {
        using var scope = NDArray.Scope();
        var a = Nd.Array(new float[] { 1, 2 }, new Shape(2));
        var b = a.CopyTo(TestDevice);
        var e = Should.Throw<Exception>(() => a + b);
        e.Message.ShouldContain(TestDevice.ToString());
    }

    [Test]
    public void AutogradOnTheGpuGivesTheCpuGradients()
    {
        var xv = RandomFloats(8 * 6, 102);
        var wv = RandomFloats(4 * 6, 103);
        var (cpuLoss, cpuGrad) = LossAndGradient(Device.Cpu, xv, wv);
        var (gpuLoss, gpuGrad) = LossAndGradient(TestDevice, xv, wv);
        AssertClose(gpuLoss, cpuLoss, 1e-5, 1e-6, "loss");
        AssertClose(gpuGrad, cpuGrad, 1e-5, 1e-6, "gradient");
    }

    private static (float[] Loss, float[] Grad) LossAndGradient(Device device, float[] xv, float[] wv)
    {
        using var scope = NDArray.Scope();
        var x = Nd.Array(xv, new Shape(8, 6), device);
        var w = Nd.Array(wv, new Shape(4, 6), device);
        w.AttachGrad();
        NDArray loss;
        using (Engine.Autograd.Record())
        {
            var h = Nd.Relu(Nd.Dot(x, w, transposeB: true));
            loss = Nd.Sum(h * h);
        }
        loss.Backward();
        return (loss.ToArray(), w.Grad!.ToArray());
    }
}
