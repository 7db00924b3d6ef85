using Engine.Kernels.Cpu;

namespace Engine.Ops;

/// <summary>Picks the struct operator for the array's dtype and runs the CPU elementwise driver.</summary>
internal static class ElementwiseDispatch
{
    public static void Unary<TF, TD>(NDArray x, NDArray y, TF f, TD d)
        where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
    {
        switch (x.DType)
        {
            case DType.Float32: CpuElementwise.Unary(f, x.BufferAsSpan<float>(), x.Layout, y.AsSpan<float>()); break;
            case DType.Float64: CpuElementwise.Unary(d, x.BufferAsSpan<double>(), x.Layout, y.AsSpan<double>()); break;
            default: throw Unsupported(x);
        }
    }

    public static void Unary<TF, TD, TI, TL>(NDArray x, NDArray y, TF f, TD d, TI i, TL l)
        where TF : struct, IUnaryOperator<float> where TD : struct, IUnaryOperator<double>
        where TI : struct, IUnaryOperator<int> where TL : struct, IUnaryOperator<long>
    {
        switch (x.DType)
        {
            case DType.Int32: CpuElementwise.Unary(i, x.BufferAsSpan<int>(), x.Layout, y.AsSpan<int>()); break;
            case DType.Int64: CpuElementwise.Unary(l, x.BufferAsSpan<long>(), x.Layout, y.AsSpan<long>()); break;
            default: Unary(x, y, f, d); break;
        }
    }

    public static void Binary<TF, TD>(NDArray a, NDArray b, NDArray y, TF f, TD d)
        where TF : struct, IBinaryOperator<float> where TD : struct, IBinaryOperator<double>
    {
        var la = ShapeRules.BroadcastLayout(a, y.Shape);
        var lb = ShapeRules.BroadcastLayout(b, y.Shape);
        switch (a.DType)
        {
            case DType.Float32:
                CpuElementwise.Binary(f, a.BufferAsSpan<float>(), la, b.BufferAsSpan<float>(), lb, y.AsSpan<float>());
                break;
            case DType.Float64:
                CpuElementwise.Binary(d, a.BufferAsSpan<double>(), la, b.BufferAsSpan<double>(), lb,
                    y.AsSpan<double>());
                break;
            default: throw Unsupported(a);
        }
    }

    public static void Binary<TF, TD, TI, TL>(NDArray a, NDArray b, NDArray y, TF f, TD d, TI i, TL l)
        where TF : struct, IBinaryOperator<float> where TD : struct, IBinaryOperator<double>
        where TI : struct, IBinaryOperator<int> where TL : struct, IBinaryOperator<long>
    {
        var la = ShapeRules.BroadcastLayout(a, y.Shape);
        var lb = ShapeRules.BroadcastLayout(b, y.Shape);
        switch (a.DType)
        {
            case DType.Int32:
                CpuElementwise.Binary(i, a.BufferAsSpan<int>(), la, b.BufferAsSpan<int>(), lb, y.AsSpan<int>());
                break;
            case DType.Int64:
                CpuElementwise.Binary(l, a.BufferAsSpan<long>(), la, b.BufferAsSpan<long>(), lb, y.AsSpan<long>());
                break;
            default: Binary(a, b, y, f, d); break;
        }
    }

    public static void Ternary<TF, TD, TI, TL>(NDArray a, NDArray b, NDArray c, NDArray y, TF f, TD d, TI i, TL l)
        where TF : struct, ITernaryOperator<float> where TD : struct, ITernaryOperator<double>
        where TI : struct, ITernaryOperator<int> where TL : struct, ITernaryOperator<long>
    {
        var la = ShapeRules.BroadcastLayout(a, y.Shape);
        var lb = ShapeRules.BroadcastLayout(b, y.Shape);
        var lc = ShapeRules.BroadcastLayout(c, y.Shape);
        switch (b.DType)
        {
            case DType.Float32:
                CpuElementwise.Ternary(f, a.BufferAsSpan<float>(), la, b.BufferAsSpan<float>(), lb,
                    c.BufferAsSpan<float>(), lc, y.AsSpan<float>());
                break;
            case DType.Float64:
                CpuElementwise.Ternary(d, a.BufferAsSpan<double>(), la, b.BufferAsSpan<double>(), lb,
                    c.BufferAsSpan<double>(), lc, y.AsSpan<double>());
                break;
            case DType.Int32:
                CpuElementwise.Ternary(i, a.BufferAsSpan<int>(), la, b.BufferAsSpan<int>(), lb,
                    c.BufferAsSpan<int>(), lc, y.AsSpan<int>());
                break;
            case DType.Int64:
                CpuElementwise.Ternary(l, a.BufferAsSpan<long>(), la, b.BufferAsSpan<long>(), lb,
                    c.BufferAsSpan<long>(), lc, y.AsSpan<long>());
                break;
            default: throw Unsupported(b);
        }
    }

    private static NotSupportedException Unsupported(NDArray x) =>
        new($"elementwise: dtype {x.DType.Name()} is not supported here; use float32, float64, int32 or int64.");
}
