using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>GPU convolution (implicit GEMM and direct kernels) against the CPU's, every pass.</summary>
public sealed class ConvolutionTests : GpuFixture
{
    private static IEnumerable<ConvolutionDescriptor> Layers()
    {
        yield return new ConvolutionDescriptor(2, 1, 12, 12, 6, 5, 5);                        // LeNet-like, direct
        yield return new ConvolutionDescriptor(2, 6, 9, 8, 8, 3, 3, 2, 1, 1, 1);                // implicit GEMM
        yield return new ConvolutionDescriptor(1, 8, 7, 7, 4, 3, 3, 1, 1, 2, 2, 2, 2, groups: 2); // dilated, grouped
        yield return new ConvolutionDescriptor(2, 16, 5, 5, 8, 1, 1);                           // pointwise
        yield return ConvolutionDescriptor.Conv1D(2, 5, 17, 3, 4, 2, 1);                        // 1-D
    }

    [TestCaseSource(nameof(Layers))]
    public void AllPassesMatchTheCpu(ConvolutionDescriptor d)
    {
        var x = RandomFloats((int)d.InputSize, 51);
        var w = RandomFloats((int)d.WeightSize, 52);
        var bias = RandomFloats(d.OutChannels, 53);
        var dy = RandomFloats((int)d.OutputSize, 54);
        var gx = Upload(Gpu, x, d.InputShape);
        var gw = Upload(Gpu, w, d.WeightShape);
        var gdy = Upload(Gpu, dy, d.OutputShape);

        var gy = Empty<float>(Gpu, d.OutputShape);
        GpuConvolution.Forward(Gpu, d, gx, gw, Upload(Gpu, bias, d.BiasShape), gy);
        var ey = new float[d.OutputSize];
        CpuConvolution.Forward<float>(d, x, w, bias, ey);
        AssertClose(Download<float>(gy), ey, 1e-4, 1e-4, "forward");

        var gdx = Empty<float>(Gpu, d.InputShape);
        GpuConvolution.BackwardData(Gpu, d, gdy, gw, gdx);
        var edx = new float[d.InputSize];
        CpuConvolution.BackwardData<float>(d, dy, w, edx);
        AssertClose(Download<float>(gdx), edx, 1e-4, 1e-4, "backward data");

        var gdw = Empty<float>(Gpu, d.WeightShape);
        GpuConvolution.BackwardWeight(Gpu, d, gx, gdy, gdw);
        var edw = new float[d.WeightSize];
        CpuConvolution.BackwardWeight<float>(d, x, dy, edw);
        AssertClose(Download<float>(gdw), edw, 1e-4, 1e-3, "backward weight");

        var gdb = Empty<float>(Gpu, d.BiasShape);
        GpuConvolution.BackwardBias(Gpu, d, gdy, gdb);
        var edb = new float[d.OutChannels];
        CpuConvolution.BackwardBias<float>(d, dy, edb);
        AssertClose(Download<float>(gdb), edb, 1e-5, 1e-4, "backward bias");
    }
}
