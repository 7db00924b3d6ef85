namespace Engine.Kernels.Gpu;

/// <summary>
/// How a kernel finds element i (in row-major order of a shape) of a strided operand: up to six dimensions,
/// right-aligned (unused leading ones have size 1), strides and offset in elements. Scalar fields, not arrays:
/// ILGPU never unrolls loops, so an indexed array would live in local memory.
/// </summary>
public struct StridedIndex
{
    public const int MaxRank = 6;

    /// <summary>Sizes of dimensions 1 to 5 (dimension 0's size is not needed to decompose an index).</summary>
    public int D1, D2, D3, D4, D5;

    public int S0, S1, S2, S3, S4, S5;

    public int Offset;

    /// <summary>Dimensions in use, counted from the right (1 to 6).</summary>
    public int Used;

    /// <summary>
    /// The element offset of row-major index <paramref name="i"/>. One integer division per dimension in use beyond
    /// the first, so a merged (dense or row-broadcast) operand costs none or one; every thread of a launch takes the
    /// same branches.
    /// </summary>
    public readonly int At(int i)
    {
        if (Used <= 1) return Offset + i * S5;
        int q = i / D5;
        int o = Offset + (i - q * D5) * S5;
        if (Used == 2) return o + q * S4;
        i = q;
        q = i / D4;
        o += (i - q * D4) * S4;
        if (Used == 3) return o + q * S3;
        i = q;
        q = i / D3;
        o += (i - q * D3) * S3;
        if (Used == 4) return o + q * S2;
        i = q;
        q = i / D2;
        o += (i - q * D2) * S2;
        if (Used == 5) return o + q * S1;
        i = q;
        q = i / D1;
        o += (i - q * D1) * S1;
        return o + q * S0;
    }

    /// <summary>
    /// The index of a loop nest's operand <paramref name="operand"/> (dims collapsed already), plus an offset.
    /// </summary>
    internal static StridedIndex Create(long[] dims, long[] strides, long offset)
    {
        if (dims.Length > MaxRank)
            throw new NotSupportedException(
                $"GPU kernels take operands of at most {MaxRank} dimensions after merging contiguous ones; this one " +
                $"has {dims.Length} ({string.Join(" x ", dims)}). Make it contiguous first.");
        Span<int> d = stackalloc int[MaxRank];
        Span<int> s = stackalloc int[MaxRank];
        d.Fill(1);
        s.Clear();
        int shift = MaxRank - dims.Length;
        for (int k = 0; k < dims.Length; k++)
        {
            d[shift + k] = checked((int)dims[k]);
            s[shift + k] = checked((int)strides[k]);
        }
        return new StridedIndex
        {
            D1 = d[1], D2 = d[2], D3 = d[3], D4 = d[4], D5 = d[5],
            S0 = s[0], S1 = s[1], S2 = s[2], S3 = s[3], S4 = s[4], S5 = s[5],
            Offset = checked((int)offset),
            Used = Math.Max(1, dims.Length),
        };
    }

    /// <summary>The index of one layout on its own (its dims collapsed where contiguous).</summary>
    internal static StridedIndex Of(TensorLayout layout)
    {
        var nest = Cpu.LoopNest.Create(layout.Shape, layout.Strides);
        return Create(nest.Dims, nest.Strides[0], layout.Offset);
    }
}
