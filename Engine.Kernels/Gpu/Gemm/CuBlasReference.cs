using ILGPU.Runtime.Cuda;

namespace Engine.Kernels.Gpu;

/// <summary>
/// cuBLAS SGEMM through ILGPU.Algorithms' binding, on the device's stream: the anchor the GPU benchmarks measure
/// the engine's own SGEMM against (libcublas must be installed; it is not needed otherwise).
/// </summary>
public sealed class CuBlasReference : IDisposable
{
    private readonly CuBlas blas;
    private readonly GpuRuntime runtime;

    private CuBlasReference(GpuRuntime runtime, CuBlas blas)
    {
        this.runtime = runtime;
        this.blas = blas;
    }

    /// <summary>cuBLAS on a CUDA device, or null with <paramref name="why"/> when there is none.</summary>
    public static CuBlasReference? TryCreate(GpuRuntime runtime, out string? why)
    {
        why = null;
        if (runtime.Accelerator is not CudaAccelerator cuda)
        {
            why = $"{runtime.Device} is not a CUDA device";
            return null;
        }
        try
        {
            var blas = new CuBlas(cuda) { Stream = (CudaStream)runtime.Stream };
            return new CuBlasReference(runtime, blas);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CuBlasException
                                       or TypeInitializationException)
        {
            why = $"cuBLAS could not be loaded ({e.Message})";
            return null;
        }
    }

    /// <summary>Whether products may use tensor cores (cuBLAS's tensor-op math: TF32 for float on Ampere and
    /// newer).</summary>
    public bool Tf32
    {
        set => blas.MathMode = value ? CuBlasMathMode.TensorOpMath : CuBlasMathMode.DefaultMath;
    }

    /// <summary>C = A B for dense row-major float matrices (m x k times k x n).</summary>
    public void Gemm(int m, int n, int k, in TensorArg a, in TensorArg b, in TensorArg c)
    {
        var av = a.Elements<float>(runtime, "cublas");
        var bv = b.Elements<float>(runtime, "cublas");
        var cv = c.Elements<float>(runtime, "cublas");
        // cuBLAS is column-major: row-major C = A B is column-major C^T = B^T A^T.
        blas.Gemm(CuBlasOperation.NonTranspose, CuBlasOperation.NonTranspose, n, m, k, 1f, bv, n, av, k, 0f, cv, n);
    }

    public void Dispose() => blas.Dispose();
}
