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
