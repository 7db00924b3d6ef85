using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The TF32 tensor-core path of the tiled GEMM: the same 64 x 64 tiles and shared-memory staging as the FP32 kernel,
/// but each of the group's eight warps multiplies a 16 x 32 block with <c>mma.sync.m16n8k8</c> (inline PTX). TF32 keeps
/// 10 mantissa bits, so results differ from FP32 by about 1e-3 relative: opt in with <see cref="GpuGemm.AllowTf32"/>.
/// </summary>
public static class GpuTensorCores
{
    private const int PaddedM = GpuGemm.TileM + 4, PaddedN = GpuGemm.TileN + 4;

    /// <summary>Tensor cores with TF32: CUDA devices of compute capability 8.0 (Ampere) or newer.</summary>
    public static bool Supported(GpuRuntime runtime) =>
        runtime.Accelerator is CudaAccelerator cuda && cuda.Architecture is { } a && a >= CudaArchitecture.SM_80;

    internal static void Tf32Kernel<TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k)
        where TA : struct, IMatrixSource where TB : struct, IMatrixSource where TC : struct, IMatrixTarget
    {
        var sa = SharedMemory.Allocate<float>(GpuGemm.TileK * PaddedM);
        var sb = SharedMemory.Allocate<float>(GpuGemm.TileK * PaddedN);
        int tid = Group.IdxY * 16 + Group.IdxX;
        int r0 = Grid.IdxY * GpuGemm.TileM, c0 = Grid.IdxX * GpuGemm.TileN, z = Grid.IdxZ;
        int warp = tid / 32, lane = tid % 32;
        int g = lane / 4, t = lane % 4;                 // the fragment layout's group and thread-in-group
        int rowBase = (warp / 2) * 16, colBase = (warp % 2) * 32;
        // Accumulator j holds the 16 x 8 block at columns colBase + 8 j: A0..A3 are the mma's c0..c3.
        var acc = default(Accumulator4x4);
        for (int k0 = 0; k0 < k; k0 += GpuGemm.TileK)
        {
            for (int l = tid; l < GpuGemm.TileM * GpuGemm.TileK; l += 256)
            {
                int mm = l / GpuGemm.TileK, kk = l - mm * GpuGemm.TileK;
                sa[kk * PaddedM + mm] = r0 + mm < m && k0 + kk < k ? a.Load(z, r0 + mm, k0 + kk) : 0f;
            }
            for (int l = tid; l < GpuGemm.TileK * GpuGemm.TileN; l += 256)
            {
                int kk = l / GpuGemm.TileN, nn = l - kk * GpuGemm.TileN;
                sb[kk * PaddedN + nn] = k0 + kk < k && c0 + nn < n ? b.Load(z, k0 + kk, c0 + nn) : 0f;
            }
            Group.Barrier();
            if (CudaAsm.IsSupported)
            {
                for (int ks = 0; ks < GpuGemm.TileK; ks += 8)
                {
                    // A fragment (row-major 16 x 8): (g, t), (g + 8, t), (g, t + 4), (g + 8, t + 4).
                    uint a0 = Interop.FloatAsInt(sa[(ks + t) * PaddedM + rowBase + g]);
                    uint a1 = Interop.FloatAsInt(sa[(ks + t) * PaddedM + rowBase + g + 8]);
                    uint a2 = Interop.FloatAsInt(sa[(ks + t + 4) * PaddedM + rowBase + g]);
                    uint a3 = Interop.FloatAsInt(sa[(ks + t + 4) * PaddedM + rowBase + g + 8]);
                    Mma(ref acc.R0, a0, a1, a2, a3, sb, (ks + t) * PaddedN + colBase + g);
                    Mma(ref acc.R1, a0, a1, a2, a3, sb, (ks + t) * PaddedN + colBase + 8 + g);
                    Mma(ref acc.R2, a0, a1, a2, a3, sb, (ks + t) * PaddedN + colBase + 16 + g);
                    Mma(ref acc.R3, a0, a1, a2, a3, sb, (ks + t) * PaddedN + colBase + 24 + g);
                }
            }
            Group.Barrier();
        }
        // C fragment: c0, c1 at (g, 2t), (g, 2t + 1); c2, c3 at (g + 8, 2t), (g + 8, 2t + 1).
        StoreBlock(c, z, r0 + rowBase + g, c0 + colBase + 2 * t, m, n, acc.R0);
        StoreBlock(c, z, r0 + rowBase + g, c0 + colBase + 8 + 2 * t, m, n, acc.R1);
        StoreBlock(c, z, r0 + rowBase + g, c0 + colBase + 16 + 2 * t, m, n, acc.R2);
        StoreBlock(c, z, r0 + rowBase + g, c0 + colBase + 24 + 2 * t, m, n, acc.R3);
    }

    /// <summary>One m16n8k8 TF32 product into the 16 x 8 accumulator block d; B's fragment is (t, g), (t + 4, g).
    /// </summary>
    private static void Mma(ref Float4 d, uint a0, uint a1, uint a2, uint a3, ArrayView<float> sb, int bIndex)
    {
        Input<uint> b0 = Interop.FloatAsInt(sb[bIndex]);
        Input<uint> b1 = Interop.FloatAsInt(sb[bIndex + 4 * PaddedN]);
        Input<uint> x0 = a0, x1 = a1, x2 = a2, x3 = a3;
        Ref<float> d0 = d.A0, d1 = d.A1, d2 = d.A2, d3 = d.A3;
        CudaAsm.EmitRef(
            "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, " +
            "{%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref b0, ref b1);
        d.A0 = d0.Value;
        d.A1 = d1.Value;
        d.A2 = d2.Value;
        d.A3 = d3.Value;
    }

    private static void StoreBlock<TC>(TC c, int z, int row, int col, int m, int n, in Float4 v)
        where TC : struct, IMatrixTarget
    {
        if (row < m && col < n) c.Store(z, row, col, v.A0);
        if (row < m && col + 1 < n) c.Store(z, row, col + 1, v.A1);
        if (row + 8 < m && col < n) c.Store(z, row + 8, col, v.A2);
        if (row + 8 < m && col + 1 < n) c.Store(z, row + 8, col + 1, v.A3);
    }
}
