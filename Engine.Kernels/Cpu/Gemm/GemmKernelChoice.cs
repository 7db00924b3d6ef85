namespace Engine.Kernels.Cpu;

/// <summary>Which GEMM implementation runs; tests pin each one, everything else uses <see cref="Auto"/>.</summary>
internal enum GemmKernelChoice
{
    /// <summary>
    /// The fastest the hardware runs: for float, the unpacked AVX-512 path for a few rows, else the AVX-512
    /// driver, then AVX2, then the generic path.
    /// </summary>
    Auto,

    /// <summary>Float through the unpacked Vector512 path meant for a few rows (any m works).</summary>
    SmallM,

    /// <summary>Float through <see cref="SgemmAvx512Driver"/> and its 6 x 16..64 Vector512 micro-kernels.</summary>
    Avx512,

    /// <summary>Float through the 6 x 16 Vector256 micro-kernel.</summary>
    Avx2,

    /// <summary>The generic blocked path (always used for double).</summary>
    Generic,
}
