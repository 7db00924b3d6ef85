using Engine.Kernels.Cpu;

namespace Engine.Ops;

public sealed record CastAttrs(DType DType) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["dtype"] = DType.Name() };
}

/// <summary>Copies and conversions between layouts and element types.</summary>
[OpTable]
public static class CopyOps
{
    /// <summary>A contiguous copy of any layout (also materialises transposes and broadcasts).</summary>
    public static readonly OpDef<NoAttrs> Copy = new("copy", 1, 1, ShapeRules.Same,
        ElementwiseOps.Cpu<NoAttrs>((_, i, o) => CopyKernel(i[0], o[0])), FusionClass.Injective);

    public static readonly OpDef<CastAttrs> Cast = new("cast", 1, 1,
        (a, t) => [new TensorType(t[0].Shape, a.DType)],
        ElementwiseOps.Cpu<CastAttrs>((_, i, o) => CastKernel(i[0], o[0])), FusionClass.Elementwise);

    internal static void CopyKernel(NDArray x, NDArray y)
    {
        switch (x.DType.SizeInBytes())
        {
            case 1:
                CpuElementwise.Unary(new IdentityOperator<byte>(), x.RawBufferAsSpan<byte>(), x.Layout, y.RawAsSpan<byte>());
                break;
            case 2:
                CpuElementwise.Unary(new IdentityOperator<short>(), x.RawBufferAsSpan<short>(), x.Layout,
                    y.RawAsSpan<short>());
                break;
            case 4:
                CpuElementwise.Unary(new IdentityOperator<int>(), x.RawBufferAsSpan<int>(), x.Layout, y.RawAsSpan<int>());
                break;
            default:
                CpuElementwise.Unary(new IdentityOperator<long>(), x.RawBufferAsSpan<long>(), x.Layout,
                    y.RawAsSpan<long>());
                break;
        }
    }

    private static void CastKernel(NDArray x, NDArray y)
    {
        var src = x.AsContiguousCpu();
        try
        {
            long n = x.Size;
            for (long i = 0; i < n; i++) Write(y, i, Read(src, i));
        }
        finally
        {
            if (!ReferenceEquals(src, x)) src.Dispose();
        }
    }

    private static double Read(NDArray a, long i) => a.DType switch
    {
        DType.Float32 => a.AsSpan<float>()[(int)i],
        DType.Float64 => a.AsSpan<double>()[(int)i],
        DType.Float16 => (double)a.AsSpan<Half>()[(int)i],
        DType.Int32 => a.AsSpan<int>()[(int)i],
        DType.Int64 => a.AsSpan<long>()[(int)i],
        DType.UInt8 => a.AsSpan<byte>()[(int)i],
        DType.Int8 => a.AsSpan<sbyte>()[(int)i],
        DType.Bool => a.AsSpan<bool>()[(int)i] ? 1 : 0,
        _ => throw new NotSupportedException(a.DType.Name()),
    };

    private static void Write(NDArray a, long i, double v)
    {
        switch (a.DType)
        {
            case DType.Float32: a.AsSpan<float>()[(int)i] = (float)v; break;
            case DType.Float64: a.AsSpan<double>()[(int)i] = v; break;
            case DType.Float16: a.AsSpan<Half>()[(int)i] = (Half)v; break;
            case DType.Int32: a.AsSpan<int>()[(int)i] = (int)v; break;
            case DType.Int64: a.AsSpan<long>()[(int)i] = (long)v; break;
            case DType.UInt8: a.AsSpan<byte>()[(int)i] = (byte)v; break;
            case DType.Int8: a.AsSpan<sbyte>()[(int)i] = (sbyte)v; break;
            case DType.Bool: a.AsSpan<bool>()[(int)i] = v != 0; break;
            default: throw new NotSupportedException(a.DType.Name());
        }
    }
}
