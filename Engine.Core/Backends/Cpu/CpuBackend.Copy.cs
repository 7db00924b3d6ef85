using System.Runtime.InteropServices;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterCopy()
    {
        Register(CopyOps.Cast, static (_, c, i, o) => Cast(c.Contiguous(i[0]), o[0]));
        Register(CopyOps.Full, static (a, c, _, o) => Fill(c, a.Value, o[0]));
    }

    /// <summary>Fills any layout: a dense output directly, a strided one from a broadcast single element.</summary>
    private static void Fill(KernelContext context, double value, in TensorArg y)
    {
        if (y.IsContiguous)
        {
            FillDense(value, y);
            return;
        }
        var one = new TensorArg(context.Scratch(y.DType.SizeInBytes()), TensorLayout.Contiguous(new Shape(1)), y.DType);
        FillDense(value, one);
        var broadcast = new TensorLayout(y.Shape, new long[y.Shape.Rank], 0);
        context.Runtime.Copy(one.WithLayout(broadcast), y);
    }

    private static void FillDense(double value, in TensorArg a)
    {
        switch (a.DType)
        {
            case DType.Float32: a.Elements<float>().Fill((float)value); break;
            case DType.Float64: a.Elements<double>().Fill(value); break;
            case DType.Float16: a.Elements<Half>().Fill((Half)value); break;
            case DType.Int32: a.Elements<int>().Fill((int)value); break;
            case DType.Int64: a.Elements<long>().Fill((long)value); break;
            case DType.UInt8: a.Elements<byte>().Fill((byte)value); break;
            case DType.Int8: a.Elements<sbyte>().Fill((sbyte)value); break;
            case DType.Bool: MemoryMarshal.AsBytes(a.Elements<bool>()).Fill(value != 0 ? (byte)1 : (byte)0); break;
            default: throw new NotSupportedException($"full: dtype {a.DType.Name()} is not supported.");
        }
    }

    private static void Cast(in TensorArg src, in TensorArg y)
    {
        switch (src.DType)
        {
            case DType.Float32: CastFrom<float>(src.Elements<float>(), y); break;
            case DType.Float64: CastFrom<double>(src.Elements<double>(), y); break;
            case DType.Int32: CastFrom<int>(src.Elements<int>(), y); break;
            case DType.Int64: CastFrom<long>(src.Elements<long>(), y); break;
            case DType.UInt8: CastFrom<byte>(src.Elements<byte>(), y); break;
            default: CastSlow(src, y); break;
        }
    }

    private static void CastFrom<TFrom>(ReadOnlySpan<TFrom> src, in TensorArg y)
        where TFrom : unmanaged, System.Numerics.INumberBase<TFrom>
    {
        switch (y.DType)
        {
            case DType.Float32: CpuLayout.Cast(src, y.Elements<float>()); break;
            case DType.Float64: CpuLayout.Cast(src, y.Elements<double>()); break;
            case DType.Int32: CpuLayout.Cast(src, y.Elements<int>()); break;
            case DType.Int64: CpuLayout.Cast(src, y.Elements<long>()); break;
            case DType.UInt8: CpuLayout.Cast(src, y.Elements<byte>()); break;
            default:
                for (int i = 0; i < src.Length; i++) Write(y, i, double.CreateTruncating(src[i]));
                break;
        }
    }

    /// <summary>float16, int8 and bool, element by element through double.</summary>
    private static void CastSlow(in TensorArg x, in TensorArg y)
    {
        for (long i = 0; i < x.Size; i++) Write(y, i, Read(x, i));
    }

    private static double Read(in TensorArg a, long i) => a.DType switch
    {
        DType.Float32 => a.Span<float>()[(int)i],
        DType.Float64 => a.Span<double>()[(int)i],
        DType.Float16 => (double)a.Span<Half>()[(int)i],
        DType.Int32 => a.Span<int>()[(int)i],
        DType.Int64 => a.Span<long>()[(int)i],
        DType.UInt8 => a.Span<byte>()[(int)i],
        DType.Int8 => a.Span<sbyte>()[(int)i],
        DType.Bool => a.Span<bool>()[(int)i] ? 1 : 0,
        _ => throw new NotSupportedException($"cast: dtype {a.DType.Name()} is not supported."),
    };

    private static void Write(in TensorArg a, long i, double v)
    {
        switch (a.DType)
        {
            case DType.Float32: a.Span<float>()[(int)i] = (float)v; break;
            case DType.Float64: a.Span<double>()[(int)i] = v; break;
            case DType.Float16: a.Span<Half>()[(int)i] = (Half)v; break;
            case DType.Int32: a.Span<int>()[(int)i] = (int)v; break;
            case DType.Int64: a.Span<long>()[(int)i] = (long)v; break;
            case DType.UInt8: a.Span<byte>()[(int)i] = (byte)v; break;
            case DType.Int8: a.Span<sbyte>()[(int)i] = (sbyte)v; break;
            case DType.Bool: a.Span<bool>()[(int)i] = v != 0; break;
            default: throw new NotSupportedException($"cast: dtype {a.DType.Name()} is not supported.");
        }
    }
}
