namespace Engine.Kernels.Cpu;

/// <summary>
/// The canonical loop nest of an elementwise operation over operands that share one shape: size-1 dimensions are
/// dropped and adjacent dimensions merged wherever every operand is contiguous across them, so that a contiguous
/// or row-broadcast operation becomes one or two loops whatever its rank.
/// </summary>
internal sealed class LoopNest
{
    private LoopNest(long[] dims, long[][] strides)
    {
        Dims = dims;
        Strides = strides;
    }

    /// <summary>Dimensions, outermost first; the last one is the inner loop. Never empty (a scalar is [1]).</summary>
    public long[] Dims { get; }

    /// <summary>Strides[operand][dim] in elements.</summary>
    public long[][] Strides { get; }

    public int Rank => Dims.Length;

    public long InnerSize => Dims[^1];

    public long OuterSize
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Dims.Length - 1; i++) n *= Dims[i];
            return n;
        }
    }

    public static LoopNest Create(Shape shape, params long[][] operandStrides)
    {
        var dims = new List<long>();
        var strides = operandStrides.Select(_ => new List<long>()).ToArray();
        for (int d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            dims.Add(shape[d]);
            for (int k = 0; k < operandStrides.Length; k++) strides[k].Add(operandStrides[k][d]);
        }
        if (dims.Count == 0)
        {
            dims.Add(shape.Size == 0 ? 0 : 1);
            foreach (var s in strides) s.Add(0);
        }
        // Merge dim i with dim i+1 when, for every operand, stride[i] == stride[i+1] * dims[i+1].
        for (int i = dims.Count - 2; i >= 0; i--)
        {
            bool mergeable = true;
            for (int k = 0; k < strides.Length && mergeable; k++)
                mergeable = strides[k][i] == strides[k][i + 1] * dims[i + 1];
            if (!mergeable) continue;
            dims[i] *= dims[i + 1];
            dims.RemoveAt(i + 1);
            foreach (var s in strides)
            {
                s[i] = s[i + 1];
                s.RemoveAt(i + 1);
            }
        }
        return new LoopNest(dims.ToArray(), strides.Select(s => s.ToArray()).ToArray());
    }

    /// <summary>
    /// Element offset of operand <paramref name="k"/> at the start of outer row <paramref name="row"/>.
    /// </summary>
    public long RowOffset(int k, long row)
    {
        long offset = 0;
        var s = Strides[k];
        for (int d = Dims.Length - 2; d >= 0 && row > 0; d--)
        {
            long i = row % Dims[d];
            row /= Dims[d];
            offset += i * s[d];
        }
        return offset;
    }
}
