namespace Engine.Kernels.Gpu;

/// <summary>
/// A padded shape for GPU kernels, up to six dimensions right-aligned (unused leading ones have size 1 and no
/// padding): output sizes, input sizes and the padding before each dimension. Scalar fields, as
/// <see cref="StridedIndex"/>.
/// </summary>
public struct PadGeometry
{
    public int O0, O1, O2, O3, O4, O5;
    public int N0, N1, N2, N3, N4, N5;
    public int B0, B1, B2, B3, B4, B5;

    /// <summary>0 constant, 1 edge, 2 reflect.</summary>
    public int Mode;

    /// <summary>The input element output element <paramref name="i"/> reads, or -1 for a constant border.</summary>
    public readonly int Source(int i)
    {
        int src = 0, stride = 1;
        bool border = false;
        int q = i / O5;
        Step(i - q * O5, B5, N5, ref src, ref stride, ref border);
        i = q;
        q = i / O4;
        Step(i - q * O4, B4, N4, ref src, ref stride, ref border);
        i = q;
        q = i / O3;
        Step(i - q * O3, B3, N3, ref src, ref stride, ref border);
        i = q;
        q = i / O2;
        Step(i - q * O2, B2, N2, ref src, ref stride, ref border);
        i = q;
        q = i / O1;
        Step(i - q * O1, B1, N1, ref src, ref stride, ref border);
        Step(q, B0, N0, ref src, ref stride, ref border);
        return border ? -1 : src;
    }

    private readonly void Step(int j, int before, int n, ref int src, ref int stride, ref bool border)
    {
        int k = j - before;
        if (k < 0 || k >= n)
        {
            if (Mode == 0) border = true;
            else if (Mode == 1) k = k < 0 ? 0 : n - 1;
            // Reflect about the edge element without repeating it (pads are below n, so one mirror suffices).
            else k = k < 0 ? -k : 2 * (n - 1) - k;
        }
        src += k * stride;
        stride *= n;
    }

    internal static PadGeometry Create(Shape shape, Shape outShape, ReadOnlySpan<int> before, PadMode mode)
    {
        if (shape.Rank > StridedIndex.MaxRank)
            throw new NotSupportedException(
                $"pad: GPU kernels pad arrays of at most {StridedIndex.MaxRank} dimensions; {shape} has {shape.Rank}.");
        Span<int> o = stackalloc int[6], n = stackalloc int[6], b = stackalloc int[6];
        o.Fill(1);
        n.Fill(1);
        b.Clear();
        int shift = 6 - shape.Rank;
        for (int d = 0; d < shape.Rank; d++)
        {
            o[shift + d] = outShape[d];
            n[shift + d] = shape[d];
            b[shift + d] = before[d];
        }
        return new PadGeometry
        {
            O0 = o[0], O1 = o[1], O2 = o[2], O3 = o[3], O4 = o[4], O5 = o[5],
            N0 = n[0], N1 = n[1], N2 = n[2], N3 = n[3], N4 = n[4], N5 = n[5],
            B0 = b[0], B1 = b[1], B2 = b[2], B3 = b[3], B4 = b[4], B5 = b[5],
            Mode = (int)mode,
        };
    }
}
