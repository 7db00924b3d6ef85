using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Four floats in registers. ILGPU never unrolls loops, so an indexed local array would live in local memory; named
/// fields stay in registers, which is how the GEMM kernel blocks its accumulators.
/// </summary>
public struct Float4
{
    public float A0, A1, A2, A3;

    /// <summary>s[i], s[i + step], s[i + 2 step], s[i + 3 step] from shared memory.</summary>
    public static Float4 Load(ArrayView<float> s, int i, int step) =>
        new() { A0 = s[i], A1 = s[i + step], A2 = s[i + 2 * step], A3 = s[i + 3 * step] };

    public void Fma(float x, in Float4 b)
    {
        A0 += x * b.A0;
        A1 += x * b.A1;
        A2 += x * b.A2;
        A3 += x * b.A3;
    }
}

/// <summary>A 4 x 4 block of accumulators: a thread's rows ty + 16 i and columns tx + 16 j of a 64 x 64 tile.</summary>
public struct Accumulator4x4
{
    public Float4 R0, R1, R2, R3;

    public void Outer(in Float4 a, in Float4 b)
    {
        R0.Fma(a.A0, b);
        R1.Fma(a.A1, b);
        R2.Fma(a.A2, b);
        R3.Fma(a.A3, b);
    }

    public readonly void Store<TC>(TC c, int z, int row, int col, int m, int n) where TC : struct, IMatrixTarget
    {
        StoreRow(c, z, row, col, m, n, R0);
        StoreRow(c, z, row + 16, col, m, n, R1);
        StoreRow(c, z, row + 32, col, m, n, R2);
        StoreRow(c, z, row + 48, col, m, n, R3);
    }

    private static void StoreRow<TC>(TC c, int z, int row, int col, int m, int n, in Float4 v)
        where TC : struct, IMatrixTarget
    {
        if (row >= m) return;
        if (col < n) c.Store(z, row, col, v.A0);
        if (col + 16 < n) c.Store(z, row, col + 16, v.A1);
        if (col + 32 < n) c.Store(z, row, col + 32, v.A2);
        if (col + 48 < n) c.Store(z, row, col + 48, v.A3);
    }
}
