using Engine.Kernels.Cpu;
using Engine.Kernels.Gpu;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>The tiled SGEMM (and the double kernel) against the CPU's GEMM, with odd edges and transposes.</summary>
public sealed class GemmTests : GpuFixture
{
    [TestCase(1, 1, 1, false, false)]
    [TestCase(33, 17, 65, false, false)]
    [TestCase(64, 64, 64, true, false)]
    [TestCase(70, 129, 20, false, true)]
    [TestCase(100, 3, 128, true, true)]
    public void SgemmMatchesTheCpu(int m, int n, int k, bool transA, bool transB)
    {
        int lda = transA ? m : k, ldb = transB ? k : n;
        var a = RandomFloats(m * k, m);
        var b = RandomFloats(k * n, n);
        var c0 = RandomFloats(m * n, k);
        var gc = Upload(Gpu, c0, new Shape(m * n));
        GpuGemm.Gemm(Gpu, transA, transB, m, n, k, 1.5f, Upload(Gpu, a, new Shape(a.Length)), lda,
            Upload(Gpu, b, new Shape(b.Length)), ldb, 0.5f, gc, n);
        var expected = (float[])c0.Clone();
        CpuGemm.Gemm(transA, transB, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, expected, n);
        AssertClose(Download<float>(gc), expected, 1e-4, 1e-4, "sgemm");
    }

    [Test]
    public void BatchedGemmBroadcastsAWeightMatrix()
    {
        int batch = 3, m = 9, n = 11, k = 13;
        var a = RandomFloats(m * k, 41);
        var b = RandomFloats(batch * k * n, 42);
        var gc = Empty<float>(Gpu, new Shape(batch * m * n));
        GpuGemm.BatchedGemm(Gpu, batch, false, false, m, n, k, 1f, Upload(Gpu, a, new Shape(a.Length)), 0, k,
            Upload(Gpu, b, new Shape(b.Length)), k * n, n, 0f, gc, m * n, n);
        var expected = new float[batch * m * n];
        CpuGemm.BatchedGemm(batch, false, false, m, n, k, 1f, a, 0, b, k * n, 0f, expected, m * n);
        AssertClose(Download<float>(gc), expected, 1e-4, 1e-4, "batched sgemm");
    }

    [Test]
    public void DoubleGemmMatchesTheCpu()
    {
        int m = 7, n = 5, k = 9;
        var a = RandomFloats(m * k, 43).Select(v => (double)v).ToArray();
        var b = RandomFloats(k * n, 44).Select(v => (double)v).ToArray();
        var gc = Empty<double>(Gpu, new Shape(m * n));
        GpuGemm.Gemm(Gpu, true, false, m, n, k, 1.0, Upload(Gpu, a, new Shape(a.Length)), m,
            Upload(Gpu, b, new Shape(b.Length)), n, 0.0, gc, n);
        var expected = new double[m * n];
        CpuGemm.Gemm(true, false, m, n, k, 1.0, a, m, b, n, 0.0, expected, n);
        var actual = Download<double>(gc);
        for (int i = 0; i < actual.Length; i++) actual[i].ShouldBe(expected[i], 1e-12);
    }

    [Test]
    public void OperandsTooSmallForTheShapeAreRejected()
    {
        var a = Upload(Gpu, new float[10], new Shape(10));
        var c = Empty<float>(Gpu, new Shape(16));
        Should.Throw<ArgumentException>(() => GpuGemm.Gemm(Gpu, false, false, 4, 4, 4, 1f, a, 4, a, 4, 0f, c, 4))
            .Message.ShouldContain("gemm: A needs 16 elements");
    }

    [Test]
    public void TheTf32TensorCoreKernelCompilesForSm90()
    {
        // It runs only on CUDA devices of compute capability 8.0 or newer; here its PTX is checked.
        var kernel = typeof(GpuTensorCores).GetMethod("Tf32Kernel",
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(typeof(DenseSource), typeof(DenseSource), typeof(DenseTarget));
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(k => k.StartsWith("GpuTensorCores.Tf32Kernel"));
    }

    [Test]
    public void AllowingTf32WithoutTensorCoresKeepsExactFp32()
    {
        // TF32 needs a CUDA device of sm_80 or newer; elsewhere (the simulator, older GPUs) the switch must fall back
        // to the FP32 kernel, bit for bit, and never load the tensor-core kernel, whose inline PTX cannot run there.
        if (GpuTensorCores.Supported(Gpu)) Assert.Ignore($"{Gpu} has TF32 tensor cores: the fallback is not taken");
        int m = 70, n = 33, k = 29;
        var a = Upload(Gpu, RandomFloats(m * k, 51), new Shape(m * k));
        var b = Upload(Gpu, RandomFloats(k * n, 52), new Shape(k * n));
        float[] Product(bool tf32)
        {
            bool keep = GpuGemm.AllowTf32;
            GpuGemm.AllowTf32 = tf32;
            try
            {
                var c = Empty<float>(Gpu, new Shape(m * n));
                GpuGemm.Gemm(Gpu, false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
                return Download<float>(c);
            }
            finally
            {
                GpuGemm.AllowTf32 = keep;
            }
        }
        GpuGemm.AllowTf32.ShouldBeFalse("FP32 is exact by default");
        Product(tf32: true).ShouldBe(Product(tf32: false));
        Gpu.Kernels.Log.ShouldNotContain(k => k.Kernel.StartsWith("GpuTensorCores.", StringComparison.Ordinal));
    }
}
