namespace Engine.Kernels.Cpu;

/// <summary>
/// A register-blocked float GEMM micro-kernel and the cache blocking that feeds it (Goto/BLIS). It computes one
/// MR x NR tile of C from an MR-tall sliver of packed A (kc steps of MR values) and an NR-wide sliver of packed B
/// (kc steps of NR values): C = alpha * (A * B) + beta * C, reading C only when beta != 0.
/// </summary>
internal interface ISgemmMicroKernel
{
    /// <summary>Rows of C per tile (A values broadcast per step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C per tile (B vectors loaded per step).</summary>
    static abstract int NR { get; }

    /// <summary>Depth of one packed block: an A sliver (MR x KC) should stay in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of A packed at once (a multiple of MR).</summary>
    static abstract int MC { get; }

    /// <summary>Columns of B packed at once (a multiple of NR): the KC x NC panel should stay in L2.</summary>
    static abstract int NC { get; }

    /// <summary>True when the hardware runs this kernel's vectors natively.</summary>
    static abstract bool IsSupported { get; }

    static abstract unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta);

    /// <summary>
    /// For a tile at the right edge of C: writes A * B for at least the first <paramref name="cols"/> columns of
    /// the MR x NR tile into <paramref name="tile"/> (rows NR apart), skipping whole vectors of padding.
    /// </summary>
    static abstract unsafe void RunEdge(int kc, float* a, float* b, float* tile, int cols);
}
