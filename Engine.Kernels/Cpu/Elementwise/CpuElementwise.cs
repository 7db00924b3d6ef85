using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The one SIMD driver for elementwise operations. Inputs are strided layouts already broadcast to the output
/// shape (stride 0 on broadcast dimensions); the output is contiguous. After <see cref="LoopNest"/> collapses
/// the dimensions, the inner loop runs as vector-vector, vector-scalar or scalar-vector code when the inner
/// strides are 1 or 0, and as a scalar loop otherwise.
/// </summary>
public static unsafe class CpuElementwise
{
    /// <summary>Below this many elements per thread, work runs on the calling thread.</summary>
    private const long Grain = 1 << 15;

    public static void Unary<TOp, T>(TOp op, ReadOnlySpan<T> x, TensorLayout xLayout, Span<T> y)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged
    {
        Shape shape = xLayout.Shape;
        CheckOutput(y.Length, shape, "elementwise");
        xLayout.CheckFits(x.Length, "elementwise");
        long size = shape.Size;
        if (size == 0) return;
        if (size < 2 * Grain && xLayout.IsContiguous)
        {
            // One thread's worth of dense elements: no loop nest, no closure (a 256-float relu is a few ns of
            // work, and building the nest cost more than the loop).
            fixed (T* px = x, py = y) UnaryInner(op, px + xLayout.Offset, 1, py, size);
            return;
        }
        var nest = LoopNest.Create(shape, xLayout.Strides, shape.ContiguousStrides());
        fixed (T* px = x, py = y)
        {
            T* bx = px + xLayout.Offset, by = py;
            RunRows(nest, (rowStart, rowEnd, colStart, colEnd) =>
            {
                for (long r = rowStart; r < rowEnd; r++)
                {
                    T* a = bx + nest.RowOffset(0, r) + colStart * nest.Strides[0][^1];
                    T* o = by + nest.RowOffset(1, r) + colStart;
                    UnaryInner(op, a, nest.Strides[0][^1], o, colEnd - colStart);
                }
            });
        }
    }

    public static void Binary<TOp, T>(TOp op, ReadOnlySpan<T> a, TensorLayout aLayout, ReadOnlySpan<T> b,
        TensorLayout bLayout, Span<T> y)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        Shape shape = aLayout.Shape;
        if (bLayout.Shape != shape)
            throw new ArgumentException(
                $"elementwise: operand layouts must be broadcast to one shape, got {shape} and {bLayout.Shape}.");
        CheckOutput(y.Length, shape, "elementwise");
        aLayout.CheckFits(a.Length, "elementwise");
        bLayout.CheckFits(b.Length, "elementwise");
        long size = shape.Size;
        if (size == 0) return;
        if (size < 2 * Grain && aLayout.IsContiguous && bLayout.IsContiguous)
        {
            fixed (T* pa = a, pb = b, py = y)
                BinaryInner(op, pa + aLayout.Offset, 1, pb + bLayout.Offset, 1, py, size);
            return;
        }
        var nest = LoopNest.Create(shape, aLayout.Strides, bLayout.Strides, shape.ContiguousStrides());
        fixed (T* pa = a, pb = b, py = y)
        {
            T* ba = pa + aLayout.Offset, bb = pb + bLayout.Offset, by = py;
            long sa = nest.Strides[0][^1], sb = nest.Strides[1][^1];
            RunRows(nest, (rowStart, rowEnd, colStart, colEnd) =>
            {
                for (long r = rowStart; r < rowEnd; r++)
                {
                    T* x = ba + nest.RowOffset(0, r) + colStart * sa;
                    T* z = bb + nest.RowOffset(1, r) + colStart * sb;
                    T* o = by + nest.RowOffset(2, r) + colStart;
                    BinaryInner(op, x, sa, z, sb, o, colEnd - colStart);
                }
            });
        }
    }

    public static void Ternary<TOp, T>(TOp op, ReadOnlySpan<T> a, TensorLayout aLayout, ReadOnlySpan<T> b,
        TensorLayout bLayout, ReadOnlySpan<T> c, TensorLayout cLayout, Span<T> y)
        where TOp : struct, ITernaryOperator<T> where T : unmanaged
    {
        Shape shape = aLayout.Shape;
        if (bLayout.Shape != shape || cLayout.Shape != shape)
            throw new ArgumentException(
                $"elementwise: operand layouts must be broadcast to one shape, got {shape}, {bLayout.Shape} " +
                $"and {cLayout.Shape}.");
        CheckOutput(y.Length, shape, "elementwise");
        aLayout.CheckFits(a.Length, "elementwise");
        bLayout.CheckFits(b.Length, "elementwise");
        cLayout.CheckFits(c.Length, "elementwise");
        if (shape.Size == 0) return;
        var nest = LoopNest.Create(shape, aLayout.Strides, bLayout.Strides, cLayout.Strides,
            shape.ContiguousStrides());
        fixed (T* pa = a, pb = b, pc = c, py = y)
        {
            T* ba = pa + aLayout.Offset, bb = pb + bLayout.Offset, bc = pc + cLayout.Offset, by = py;
            long sa = nest.Strides[0][^1], sb = nest.Strides[1][^1], sc = nest.Strides[2][^1];
            RunRows(nest, (rowStart, rowEnd, colStart, colEnd) =>
            {
                for (long r = rowStart; r < rowEnd; r++)
                {
                    T* x = ba + nest.RowOffset(0, r) + colStart * sa;
                    T* z = bb + nest.RowOffset(1, r) + colStart * sb;
                    T* w = bc + nest.RowOffset(2, r) + colStart * sc;
                    T* o = by + nest.RowOffset(3, r) + colStart;
                    TernaryInner(op, x, sa, z, sb, w, sc, o, colEnd - colStart);
                }
            });
        }
    }

    private delegate void RowRange(long rowStart, long rowEnd, long colStart, long colEnd);

    /// <summary>
    /// Splits the nest across threads: by rows when there are several, else by column ranges of the single row.
    /// </summary>
    private static void RunRows(LoopNest nest, RowRange body)
    {
        long rows = nest.OuterSize, cols = nest.InnerSize;
        if (rows * cols < 2 * Grain)
        {
            body(0, rows, 0, cols);
            return;
        }
        if (rows == 1)
        {
            // Chunks aligned to 64 elements keep every chunk's vector loads whole.
            long blocks = (cols + 63) / 64;
            CpuParallel.For(blocks, Grain / 64, (s, e) => body(0, 1, s * 64, Math.Min(cols, e * 64)));
            return;
        }
        CpuParallel.For(rows, Math.Max(1, Grain / cols), (s, e) => body(s, e, 0, cols));
    }

    // The inner loops are separate methods, not inlined into the row lambdas: inlined there, beside the row
    // offsets, the JIT kept the loop counter and pointers on the stack (relu over 1 MB: 51 us inlined, 44 separate,
    // the time of a plain copy).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void UnaryInner<TOp, T>(TOp op, T* x, long sx, T* y, long n)
        where TOp : struct, IUnaryOperator<T> where T : unmanaged
    {
        long i = 0;
        if (CpuInstructionSet.Vector512LoopsPay && VectorForm<TOp, T>.Available && sx == 1)
        {
            for (; i <= n - 2 * Vector512<T>.Count; i += 2 * Vector512<T>.Count)
            {
                Vector512.Store(op.Invoke(Vector512.Load(x + i)), y + i);
                Vector512.Store(op.Invoke(Vector512.Load(x + i + Vector512<T>.Count)), y + i + Vector512<T>.Count);
            }
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + i)), y + i);
        }
        for (; i < n; i++) y[i] = op.Invoke(x[i * sx]);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BinaryInner<TOp, T>(TOp op, T* a, long sa, T* b, long sb, T* y, long n)
        where TOp : struct, IBinaryOperator<T> where T : unmanaged
    {
        long i = 0;
        int w = Vector512<T>.Count;
        if (CpuInstructionSet.Vector512LoopsPay && VectorForm<TOp, T>.Available)
        {
            if (sa == 1 && sb == 1)
            {
                for (; i <= n - w; i += w)
                    Vector512.Store(op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i)), y + i);
            }
            else if (sa == 1 && sb == 0)
            {
                var vb = Vector512.Create(*b);
                for (; i <= n - w; i += w) Vector512.Store(op.Invoke(Vector512.Load(a + i), vb), y + i);
            }
            else if (sa == 0 && sb == 1)
            {
                var va = Vector512.Create(*a);
                for (; i <= n - w; i += w) Vector512.Store(op.Invoke(va, Vector512.Load(b + i)), y + i);
            }
        }
        for (; i < n; i++) y[i] = op.Invoke(a[i * sa], b[i * sb]);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TernaryInner<TOp, T>(TOp op, T* a, long sa, T* b, long sb, T* c, long sc, T* y, long n)
        where TOp : struct, ITernaryOperator<T> where T : unmanaged
    {
        long i = 0;
        if (CpuInstructionSet.Vector512LoopsPay && sa == 1 && sb == 1 && sc == 1)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i), Vector512.Load(c + i)), y + i);
        }
        for (; i < n; i++) y[i] = op.Invoke(a[i * sa], b[i * sb], c[i * sc]);
    }

    /// <summary>
    /// Whether an operator type has a vector form, read once per type. Calling the interface's default
    /// <c>Vectorized</c> through a struct boxes the struct: that was an allocation on every row.
    /// </summary>
    private static class VectorForm<TOp, T> where TOp : struct where T : unmanaged
    {
        public static readonly bool Available = default(TOp) switch
        {
            IUnaryOperator<T> unary => unary.Vectorized,
            IBinaryOperator<T> binary => binary.Vectorized,
            _ => true,
        };
    }

    private static void CheckOutput(int length, Shape shape, string op)
    {
        if (length != shape.Size)
            throw new ArgumentException(
                $"{op}: the output holds {length} elements but shape {shape} needs {shape.Size}.");
    }
}
