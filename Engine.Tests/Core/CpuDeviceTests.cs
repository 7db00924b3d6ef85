namespace Engine.Tests.Core;

/// <summary>cpu(n) is a device of its own, as MXNet's cpu(1): what multi-device code is tested with.</summary>
public class CpuDeviceTests
{
    private static readonly Device Cpu1 = new(DeviceKind.Cpu, 1);

    [Test]
    public void ArraysOnCpu1StayThereThroughOperationsAndGradients()
    {
        using var x = Nd.Array(new float[] { 1, -2, 3, -4 }, new Shape(2, 2), Cpu1);
        x.Device.ShouldBe(Cpu1);
        x.Device.ShouldNotBe(Device.Cpu);
        x.AttachGrad();
        NDArray y;
        using (Engine.Autograd.Record()) y = Nd.Sum(Nd.Relu(x) * x);
        y.Device.ShouldBe(Cpu1);
        y.Backward();
        x.Grad!.Device.ShouldBe(Cpu1);
        // d/dx relu(x) * x = 2x where x > 0, else 0
        x.Grad.ToArray<float>().ShouldBe([2f, 0f, 6f, 0f]);
        using var z = Nd.Zeros(new Shape(3), device: Cpu1);
        z.Device.ShouldBe(Cpu1);
    }

    [Test]
    public void OperationsOnTwoCpuDevicesFailWithTheUsualMessage()
    {
        using var a = Nd.Array(new float[] { 1, 2 }, new Shape(2), Device.Cpu);
        using var b = Nd.Array(new float[] { 3, 4 }, new Shape(2), Cpu1);
        Should.Throw<ArgumentException>(() => a + b).Message
            .ShouldContain("all inputs must be on one device, but input 0 is on cpu(0) and input 1 on cpu(1)");
    }

    [Test]
    public void CopyToMovesBetweenCpuDevices()
    {
        using var a = Nd.Array(new float[] { 1, 2, 3, 4, 5, 6 }, new Shape(2, 3), Device.Cpu);
        using var t = a.Transpose(1, 0);                 // a strided view: the copy is contiguous
        using var b = t.CopyTo(Cpu1);
        b.Device.ShouldBe(Cpu1);
        b.Shape.ShouldBe(new Shape(3, 2));
        b.ToArray<float>().ShouldBe([1f, 4f, 2f, 5f, 3f, 6f]);
        using var back = b.CopyTo(Device.Cpu);
        back.Device.ShouldBe(Device.Cpu);
        using var sum = back + t;
        sum.ToArray<float>().ShouldBe([2f, 8f, 4f, 10f, 6f, 12f]);
        Should.Throw<NotSupportedException>(() => a.CopyTo(Device.Cuda(0))).Message.ShouldContain("gpu(0)");
        Should.Throw<ArgumentOutOfRangeException>(() => a.CopyTo(new Device(DeviceKind.Cpu, -1)));
    }
}
