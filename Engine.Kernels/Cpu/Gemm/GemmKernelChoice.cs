namespace Engine.Kernels.Cpu;

/// <summary>
/// Which GEMM implementation runs; tests pin each one (any the machine's vectors run: the narrower ones run on
/// wider hardware too), everything else uses <see cref="Auto"/>.
/// </summary>
internal enum GemmKernelChoice
{
    /// <summary>
    /// The fastest the hardware runs, for float: with AVX-512, the unpacked Vector512 path for one or two rows or a
    /// very shallow K, the few-rows path for up to eight rows of x W^T (and for narrow heads of any height, see
    /// CpuGemm.NarrowHead), else the AVX-512 driver; with narrower vectors, the few-rows path up to eight rows (and
    /// narrow heads), with AVX2 the unpacked Vector256 path for a very shallow K, else the packed driver of that
    /// width; then the generic path.
    /// </summary>
    Auto,

    /// <summary>Float through <see cref="SgemmSmallM{TSimd, TV}"/>, unpacked, with Vector512 (any m works).</summary>
    SmallM512,

    /// <summary>Float through <see cref="SgemmSmallM{TSimd, TV}"/> with Vector256.</summary>
    SmallM256,

    /// <summary>Float through <see cref="SgemmAvx512Driver"/> and its 6 x 16..64 Vector512 micro-kernels.</summary>
    Avx512,

    /// <summary>Float through <see cref="SgemmDriver"/> and the 6 x 16 Vector256 (AVX2 + FMA) micro-kernel.</summary>
    Avx2,

    /// <summary>Float through <see cref="SgemmDriver"/> and the 6 x 8 Vector128 (SSE, AdvSimd) micro-kernel.</summary>
    Vector128,

    /// <summary>Float through <see cref="SgemmFewRows{TSimd, TV}"/> with Vector512 (any m works).</summary>
    FewRows512,

    /// <summary>Float through <see cref="SgemmFewRows{TSimd, TV}"/> with Vector256.</summary>
    FewRows256,

    /// <summary>Float through <see cref="SgemmFewRows{TSimd, TV}"/> with Vector128.</summary>
    FewRows128,

    /// <summary>The generic blocked path (always used for double).</summary>
    Generic,
}
