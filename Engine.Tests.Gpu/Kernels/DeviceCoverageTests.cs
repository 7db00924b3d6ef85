using Engine.Kernels;
using Engine.Ops;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// Cases that once ran the CPU kernel on host copies and now run GPU kernels, against the CPU backend: batch norm
/// with strided running statistics, float16 take, cross-entropy with uint8 labels.
/// </summary>
public sealed class DeviceCoverageTests : GpuFixture
{
    /// <summary>Training with running statistics that are strided views (interleaved in one buffer, as a graph's
    /// memory plan may hand them) updates them as the CPU kernel updates dense ones (imperative calls require
    /// dense mutated inputs, so this is a kernel-level case).</summary>
    [Test]
    public void BatchNormUpdatesStridedRunningStatisticsAsOnTheCpu()
    {
        var rng = new Random(3);
        var shape = new Shape(4, 3, 5);
        var x = Enumerable.Range(0, 60).Select(_ => rng.NextDouble() * 4 - 1).ToArray();
        double[] gamma = [1.0, 0.5, 2.0], beta = [0.0, 0.1, -0.2], mean = [0.5, -0.5, 0.0], variance = [2.0, 1.5, 1.0];
        var attrs = new BatchNormAttrs(Training: true);
        var c = new Shape(3);

        var cpuMean = Upload(Cpu, mean, c);
        var cpuVar = Upload(Cpu, variance, c);
        var cpuY = Empty<double>(Cpu, shape);
        using (var context = CpuContext("batch_norm"))
            NormalizationOps.BatchNorm.KernelFor(Device.Cpu)(attrs, context,
                [Upload(Cpu, x, shape), Upload(Cpu, gamma, c), Upload(Cpu, beta, c), cpuMean, cpuVar],
                [cpuY, Empty<double>(Cpu, c), Empty<double>(Cpu, c)]);

        // (m0, v0, m1, v1, m2, v2) in one device buffer.
        var interleaved = Upload(Gpu, mean.Zip(variance, (m, v) => new[] { m, v }).SelectMany(p => p).ToArray(),
            new Shape(6));
        var gpuMean = interleaved.WithLayout(new TensorLayout(c, [2], 0));
        var gpuVar = interleaved.WithLayout(new TensorLayout(c, [2], 1));
        var gpuY = Empty<double>(Gpu, shape);
        using (var context = GpuContext("batch_norm"))
            NormalizationOps.BatchNorm.KernelFor(TestDevice)(attrs, context,
                [Upload(Gpu, x, shape), Upload(Gpu, gamma, c), Upload(Gpu, beta, c), gpuMean, gpuVar],
                [gpuY, Empty<double>(Gpu, c), Empty<double>(Gpu, c)]);

        var stats = Download<double>(interleaved);
        var expectedMean = Download<double>(cpuMean);
        var expectedVar = Download<double>(cpuVar);
        for (int k = 0; k < 3; k++)
        {
            stats[2 * k].ShouldBe(expectedMean[k], 1e-12, $"running mean {k}");
            stats[2 * k + 1].ShouldBe(expectedVar[k], 1e-12, $"running variance {k}");
        }
        var y = Download<double>(gpuY);
        var ey = Download<double>(cpuY);
        for (int i = 0; i < y.Length; i++) y[i].ShouldBe(ey[i], 1e-12, $"y {i}");
        Gpu.Kernels.Log.Select(k => k.Kernel).ShouldContain("GpuBatchNorm.StatisticsKernel[Double, DoubleReal]");
    }

    [Test]
    public void Float16TakeRunsOnTheDevice()
    {
        using var scope = NDArray.Scope();
        var x = Nd.Array(Enumerable.Range(0, 12).Select(i => i * 0.25 - 1).ToArray(), new Shape(3, 4), Device.Cpu)
            .AsType(DType.Float16);
        var indices = Nd.Array(new long[] { 2, 0, 2 }, new Shape(3), Device.Cpu);
        var expected = Nd.Take(x, indices, axis: 1).AsType(DType.Float64).ToArray<double>();
        var y = Nd.Take(x.CopyTo(TestDevice), indices.CopyTo(TestDevice), axis: 1);
        y.DType.ShouldBe(DType.Float16);
        y.CopyTo(Device.Cpu).AsType(DType.Float64).ToArray<double>().ShouldBe(expected);
    }

    [Test]
    public void CrossEntropyTakesUInt8Labels()
    {
        using var scope = NDArray.Scope();
        var rng = new Random(4);
        var logits = Nd.Array(Enumerable.Range(0, 15).Select(_ => rng.NextDouble() * 4 - 2).ToArray(),
            new Shape(3, 5), Device.Cpu);
        var labels = Nd.Array(new[] { 4.0, 0.0, 2.0 }, new Shape(3), Device.Cpu).AsType(DType.UInt8);
        var expected = Nd.SoftmaxCrossEntropy(logits, labels).ToArray<double>();
        var actual = Nd.SoftmaxCrossEntropy(logits.CopyTo(TestDevice), labels.CopyTo(TestDevice)).ToArray<double>();
        for (int i = 0; i < 3; i++) actual[i].ShouldBe(expected[i], 1e-12);
    }
}
