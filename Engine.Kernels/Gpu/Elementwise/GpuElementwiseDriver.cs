using Engine.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The GPU's elementwise driver: one ILGPU kernel per operator type, specialised by ILGPU per instantiation (the
/// operator's scalar <c>Invoke</c> inlined into the loop, no calls), in a grid-stride loop. Dense operands are read
/// straight through; strided and broadcast ones through a <see cref="StridedIndex"/> of their jointly collapsed loop
/// nest. The output is contiguous.
/// </summary>
public sealed class GpuElementwiseDriver : IElementwiseDriver
{
    public static GpuElementwiseDriver Instance { get; } = new();

    private GpuElementwiseDriver() { }

    public void Unary<TOp, T>(KernelContext context, TOp op, in TensorArg x, in TensorArg y)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged
    {
        var rt = Runtime(context);
        string name = context.Op;
        var yv = y.Elements<T>(rt, name);
        var xv = x.Buffer<T>(rt, name);
        CheckShapes(name, y, x);
        int n = (int)y.Size;
        if (n == 0) return;
        if (x.IsContiguous)
        {
            rt.Kernels.Load<ArrayView<T>, ArrayView<T>, TOp, int>(UnaryDense<TOp, T>)(rt.Stream, rt.GridStride(n),
                xv.SubView(x.Offset, n), yv, op, n);
            return;
        }
        var nest = LoopNest.Create(y.Shape, x.Layout.Strides);
        var xi = StridedIndex.Create(nest.Dims, nest.Strides[0], x.Offset);
        rt.Kernels.Load<ArrayView<T>, StridedIndex, ArrayView<T>, TOp, int>(UnaryStrided<TOp, T>)(rt.Stream,
            rt.GridStride(n), xv, xi, yv, op, n);
    }

    public void Binary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg y)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        if (typeof(TOp).IsGenericType && typeof(TOp).GetGenericTypeDefinition() == typeof(PowerOperator<>))
        {
            // The CPU operator picks its float path with a type test, which ILGPU cannot compile.
            GpuPower.Run<T>(this, context, a, b, y);
            return;
        }
        BinaryCore<TOp, T>(context, op, a, b, y);
    }

    internal void BinaryCore<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg y)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        var rt = Runtime(context);
        string name = context.Op;
        var yv = y.Elements<T>(rt, name);
        var av = a.Buffer<T>(rt, name);
        var bv = b.Buffer<T>(rt, name);
        CheckShapes(name, y, a, b);
        int n = (int)y.Size;
        if (n == 0) return;
        if (a.IsContiguous && b.IsContiguous)
        {
            rt.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, TOp, int>(BinaryDense<TOp, T>)(rt.Stream,
                rt.GridStride(n), av.SubView(a.Offset, n), bv.SubView(b.Offset, n), yv, op, n);
            return;
        }
        var nest = LoopNest.Create(y.Shape, a.Layout.Strides, b.Layout.Strides);
        var ai = StridedIndex.Create(nest.Dims, nest.Strides[0], a.Offset);
        var bi = StridedIndex.Create(nest.Dims, nest.Strides[1], b.Offset);
        rt.Kernels.Load<ArrayView<T>, StridedIndex, ArrayView<T>, StridedIndex, ArrayView<T>, TOp, int>(
            BinaryStrided<TOp, T>)(rt.Stream, rt.GridStride(n), av, ai, bv, bi, yv, op, n);
    }

    public void Ternary<TOp, T>(KernelContext context, TOp op, in TensorArg a, in TensorArg b, in TensorArg c,
        in TensorArg y) where TOp : struct, ITernaryOperator<T> where T : unmanaged
    {
        var rt = Runtime(context);
        string name = context.Op;
        var yv = y.Elements<T>(rt, name);
        var av = a.Buffer<T>(rt, name);
        var bv = b.Buffer<T>(rt, name);
        var cv = c.Buffer<T>(rt, name);
        CheckShapes(name, y, a, b, c);
        int n = (int)y.Size;
        if (n == 0) return;
        var nest = LoopNest.Create(y.Shape, a.Layout.Strides, b.Layout.Strides, c.Layout.Strides);
        var ai = StridedIndex.Create(nest.Dims, nest.Strides[0], a.Offset);
        var bi = StridedIndex.Create(nest.Dims, nest.Strides[1], b.Offset);
        var ci = StridedIndex.Create(nest.Dims, nest.Strides[2], c.Offset);
        rt.Kernels.Load<ArrayView<T>, StridedIndex, ArrayView<T>, StridedIndex, ArrayView<T>, StridedIndex,
            ArrayView<T>, TOp, int>(TernaryStrided<TOp, T>)(rt.Stream, rt.GridStride(n), av, ai, bv, bi, cv, ci, yv,
            op, n);
    }

    internal static GpuRuntime Runtime(KernelContext context) =>
        context.Runtime as GpuRuntime ?? throw new InvalidOperationException(
            $"{context.Op}: the GPU elementwise driver was handed a context of {context.Device}.");

    private static void CheckShapes(string op, in TensorArg y, params TensorArg[] inputs)
    {
        foreach (var x in inputs)
        {
            if (x.Shape != y.Shape)
                throw new ArgumentException(
                    $"{op}: input {x} must be broadcast to the output shape {y.Shape} before the kernel runs.");
        }
    }

    private static void UnaryDense<TOp, T>(ArrayView<T> x, ArrayView<T> y, TOp op, int n)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) y[i] = op.Invoke(x[i]);
    }

    private static void UnaryStrided<TOp, T>(ArrayView<T> x, StridedIndex xi, ArrayView<T> y, TOp op, int n)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) y[i] = op.Invoke(x[xi.At(i)]);
    }

    private static void BinaryDense<TOp, T>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, TOp op, int n)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) y[i] = op.Invoke(a[i], b[i]);
    }

    private static void BinaryStrided<TOp, T>(ArrayView<T> a, StridedIndex ai, ArrayView<T> b, StridedIndex bi,
        ArrayView<T> y, TOp op, int n) where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
            y[i] = op.Invoke(a[ai.At(i)], b[bi.At(i)]);
    }

    private static void TernaryStrided<TOp, T>(ArrayView<T> a, StridedIndex ai, ArrayView<T> b, StridedIndex bi,
        ArrayView<T> c, StridedIndex ci, ArrayView<T> y, TOp op, int n)
        where TOp : struct, ITernaryOperator<T> where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
            y[i] = op.Invoke(a[ai.At(i)], b[bi.At(i)], c[ci.At(i)]);
    }
}
