using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>
/// MXNet's Pooling attributes (NCHW, NCW for 1-D, NCDHW for 3-D). <see cref="ReluMask"/> exists only on
/// <c>_backward_pooling</c> and <c>_pooling_argmax</c> in compiled training graphs
/// (<see cref="Engine.Graphs.Passes.ReluPoolingBackwardPass"/>, <see cref="Engine.Graphs.Passes.PoolingArgMaxPass"/>):
/// the pooled input is a relu's output and the gradient also goes through the relu's backward.
/// </summary>
public sealed record PoolingAttrs(PoolingMode Mode, Dims Kernel, Dims Stride, Dims Pad, bool GlobalPool = false,
    PoolingConvention Convention = PoolingConvention.Valid, bool CountIncludePad = true, bool ReluMask = false)
    : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>
        {
            ["kernel"] = Format.Tuple(Kernel), ["pool_type"] = Mode == PoolingMode.Max ? "max" : "avg",
            ["stride"] = Format.Tuple(Stride), ["pad"] = Format.Tuple(Pad), ["global_pool"] = Format.Bool(GlobalPool),
            ["pooling_convention"] = Convention == PoolingConvention.Valid ? "valid" : "full",
            ["count_include_pad"] = Format.Bool(CountIncludePad),
        };
        if (ReluMask) d["relu_mask"] = Format.Bool(true);
        return d;
    }


    internal string OpName => Mode == PoolingMode.Max ? "max_pool" : "avg_pool";

    /// <summary>The kernel descriptor for an input shape, validated with the op's name in errors.</summary>
    internal PoolingDescriptor Describe(Shape x)
    {
        if (x.Rank is not (3 or 4))
            throw new ArgumentException(
                $"{OpName}: expects NCW (rank 3), NCHW (rank 4) or NCDHW (rank 5) input, got shape {x}.");
        if (GlobalPool)
            return PoolingDescriptor.Global(Mode, x[0], x[1], x.Rank == 4 ? x[2] : 1, x[^1]);
        int spatial = x.Rank - 2;
        if (Kernel.Length != spatial || Stride.Length != spatial || Pad.Length != spatial)
            throw new ArgumentException(
                $"{OpName}: input {x} has {spatial} spatial dims but kernel {Format.Tuple(Kernel)}, stride " +
                $"{Format.Tuple(Stride)} and pad {Format.Tuple(Pad)} must each have {spatial} values.");
        return x.Rank == 4
            ? new PoolingDescriptor(Mode, x[0], x[1], x[2], x[3], Kernel[0], Kernel[1], Stride[0], Stride[1], Pad[0],
                Pad[1], Convention, CountIncludePad)
            : PoolingDescriptor.Pool1d(Mode, x[0], x[1], x[2], Kernel[0], Stride[0], Pad[0], Convention,
                CountIncludePad);
    }

    /// <summary>The 3-D kernel descriptor for an NCDHW input.</summary>
    internal Pooling3DDescriptor Describe3D(Shape x)
    {
        var input = new Size3(x[2], x[3], x[4]);
        if (GlobalPool) return Pooling3DDescriptor.Global(Mode, x[0], x[1], input);
        string op = Mode == PoolingMode.Max ? "max_pool3d" : "avg_pool3d";
        if (Kernel.Length != 3 || Stride.Length != 3 || Pad.Length != 3)
            throw new ArgumentException(
                $"{op}: input {x} has 3 spatial dims but kernel {Format.Tuple(Kernel)}, stride " +
                $"{Format.Tuple(Stride)} and pad {Format.Tuple(Pad)} must each have 3 values.");
        return new Pooling3DDescriptor(Mode, x[0], x[1], input, new Size3(Kernel[0], Kernel[1], Kernel[2]),
            new Size3(Stride[0], Stride[1], Stride[2]), new Size3(Pad[0], Pad[1], Pad[2]), Convention,
            CountIncludePad);
    }

    /// <summary>Whether a pooling of this input can keep its arg-max in a byte per window
    /// (<see cref="CpuPooling.FitsArgMax"/>): max, 1-D or 2-D, at most 255 elements per window.</summary>
    internal bool FitsArgMax(Shape x) =>
        Mode == PoolingMode.Max && x.Rank is (3 or 4) && CpuPooling.FitsArgMax(Describe(x));

    /// <summary>The output shape for an input shape (1-D, 2-D or 3-D), validated.</summary>
    internal Shape OutputShape(Shape x)
    {
        if (x.Rank == 5) return Describe3D(x).OutputShape;
        var d = Describe(x);
        return x.Rank == 4 ? new Shape(d.N, d.C, d.OutH, d.OutW) : new Shape(d.N, d.C, d.OutW);
    }
}

/// <summary>
/// <c>_backward_pooling_argmax</c>'s attributes: the pooling's, and the shape of its input x (the backward reads
/// only the arg-max indices and dy, so the shape of dx comes from here).
/// </summary>
public sealed record PoolingArgMaxBackwardAttrs(PoolingAttrs Pooling, Dims InputShape) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string>(Pooling.ToDictionary()) { ["input_shape"] = Format.Tuple(InputShape) };
}

[OpTable]
public static class PoolingOps
{
    public static readonly OpDef<PoolingAttrs> Pooling = new("pooling", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat(a.OpName, t[0]);
            if (a.ReluMask)
                throw new ArgumentException(
                    $"{a.OpName}: relu_mask belongs to _backward_pooling only (a compiled graph sets it); the " +
                    "forward pooling takes no relu mask, so leave it false.");
            return [new TensorType(a.OutputShape(t[0].Shape), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, o, g, _) => [PoolingBackward!.Call(a, i[0], o[0], g[0])]);

    /// <summary>Inputs x, y, dy; output dx (with <c>relu_mask</c>, 0 wherever x &lt;= 0).</summary>
    public static readonly OpDef<PoolingAttrs> PoolingBackward = new("_backward_pooling", 3, 1,
        (a, t) =>
        {
            if (a.ReluMask && t[0].Shape.Rank == 5)
                throw new ArgumentException(
                    $"_backward_pooling: relu_mask is supported for 1-D and 2-D pooling, but x is {t[0].Shape}; " +
                    "run the relu's backward as its own operator.");
            return [t[0]];
        });

    /// <summary>
    /// Max pooling that also writes each window's arg-max, a byte per window (<see cref="CpuPooling"/>): outputs y
    /// and the indices, with <c>relu_mask</c> "no winner" where the winning value is &lt;= 0. Only in compiled
    /// training graphs (<see cref="Engine.Graphs.Passes.PoolingArgMaxPass"/>), where its backward is
    /// <see cref="PoolingArgMaxBackward"/>; not differentiable itself.
    /// </summary>
    public static readonly OpDef<PoolingAttrs> PoolingArgMax = new("_pooling_argmax", 1, 2,
        (a, t) =>
        {
            ShapeRules.RequireFloat("_pooling_argmax", t[0]);
            if (!a.FitsArgMax(t[0].Shape))
                throw new ArgumentException(
                    $"_pooling_argmax: keeps a byte per window, so it takes 1-D or 2-D max pooling with at most " +
                    $"{CpuPooling.NoWinner} elements per window, but got {a.OpName} of {t[0].Shape}; use pooling " +
                    "and _backward_pooling.");
            var y = a.OutputShape(t[0].Shape);
            return [new TensorType(y, t[0].DType), new TensorType(y, DType.UInt8)];
        });

    /// <summary>Inputs the arg-max indices of <see cref="PoolingArgMax"/> and dy; output dx (x's shape).</summary>
    public static readonly OpDef<PoolingArgMaxBackwardAttrs> PoolingArgMaxBackward = new(
        "_backward_pooling_argmax", 2, 1,
        (a, t) =>
        {
            var x = new Shape(a.InputShape);
            if (t[0].DType != DType.UInt8 || !a.Pooling.FitsArgMax(x) || t[0].Shape != a.Pooling.OutputShape(x) ||
                t[1].Shape != t[0].Shape)
                throw new ArgumentException(
                    $"_backward_pooling_argmax: expects the uint8 arg-max indices of _pooling_argmax over {x} and " +
                    $"dy of their shape, got {t[0]} and {t[1]}.");
            ShapeRules.RequireFloat("_backward_pooling_argmax", t[1]);
            return [new TensorType(x, t[1].DType)];
        });
}
