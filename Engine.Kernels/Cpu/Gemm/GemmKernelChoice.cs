namespace Engine.Kernels.Cpu;

/// <summary>Which GEMM implementation runs; tests pin each one, everything else uses <see cref="Auto"/>.</summary>
internal enum GemmKernelChoice
{
    /// <summary>The fastest the hardware runs: AVX-512, then AVX2, then the generic path.</summary>
    Auto,

    /// <summary>Float through the 6 x 64 Vector512 micro-kernel.</summary>
    Avx512,

    /// <summary>Float through the 6 x 16 Vector256 micro-kernel.</summary>
    Avx2,

    /// <summary>The generic blocked path (always used for double).</summary>
    Generic,
}
