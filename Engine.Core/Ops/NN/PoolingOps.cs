using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>MXNet's Pooling attributes (NCHW, or NCW for 1-D).</summary>
public sealed record PoolingAttrs(PoolingMode Mode, Dims Kernel, Dims Stride, Dims Pad, bool GlobalPool = false,
    PoolingConvention Convention = PoolingConvention.Valid, bool CountIncludePad = true) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() => new Dictionary<string, string>
    {
        ["kernel"] = Format.Tuple(Kernel), ["pool_type"] = Mode == PoolingMode.Max ? "max" : "avg",
        ["stride"] = Format.Tuple(Stride), ["pad"] = Format.Tuple(Pad), ["global_pool"] = Format.Bool(GlobalPool),
        ["pooling_convention"] = Convention == PoolingConvention.Valid ? "valid" : "full",
        ["count_include_pad"] = Format.Bool(CountIncludePad),
    };


    internal string OpName => Mode == PoolingMode.Max ? "max_pool" : "avg_pool";

    /// <summary>The kernel descriptor for an input shape, validated with the op's name in errors.</summary>
    internal PoolingDescriptor Describe(Shape x)
    {
        if (x.Rank is not (3 or 4))
            throw new ArgumentException(
                $"{OpName}: expects NCHW (rank 4) or NCW (rank 3) input, got shape {x}.");
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
}

[OpTable]
public static class PoolingOps
{
    public static readonly OpDef<PoolingAttrs> Pooling = new("pooling", 1, 1,
        (a, t) =>
        {
            ShapeRules.RequireFloat(a.OpName, t[0]);
            var d = a.Describe(t[0].Shape);
            return [new TensorType(t[0].Shape.Rank == 4 ? new Shape(d.N, d.C, d.OutH, d.OutW) :
                new Shape(d.N, d.C, d.OutW), t[0].DType)];
        },
        FusionClass.Opaque,
        static (a, i, o, g, _) => [PoolingBackward!.Call(a, i[0], o[0], g[0])]);

    /// <summary>Inputs x, y, dy; output dx.</summary>
    public static readonly OpDef<PoolingAttrs> PoolingBackward = new("_backward_pooling", 3, 1,
        (_, t) => [t[0]]);
}
