using Engine.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>The GPU runtime: memory pool, host copies, strided device copies, device errors.</summary>
public sealed class RuntimeTests : GpuFixture
{
    [Test]
    public void HostCopiesRoundTripThroughTheStagingBuffer()
    {
        // Larger than one 4 MiB staging chunk, at an odd offset.
        var values = RandomFloats((5 << 20) / 4 + 3, 11);
        using var buffer = Gpu.Allocate(values.Length * 4L + 12);
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        Gpu.CopyFromHost(bytes, buffer, 12);
        var back = new float[values.Length];
        Gpu.CopyToHost(buffer, 12, System.Runtime.InteropServices.MemoryMarshal.AsBytes(back.AsSpan()));
        back.ShouldBe(values);
    }

    [Test]
    public void PoolReusesFreedBlocksOfTheSameSizeClass()
    {
        var before = Gpu.Pool.Stats;
        long allocations = Gpu.Pool.DeviceAllocations;
        for (int i = 0; i < 50; i++)
        {
            using var a = Gpu.Allocate(3 << 20);
            using var b = Gpu.Allocate(1000);
        }
        Gpu.Pool.DeviceAllocations.ShouldBeLessThanOrEqualTo(allocations + 2);
        var after = Gpu.Pool.Stats;
        after.BytesInUse.ShouldBe(before.BytesInUse);
        after.Allocations.ShouldBe(before.Allocations + 100);
        after.PeakBytesInUse.ShouldBeGreaterThanOrEqualTo(before.BytesInUse + (3 << 20));
    }

    [Test]
    public void StridedCopyMatchesTheCpu()
    {
        var values = RandomFloats(4 * 5 * 6, 12);
        var src = new TensorLayout(new Shape(5, 4, 6), [6, 30, 1], 0); // axes 0 and 1 swapped
        var g = Empty<float>(Gpu, src.Shape);
        Gpu.Copy(Upload(Gpu, values, src), g);
        var c = Empty<float>(Cpu, src.Shape);
        Cpu.Copy(Upload(Cpu, values, src), c);
        Download<float>(g).ShouldBe(Download<float>(c));

        // Into a strided destination: every other column of a 5 x 8 matrix.
        var dstValues = new float[40];
        var gd = Upload(Gpu, dstValues, new TensorLayout(new Shape(5, 4), [8, 2], 1));
        Gpu.Copy(Upload(Gpu, values[..20], new Shape(5, 4)), gd);
        var whole = Download<float>(gd.WithLayout(TensorLayout.Contiguous(new Shape(40))));
        for (int r = 0; r < 5; r++)
            for (int k = 0; k < 4; k++)
                whole[r * 8 + 1 + 2 * k].ShouldBe(values[r * 4 + k]);
        whole[0].ShouldBe(0f);
    }

    [TestCase(6)]
    [TestCase(5)]
    [TestCase(4)]
    public void StridedCopyDecomposesEveryRankUpToSix(int rank)
    {
        // All axes reversed: no two dimensions merge, so the index uses every one of them.
        int[] dims = new[] { 2, 3, 2, 3, 2, 2 }[..rank];
        var shape = new Shape(dims);
        var contiguous = shape.ContiguousStrides();
        var layout = new TensorLayout(new Shape(dims.Reverse().ToArray()), contiguous.Reverse().ToArray());
        var values = RandomFloats((int)shape.Size, 13);
        var g = Empty<float>(Gpu, layout.Shape);
        Gpu.Copy(Upload(Gpu, values, layout), g);
        var c = Empty<float>(Cpu, layout.Shape);
        Cpu.Copy(Upload(Cpu, values, layout), c);
        Download<float>(g).ShouldBe(Download<float>(c));
    }

    [Test]
    public void FillWritesEveryElement()
    {
        var x = Empty<double>(Gpu, new Shape(3, 7));
        GpuLayout.Fill(Gpu, x, 2.5);
        Download<double>(x).ShouldAllBe(v => v == 2.5);
    }

    [Test]
    public void UnavailableDevicesSayWhyAndShowTheSupportReport()
    {
        var e = Should.Throw<NotSupportedException>(() => DeviceRuntime.For(Device.GpuSimulator(3)));
        e.Message.ShouldContain("gpusim(3)");
        e.Message.ShouldContain("GPU support:");
        if (!GpuSupport.Detect().HasCuda)
        {
            var cuda = Should.Throw<NotSupportedException>(() => DeviceRuntime.For(Device.Cuda(0)));
            cuda.Message.ShouldContain("gpu(0)");
            cuda.Message.ShouldContain(GpuSupport.Detect().CudaReason!);
        }
    }

    [Test]
    public void KernelsAreCompiledOncePerProcess()
    {
        var shape = new Shape(16);
        var x = Empty<float>(Gpu, shape);
        GpuLayout.Fill(Gpu, x, 1f);
        int count = Gpu.CompiledKernels.Count;
        GpuLayout.Fill(Gpu, x, 2f);
        Gpu.CompiledKernels.Count.ShouldBe(count);
        Gpu.CompiledKernels.CompileTime.ShouldBeGreaterThan(TimeSpan.Zero);
    }

    [Test]
    public void EveryLoadedKernelIsAlsoCompiledToPtxForSm90()
    {
        GpuLayout.Fill(Gpu, Empty<int>(Gpu, new Shape(3)), 7);
        GpuPtxCheck.Enabled.ShouldBeTrue();
        foreach (var (kernel, _) in Gpu.Kernels.Log)
        {
            GpuPtxCheck.Compiled.ShouldContainKey(kernel);
            GpuPtxCheck.Compiled[kernel].ShouldBeGreaterThan(100);
        }
    }

    [Test]
    public void DeviceNamesParseAndPrint()
    {
        Device.Parse("cuda:1").ShouldBe(Device.Cuda(1));
        Device.Parse("gpu(2)").ToString().ShouldBe("gpu(2)");
        Device.Parse("gpusim").ToString().ShouldBe("gpusim(0)");
        Device.Parse("cpu").ShouldBe(Device.Cpu);
        Should.Throw<ArgumentException>(() => Device.Parse("tpu:0")).Message.ShouldContain("cuda:N");
    }
}
