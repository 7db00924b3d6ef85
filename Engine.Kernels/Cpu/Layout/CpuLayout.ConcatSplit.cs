namespace Engine.Kernels.Cpu;

public static unsafe partial class CpuLayout
{
    /// <summary>
    /// The shape of the inputs joined along <paramref name="axis"/>: every other dimension must agree.
    /// </summary>
    public static Shape ConcatShape(IReadOnlyList<Shape> shapes, int axis)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        if (shapes.Count == 0)
            throw new ArgumentException("concat: no inputs given; pass at least one array.", nameof(shapes));
        Shape first = shapes[0];
        int a = first.NormalizeAxis(axis, "concat");
        var dims = first.ToArray();
        for (int k = 1; k < shapes.Count; k++)
        {
            Shape s = shapes[k];
            bool same = s.Rank == first.Rank;
            for (int i = 0; same && i < s.Rank; i++) same = i == a || s[i] == first[i];
            if (!same)
                throw new ArgumentException(
                    $"concat: input {k} has shape {s} but input 0 has shape {first}; along axis {a} all inputs " +
                    "must have the same rank and agree on every dimension except that axis.", nameof(shapes));
            dims[a] += s[a];
        }
        return new Shape(dims);
    }

    /// <summary>
    /// Writes one contiguous input of a concatenation into its place in <paramref name="dst"/>: the slab
    /// [offsetAlongAxis, offsetAlongAxis + srcShape[axis]) along <paramref name="axis"/>. Call once per input.
    /// </summary>
    public static void Concat<T>(ReadOnlySpan<T> src, Shape srcShape, int axis, Span<T> dst, Shape dstShape,
        int offsetAlongAxis) where T : unmanaged
    {
        int a = CheckSlab("concat", dstShape, srcShape, axis, offsetAlongAxis, "input", "output");
        CheckLength("concat", "input", src.Length, srcShape);
        CheckLength("concat", "output", dst.Length, dstShape);
        fixed (T* ps = src)
        fixed (T* pd = dst)
        {
            SlabCopy(ps, pd, srcShape, dstShape, a, offsetAlongAxis, intoWhole: true);
        }
    }

    /// <summary>Concatenates every input along <paramref name="axis"/> into <paramref name="dst"/>.</summary>
    public static void Concat<T>(IReadOnlyList<ReadOnlyMemory<T>> inputs, IReadOnlyList<Shape> shapes, int axis,
        Span<T> dst) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(shapes);
        if (inputs.Count != shapes.Count)
            throw new ArgumentException(
                $"concat: {inputs.Count} inputs but {shapes.Count} shapes given; pass one shape per input.");
        Shape whole = ConcatShape(shapes, axis);
        int a = whole.NormalizeAxis(axis, "concat");
        int offset = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            Concat(inputs[k].Span, shapes[k], a, dst, whole, offset);
            offset += shapes[k][a];
        }
    }

    /// <summary>The shapes of <paramref name="sections"/> equal parts along <paramref name="axis"/>.</summary>
    public static Shape[] SplitShapes(Shape shape, int axis, int sections)
    {
        int a = shape.NormalizeAxis(axis, "split");
        if (sections < 1)
            throw new ArgumentOutOfRangeException(nameof(sections),
                $"split: {sections} sections requested; use at least 1.");
        if (shape[a] % sections != 0)
            throw new ArgumentException(
                $"split: axis {a} of size {shape[a]} (shape {shape}) cannot be split into {sections} equal " +
                "sections; use a number of sections that divides it, or explicit sizes.", nameof(sections));
        var parts = new Shape[sections];
        Array.Fill(parts, shape.With(a, shape[a] / sections));
        return parts;
    }

    /// <summary>The shapes of parts of the given sizes along <paramref name="axis"/>; the sizes sum to it.</summary>
    public static Shape[] SplitShapes(Shape shape, int axis, ReadOnlySpan<int> sizes)
    {
        int a = shape.NormalizeAxis(axis, "split");
        long total = 0;
        foreach (int s in sizes)
        {
            if (s < 0)
                throw new ArgumentOutOfRangeException(nameof(sizes),
                    $"split: section size {s} is negative; sizes must be non-negative.");
            total += s;
        }
        if (total != shape[a])
            throw new ArgumentException(
                $"split: sizes ({string.Join(", ", sizes.ToArray())}) sum to {total} but axis {a} of shape {shape} " +
                $"has size {shape[a]}; give sizes that sum to {shape[a]}.", nameof(sizes));
        var parts = new Shape[sizes.Length];
        for (int k = 0; k < sizes.Length; k++) parts[k] = shape.With(a, sizes[k]);
        return parts;
    }

    /// <summary>
    /// Reads one part of a split: the slab [offsetAlongAxis, offsetAlongAxis + dstShape[axis]) of
    /// <paramref name="src"/> along <paramref name="axis"/>, written contiguously to <paramref name="dst"/>.
    /// </summary>
    public static void Split<T>(ReadOnlySpan<T> src, Shape srcShape, int axis, int offsetAlongAxis, Span<T> dst,
        Shape dstShape) where T : unmanaged
    {
        int a = CheckSlab("split", srcShape, dstShape, axis, offsetAlongAxis, "output", "input");
        CheckLength("split", "input", src.Length, srcShape);
        CheckLength("split", "output", dst.Length, dstShape);
        fixed (T* ps = src)
        fixed (T* pd = dst)
        {
            SlabCopy(pd, ps, dstShape, srcShape, a, offsetAlongAxis, intoWhole: false);
        }
    }

    /// <summary>Splits <paramref name="src"/> along <paramref name="axis"/> into the given outputs, in order.</summary>
    public static void Split<T>(ReadOnlySpan<T> src, Shape srcShape, int axis, IReadOnlyList<Memory<T>> outputs,
        IReadOnlyList<Shape> shapes) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(shapes);
        if (outputs.Count != shapes.Count)
            throw new ArgumentException(
                $"split: {outputs.Count} outputs but {shapes.Count} shapes given; pass one shape per output.");
        int a = srcShape.NormalizeAxis(axis, "split");
        int offset = 0;
        for (int k = 0; k < outputs.Count; k++)
        {
            Split(src, srcShape, a, offset, outputs[k].Span, shapes[k]);
            offset += shapes[k][a];
        }
        if (offset != srcShape[a])
            throw new ArgumentException(
                $"split: the outputs cover {offset} of the {srcShape[a]} entries of axis {a}; give shapes whose " +
                "sizes along the axis sum to the input's.");
    }

    /// <summary>Validates that <paramref name="part"/> sits in <paramref name="whole"/> at the offset.</summary>
    private static int CheckSlab(string op, Shape whole, Shape part, int axis, int offset, string partName,
        string wholeName)
    {
        int a = whole.NormalizeAxis(axis, op);
        bool same = part.Rank == whole.Rank;
        for (int i = 0; same && i < whole.Rank; i++) same = i == a || part[i] == whole[i];
        if (!same)
            throw new ArgumentException(
                $"{op}: {partName} shape {part} does not fit {wholeName} shape {whole} along axis {a}; the ranks " +
                "and every dimension except that axis must agree.");
        if (offset < 0 || offset > whole[a] - part[a])
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"{op}: offset {offset} along axis {a} places the {partName} ({part[a]} entries) outside the " +
                $"{wholeName}'s {whole[a]}; use an offset in [0, {whole[a] - part[a]}].");
        return a;
    }

    private static void CheckLength(string op, string name, int length, Shape shape)
    {
        if (length != shape.Size)
            throw new ArgumentException(
                $"{op}: {name} has {length} elements but shape {shape} needs {shape.Size}; pass a contiguous " +
                "buffer of exactly that size.");
    }

    /// <summary>
    /// Copies between a contiguous part and its slab of a contiguous whole. Seen as (outer, axis * inner), both
    /// are rows: the part's rows are whole, the whole's rows are longer and start at offset * inner.
    /// </summary>
    private static void SlabCopy<T>(T* part, T* whole, Shape partShape, Shape wholeShape, int axis, int offset,
        bool intoWhole) where T : unmanaged
    {
        long outer = wholeShape.SizeOf(0, axis);
        long inner = wholeShape.SizeOf(axis + 1, wholeShape.Rank);
        long partRow = partShape[axis] * inner;
        long wholeRow = wholeShape[axis] * inner;
        if (outer * partRow == 0) return;
        int[] dims = [checked((int)outer), checked((int)partRow)];
        T* slab = whole + offset * inner;
        if (intoWhole)
            CopyCore(part, [partRow, 1], slab, [wholeRow, 1], dims);
        else
            CopyCore(slab, [wholeRow, 1], part, [partRow, 1], dims);
    }
}
