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
        ElementwiseOps.Cpu<NoAttrs>((_, i, o) => CopyKernel(i[0], o[0])), FusionClass.Injective,
        static (_, _, _, g, _) => [g[0]]);

    public static readonly OpDef<CastAttrs> Cast = new("cast", 1, 1,
        (a, t) => [new TensorType(t[0].Shape, a.DType)],
        ElementwiseOps.Cpu<CastAttrs>((_, i, o) => CastKernel(i[0], o[0])), FusionClass.Elementwise,
        static (_, i, _, g, _) => [i[0].DType.IsFloatingPoint() ? g[0].AsType(i[0].DType) : null]);

    /// <summary>Copies x (any layout) into the contiguous array y of the same shape.</summary>
    internal static void CopyKernel(NDArray x, NDArray y) =>
        StridedCopy(x, x.Layout, y, TensorLayout.Contiguous(y.Shape) is var l ? new TensorLayout(l.Shape, l.Strides,
            y.Offset) : l);

    /// <summary>Copies elements between two layouts over the arrays' buffers, moving bytes only.</summary>
    internal static void StridedCopy(NDArray source, TensorLayout sourceLayout, NDArray destination,
        TensorLayout destinationLayout)
    {
        switch (source.DType.SizeInBytes())
        {
            case 1:
                CpuLayout.Copy<byte>(source.RawBufferAsSpan<byte>(), sourceLayout,
                    destination.RawBufferAsSpan<byte>(), destinationLayout);
                break;
            case 2:
                CpuLayout.Copy<short>(source.RawBufferAsSpan<short>(), sourceLayout,
                    destination.RawBufferAsSpan<short>(), destinationLayout);
                break;
            case 4:
                CpuLayout.Copy<int>(source.RawBufferAsSpan<int>(), sourceLayout, destination.RawBufferAsSpan<int>(),
                    destinationLayout);
                break;
            default:
                CpuLayout.Copy<long>(source.RawBufferAsSpan<long>(), sourceLayout,
                    destination.RawBufferAsSpan<long>(), destinationLayout);
                break;
        }
    }

    private static void CastKernel(NDArray x, NDArray y)
    {
        using var srcLease = x.Contiguous();
            var src = srcLease.Array;
        switch (src.DType)
        {
            case DType.Float32: CastFrom(src.AsSpan<float>()[..(int)src.Size], y); break;
            case DType.Float64: CastFrom(src.AsSpan<double>()[..(int)src.Size], y); break;
            case DType.Int32: CastFrom(src.AsSpan<int>()[..(int)src.Size], y); break;
            case DType.Int64: CastFrom(src.AsSpan<long>()[..(int)src.Size], y); break;
            case DType.UInt8: CastFrom(src.AsSpan<byte>()[..(int)src.Size], y); break;
            default: CastSlow(src, y); break;
        }
    }

    private static void CastFrom<TFrom>(ReadOnlySpan<TFrom> src, NDArray y)
        where TFrom : unmanaged, System.Numerics.INumberBase<TFrom>
    {
        switch (y.DType)
        {
            case DType.Float32: CpuLayout.Cast(src, y.AsSpan<float>()); break;
            case DType.Float64: CpuLayout.Cast(src, y.AsSpan<double>()); break;
            case DType.Int32: CpuLayout.Cast(src, y.AsSpan<int>()); break;
            case DType.Int64: CpuLayout.Cast(src, y.AsSpan<long>()); break;
            case DType.UInt8: CpuLayout.Cast(src, y.AsSpan<byte>()); break;
            default:
                for (int i = 0; i < src.Length; i++) Write(y, i, double.CreateTruncating(src[i]));
                break;
        }
    }

    /// <summary>float16, int8 and bool, element by element through double.</summary>
    private static void CastSlow(NDArray x, NDArray y)
    {
        for (long i = 0; i < x.Size; i++) Write(y, i, Read(x, i));
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
