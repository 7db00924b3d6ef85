namespace Engine.Kernels.Gpu;

public static partial class GpuLayout
{
    /// <summary>
    /// Joins the inputs along <paramref name="axis"/> into <paramref name="output"/>: each input is one strided copy
    /// into its slab of the output, so inputs may have any layout.
    /// </summary>
    public static void Concat(GpuRuntime runtime, IReadOnlyList<TensorArg> inputs, int axis, in TensorArg output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var shape = Cpu.CpuLayout.ConcatShape(inputs.Select(x => x.Shape).ToArray(), axis);
        if (shape != output.Shape)
            throw new ArgumentException($"concat: the output is {output.Shape}, but the inputs join to {shape}.");
        int a = shape.NormalizeAxis(axis, "concat");
        int offset = 0;
        foreach (var x in inputs)
        {
            if (x.DType != output.DType)
                throw new ArgumentException($"concat: input {x} has another dtype than the output {output}.");
            Copy(runtime, x, Slab(output, a, offset, x.Shape[a]));
            offset += x.Shape[a];
        }
    }

    /// <summary>Splits <paramref name="input"/> along <paramref name="axis"/> into the outputs, in order.</summary>
    public static void Split(GpuRuntime runtime, in TensorArg input, int axis, IReadOnlyList<TensorArg> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int a = input.Shape.NormalizeAxis(axis, "split");
        int offset = 0;
        foreach (var y in outputs)
        {
            if (y.Shape.Rank != input.Shape.Rank || offset + y.Shape[a] > input.Shape[a])
                throw new ArgumentException(
                    $"split: output {y} does not fit input {input} at offset {offset} along axis {a}.");
            Copy(runtime, Slab(input, a, offset, y.Shape[a]), y);
            offset += y.Shape[a];
        }
        if (offset != input.Shape[a])
            throw new ArgumentException(
                $"split: the outputs cover {offset} of the {input.Shape[a]} entries of axis {a} of {input}.");
    }

    /// <summary>The sub-view [start, start + length) of <paramref name="x"/> along <paramref name="axis"/>.</summary>
    private static TensorArg Slab(in TensorArg x, int axis, int start, int length)
    {
        var dims = x.Shape.ToArray();
        dims[axis] = length;
        var layout = new TensorLayout(new Shape(dims), x.Layout.Strides,
            x.Offset + start * x.Layout.Strides[axis]);
        return x.WithLayout(layout);
    }
}
