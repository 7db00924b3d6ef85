namespace Engine.Kernels.Cpu;

/// <summary>
/// A register-blocked float GEMM micro-kernel and the cache blocking that feeds it (Goto/BLIS). It computes one
/// MR x NR tile of C from MR rows of A and an NR-wide sliver of packed B (kc steps of NR values):
/// C = alpha * (A * B) + beta * C, reading C only when beta != 0. A is read where it lies, through two strides:
/// element (i, p) is a[i * rsA + p * csA], so row-major A (lda, 1), stored-transposed A (1, lda) and a packed
/// sliver (1, MR) run the same code.
/// </summary>
internal interface ISgemmMicroKernel
{
    /// <summary>Rows of C per tile (A values broadcast per step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C per tile (B vectors loaded per step).</summary>
    static abstract int NR { get; }

    /// <summary>Depth of one block: the A rows of a tile (MR x KC) should stay in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of A per block (a multiple of MR).</summary>
    static abstract int MC { get; }

    /// <summary>Columns of B packed at once (a multiple of NR): the KC x NC panel should stay in L2.</summary>
    static abstract int NC { get; }

    /// <summary>
    /// <see cref="KC"/> for row-major A, which is always read in place: no packed A block competes for L2, so
    /// deeper blocks (fewer passes over C) with a narrower panel of the same size. Chosen by the layout of A alone,
    /// never by the part of C a thread takes, so the K blocks, and the bits, do not depend on the split.
    /// </summary>
    static abstract int KCRowMajorA { get; }

    /// <summary><see cref="NC"/> for row-major A (a multiple of NR).</summary>
    static abstract int NCRowMajorA { get; }

    /// <summary>True when the hardware runs this kernel's vectors natively.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>A full MR x NR tile of C.</summary>
    static abstract unsafe void Run(int kc, float* a, nint rsA, nint csA, float* b, float* c, nint ldc, float alpha,
        float beta);

    /// <summary>
    /// For a tile at the bottom or right edge of C: writes A * B for the first <paramref name="rows"/> rows (the
    /// others read row 0 again and are garbage) of the MR x NR tile into <paramref name="tile"/>, rows NR apart.
    /// </summary>
    static abstract unsafe void RunEdge(int kc, int rows, float* a, nint rsA, nint csA, float* b, float* tile);
}
