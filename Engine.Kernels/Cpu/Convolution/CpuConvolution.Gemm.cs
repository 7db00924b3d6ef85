using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

// The small matrix product every convolution pass reduces to, and the SIMD operators it is written over. It is
// private to convolution on purpose: it needs no packing for the shapes convolution tiles produce.
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// C[i, j] = (accumulate ? C[i, j] : 0) + sum over l of A[i, l] * B[l, j], for i &lt; m, j &lt; n, l &lt; depth,
    /// all row-major with leading dimensions lda, ldb, ldc. Each C element is one accumulator lane summed over l in
    /// order, so the result does not depend on how callers split rows or columns among threads.
    /// </summary>
    private static void Gemm<T>(int m, int n, int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc,
        bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            GemmCore<T, Vector512<T>, Simd512<T>>(m, n, depth, a, lda, b, ldb, c, ldc, accumulate);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            GemmCore<T, Vector256<T>, Simd256<T>>(m, n, depth, a, lda, b, ldb, c, ldc, accumulate);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            GemmCore<T, Vector128<T>, Simd128<T>>(m, n, depth, a, lda, b, ldb, c, ldc, accumulate);
        else
            GemmCore<T, T, SimdScalar<T>>(m, n, depth, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>
    /// Depth is split in slices of this many steps, so the B panel one register block walks (KC x two vectors,
    /// 16 KB of floats) stays in the 32 KB L1 while every row block of A passes over it. Slicing only stores and
    /// reloads partial sums, so each element still sums its terms in the same order.
    /// </summary>
    private const int DepthSlice = 128;

    /// <summary>Rows of C the padded tail goes through at a time (a 4 KB stack buffer of floats).</summary>
    private const int TailRows = 64;

    private static void GemmCore<T, TV, TOps>(int m, int n, int depth, T* a, nint lda, T* b, nint ldb, T* c,
        nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        if (depth == 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++) new Span<T>(c + i * ldc, n).Clear();
            }
            return;
        }
        for (int l0 = 0; l0 < depth; l0 += DepthSlice)
        {
            int kc = Math.Min(DepthSlice, depth - l0);
            GemmSlice<T, TV, TOps>(m, n, kc, a + l0, lda, b + l0 * ldb, ldb, c, ldc, accumulate || l0 > 0);
        }
    }

    // Columns in blocks of two vectors (outer, so the B panel stays in L1 across row blocks), rows in blocks of
    // four: 8 accumulators, enough independent FMA chains to hide latency without spilling. Then one vector of
    // columns, then the last few through a zero-padded copy.
    private static void GemmSlice<T, TV, TOps>(int m, int n, int depth, T* a, nint lda, T* b, nint ldb, T* c,
        nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        int j = 0;
        for (; j + 2 * vc <= n; j += 2 * vc)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
                Block4x2<T, TV, TOps>(depth, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, accumulate);
            for (; i < m; i++)
                Block1x2<T, TV, TOps>(depth, a + i * lda, b + j, ldb, c + i * ldc + j, accumulate);
        }
        for (; j + vc <= n; j += vc) Columns1<T, TV, TOps>(m, depth, a, lda, b + j, ldb, c + j, ldc, accumulate);
        int tail = n - j;
        if (tail == 0) return;

        // The last columns, fewer than a vector: copy them into a zero-padded panel (depth <= DepthSlice, so it
        // fits on the stack) and run the vector code into a padded copy of C, rather than scalar FMA chains.
        T* panel = stackalloc T[depth * vc];
        for (int l = 0; l < depth; l++)
        {
            var row = new Span<T>(panel + l * vc, vc);
            new ReadOnlySpan<T>(b + l * ldb + j, tail).CopyTo(row);
            row[tail..].Clear();
        }
        T* cPad = stackalloc T[TailRows * vc];
        for (int i0 = 0; i0 < m; i0 += TailRows)
        {
            int rows = Math.Min(TailRows, m - i0);
            T* ci = c + i0 * ldc + j;
            for (int i = 0; i < rows; i++)
            {
                var row = new Span<T>(cPad + i * vc, vc);
                row.Clear();
                if (accumulate) new ReadOnlySpan<T>(ci + i * ldc, tail).CopyTo(row);
            }
            Columns1<T, TV, TOps>(rows, depth, a + i0 * lda, lda, panel, vc, cPad, vc, accumulate);
            for (int i = 0; i < rows; i++)
                new ReadOnlySpan<T>(cPad + i * vc, tail).CopyTo(new Span<T>(ci + i * ldc, tail));
        }
    }

    // One vector of columns for all m rows, four rows at a time.
    private static void Columns1<T, TV, TOps>(int m, int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc,
        bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
            Block4x1<T, TV, TOps>(depth, a + i * lda, lda, b, ldb, c + i * ldc, ldc, accumulate);
        for (; i < m; i++)
            Block1x1<T, TV, TOps>(depth, a + i * lda, b, ldb, c + i * ldc, accumulate);
    }

    /// <summary>
    /// C[i, j] += sum over l of A[i, l] * B[j, l]: both operands run along l, as the output-gradient rows and the
    /// im2col rows do in backward-weight. Each element sums whole vectors lane-wise, then the lanes, then the
    /// scalar tail, an order that depends only on depth.
    /// </summary>
    private static void GemmTransposedB<T>(int m, int n, int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0 || depth <= 0) return;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            GemmTransposedBCore<T, Vector512<T>, Simd512<T>>(m, n, depth, a, lda, b, ldb, c, ldc);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            GemmTransposedBCore<T, Vector256<T>, Simd256<T>>(m, n, depth, a, lda, b, ldb, c, ldc);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            GemmTransposedBCore<T, Vector128<T>, Simd128<T>>(m, n, depth, a, lda, b, ldb, c, ldc);
        else
            GemmTransposedBCore<T, T, SimdScalar<T>>(m, n, depth, a, lda, b, ldb, c, ldc);
    }

    private static void GemmTransposedBCore<T, TV, TOps>(int m, int n, int depth, T* a, nint lda, T* b, nint ldb,
        T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            int j = 0;
            for (; j + 2 <= n; j += 2)
                Dot4x2<T, TV, TOps>(depth, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc);
            for (; j < n; j++)
            {
                for (int r = 0; r < 4; r++)
                    c[(i + r) * ldc + j] += Dot<T, TV, TOps>(depth, a + (i + r) * lda, b + j * ldb);
            }
        }
        for (; i < m; i++)
        {
            for (int j = 0; j < n; j++) c[i * ldc + j] += Dot<T, TV, TOps>(depth, a + i * lda, b + j * ldb);
        }
    }

    // Four rows of A against two rows of B: 8 accumulators from 6 loads per step.
    private static void Dot4x2<T, TV, TOps>(int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        T* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, b0 = b, b1 = b + ldb;
        TV s00, s01, s10, s11, s20, s21, s30, s31;
        s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = TOps.Zero;
        int l = 0;
        for (; l + vc <= depth; l += vc)
        {
            TV y0 = TOps.Load(b0 + l), y1 = TOps.Load(b1 + l);
            TV x = TOps.Load(a0 + l);
            s00 = TOps.MulAdd(x, y0, s00);
            s01 = TOps.MulAdd(x, y1, s01);
            x = TOps.Load(a1 + l);
            s10 = TOps.MulAdd(x, y0, s10);
            s11 = TOps.MulAdd(x, y1, s11);
            x = TOps.Load(a2 + l);
            s20 = TOps.MulAdd(x, y0, s20);
            s21 = TOps.MulAdd(x, y1, s21);
            x = TOps.Load(a3 + l);
            s30 = TOps.MulAdd(x, y0, s30);
            s31 = TOps.MulAdd(x, y1, s31);
        }
        c[0] += TOps.Sum(s00) + DotTail(l, depth, a0, b0);
        c[1] += TOps.Sum(s01) + DotTail(l, depth, a0, b1);
        c[ldc] += TOps.Sum(s10) + DotTail(l, depth, a1, b0);
        c[ldc + 1] += TOps.Sum(s11) + DotTail(l, depth, a1, b1);
        c[2 * ldc] += TOps.Sum(s20) + DotTail(l, depth, a2, b0);
        c[2 * ldc + 1] += TOps.Sum(s21) + DotTail(l, depth, a2, b1);
        c[3 * ldc] += TOps.Sum(s30) + DotTail(l, depth, a3, b0);
        c[3 * ldc + 1] += TOps.Sum(s31) + DotTail(l, depth, a3, b1);
    }

    private static T Dot<T, TV, TOps>(int depth, T* a, T* b)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        TV s = TOps.Zero;
        int l = 0;
        for (; l + vc <= depth; l += vc) s = TOps.MulAdd(TOps.Load(a + l), TOps.Load(b + l), s);
        return TOps.Sum(s) + DotTail(l, depth, a, b);
    }

    private static T DotTail<T>(int l, int depth, T* a, T* b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (; l < depth; l++) sum = T.MultiplyAddEstimate(a[l], b[l], sum);
        return sum;
    }

    /// <summary>dst[i] += src[i] for i &lt; n.</summary>
    private static void AddTo<T>(T* dst, T* src, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            AddToCore<T, Vector512<T>, Simd512<T>>(dst, src, n);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            AddToCore<T, Vector256<T>, Simd256<T>>(dst, src, n);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            AddToCore<T, Vector128<T>, Simd128<T>>(dst, src, n);
        else
            AddToCore<T, T, SimdScalar<T>>(dst, src, n);
    }

    private static void AddToCore<T, TV, TOps>(T* dst, T* src, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        int i = 0;
        for (; i + vc <= n; i += vc) TOps.Store(dst + i, TOps.Add(TOps.Load(dst + i), TOps.Load(src + i)));
        for (; i < n; i++) dst[i] += src[i];
    }

    private static void Block4x2<T, TV, TOps>(int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc,
        bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        T* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        TV s00, s01, s10, s11, s20, s21, s30, s31;
        if (accumulate)
        {
            s00 = TOps.Load(c0); s01 = TOps.Load(c0 + vc);
            s10 = TOps.Load(c1); s11 = TOps.Load(c1 + vc);
            s20 = TOps.Load(c2); s21 = TOps.Load(c2 + vc);
            s30 = TOps.Load(c3); s31 = TOps.Load(c3 + vc);
        }
        else
        {
            s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = TOps.Zero;
        }
        T* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int l = 0; l < depth; l++)
        {
            TV b0 = TOps.Load(b);
            TV b1 = TOps.Load(b + vc);
            b += ldb;
            TV x = TOps.Broadcast(a0[l]);
            s00 = TOps.MulAdd(x, b0, s00);
            s01 = TOps.MulAdd(x, b1, s01);
            x = TOps.Broadcast(a1[l]);
            s10 = TOps.MulAdd(x, b0, s10);
            s11 = TOps.MulAdd(x, b1, s11);
            x = TOps.Broadcast(a2[l]);
            s20 = TOps.MulAdd(x, b0, s20);
            s21 = TOps.MulAdd(x, b1, s21);
            x = TOps.Broadcast(a3[l]);
            s30 = TOps.MulAdd(x, b0, s30);
            s31 = TOps.MulAdd(x, b1, s31);
        }
        TOps.Store(c0, s00); TOps.Store(c0 + vc, s01);
        TOps.Store(c1, s10); TOps.Store(c1 + vc, s11);
        TOps.Store(c2, s20); TOps.Store(c2 + vc, s21);
        TOps.Store(c3, s30); TOps.Store(c3 + vc, s31);
    }

    private static void Block4x1<T, TV, TOps>(int depth, T* a, nint lda, T* b, nint ldb, T* c, nint ldc,
        bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        T* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        TV s0, s1, s2, s3;
        if (accumulate)
        {
            s0 = TOps.Load(c0); s1 = TOps.Load(c1); s2 = TOps.Load(c2); s3 = TOps.Load(c3);
        }
        else
        {
            s0 = s1 = s2 = s3 = TOps.Zero;
        }
        T* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int l = 0; l < depth; l++)
        {
            TV y = TOps.Load(b);
            b += ldb;
            s0 = TOps.MulAdd(TOps.Broadcast(a0[l]), y, s0);
            s1 = TOps.MulAdd(TOps.Broadcast(a1[l]), y, s1);
            s2 = TOps.MulAdd(TOps.Broadcast(a2[l]), y, s2);
            s3 = TOps.MulAdd(TOps.Broadcast(a3[l]), y, s3);
        }
        TOps.Store(c0, s0); TOps.Store(c1, s1); TOps.Store(c2, s2); TOps.Store(c3, s3);
    }

    private static void Block1x2<T, TV, TOps>(int depth, T* a, T* b, nint ldb, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        TV s0 = accumulate ? TOps.Load(c) : TOps.Zero;
        TV s1 = accumulate ? TOps.Load(c + vc) : TOps.Zero;
        for (int l = 0; l < depth; l++)
        {
            TV x = TOps.Broadcast(a[l]);
            s0 = TOps.MulAdd(x, TOps.Load(b), s0);
            s1 = TOps.MulAdd(x, TOps.Load(b + vc), s1);
            b += ldb;
        }
        TOps.Store(c, s0);
        TOps.Store(c + vc, s1);
    }

    private static void Block1x1<T, TV, TOps>(int depth, T* a, T* b, nint ldb, T* c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        TV s = accumulate ? TOps.Load(c) : TOps.Zero;
        for (int l = 0; l < depth; l++)
        {
            s = TOps.MulAdd(TOps.Broadcast(a[l]), TOps.Load(b), s);
            b += ldb;
        }
        TOps.Store(c, s);
    }

    /// <summary>The sum of n contiguous values: lanes first, then the tail; the order depends only on n.</summary>
    private static T SumRow<T>(T* row, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            return SumRowCore<T, Vector512<T>, Simd512<T>>(row, n);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            return SumRowCore<T, Vector256<T>, Simd256<T>>(row, n);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            return SumRowCore<T, Vector128<T>, Simd128<T>>(row, n);
        return SumRowCore<T, T, SimdScalar<T>>(row, n);
    }

    private static T SumRowCore<T, TV, TOps>(T* row, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : unmanaged
        where TOps : ISimd<TV, T>
    {
        int vc = TOps.Count;
        TV acc = TOps.Zero;
        int j = 0;
        for (; j + vc <= n; j += vc) acc = TOps.Add(acc, TOps.Load(row + j));
        T sum = TOps.Sum(acc);
        for (; j < n; j++) sum += row[j];
        return sum;
    }

    /// <summary>The vector operations the loops above are written over, one implementation per width.</summary>
    private interface ISimd<TV, T> where TV : unmanaged where T : unmanaged
    {
        static abstract int Count { get; }

        static abstract TV Zero { get; }

        static abstract TV Load(T* p);

        static abstract void Store(T* p, TV v);

        static abstract TV Broadcast(T x);

        /// <summary>a * b + c, fused where the hardware can.</summary>
        static abstract TV MulAdd(TV a, TV b, TV c);

        static abstract TV Add(TV a, TV b);

        static abstract T Sum(TV v);
    }

    private readonly struct Simd512<T> : ISimd<Vector512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector512<T>.Count;

        public static Vector512<T> Zero => Vector512<T>.Zero;

        public static Vector512<T> Load(T* p) => Vector512.Load(p);

        public static void Store(T* p, Vector512<T> v) => v.Store(p);

        public static Vector512<T> Broadcast(T x) => Vector512.Create(x);

        public static Vector512<T> MulAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c)
        {
            if (typeof(T) == typeof(float))
                return Vector512.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double))
                return Vector512.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
            return a * b + c;
        }

        public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;

        public static T Sum(Vector512<T> v) => Vector512.Sum(v);
    }

    private readonly struct Simd256<T> : ISimd<Vector256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector256<T>.Count;

        public static Vector256<T> Zero => Vector256<T>.Zero;

        public static Vector256<T> Load(T* p) => Vector256.Load(p);

        public static void Store(T* p, Vector256<T> v) => v.Store(p);

        public static Vector256<T> Broadcast(T x) => Vector256.Create(x);

        public static Vector256<T> MulAdd(Vector256<T> a, Vector256<T> b, Vector256<T> c)
        {
            if (typeof(T) == typeof(float))
                return Vector256.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double))
                return Vector256.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
            return a * b + c;
        }

        public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;

        public static T Sum(Vector256<T> v) => Vector256.Sum(v);
    }

    /// <summary>ARM64's AdvSimd (and x86 forced onto Vector128).</summary>
    private readonly struct Simd128<T> : ISimd<Vector128<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => Vector128<T>.Count;

        public static Vector128<T> Zero => Vector128<T>.Zero;

        public static Vector128<T> Load(T* p) => Vector128.Load(p);

        public static void Store(T* p, Vector128<T> v) => v.Store(p);

        public static Vector128<T> Broadcast(T x) => Vector128.Create(x);

        public static Vector128<T> MulAdd(Vector128<T> a, Vector128<T> b, Vector128<T> c)
        {
            if (typeof(T) == typeof(float))
                return Vector128.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double))
                return Vector128.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
            return a * b + c;
        }

        public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;

        public static T Sum(Vector128<T> v) => Vector128.Sum(v);
    }

    /// <summary>One lane: the fallback where no vector unit is accelerated.</summary>
    private readonly struct SimdScalar<T> : ISimd<T, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static int Count => 1;

        public static T Zero => T.Zero;

        public static T Load(T* p) => *p;

        public static void Store(T* p, T v) => *p = v;

        public static T Broadcast(T x) => x;

        public static T MulAdd(T a, T b, T c) => T.MultiplyAddEstimate(a, b, c);

        public static T Add(T a, T b) => a + b;

        public static T Sum(T v) => v;
    }
}
