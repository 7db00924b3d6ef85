using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// One batch row of one time step of each recurrent cell, forward and backward: the gate nonlinearities and the
/// state update that follow the GEMMs. Each loop runs Vector512 lanes, then the same math per element for the tail.
/// Without AVX-512 the JIT runs the Vector512 lanes as two Vector256 (or four Vector128) operations
/// (<see cref="CpuInstructionSet.Vector512LoopsPay"/>): the scalar loops they replaced spent most of an AVX2 LSTM's
/// forward pass in scalar exp and tanh (2x256 LSTM, T35 N32, one thread: 120 ms, now 37-41; nn.LSTM 39-63).
/// </summary>
internal static class RnnCellMath
{
    // The public methods are marked AggressiveOptimization, as the GEMM micro-kernels: a forward pass calls them a
    // few thousand times, and left to tiering the first twenty passes of a 2x256 LSTM ran 2-10x slower.

    private static Vector512<T> Load<T>(ReadOnlySpan<T> s, int i) where T : unmanaged =>
        Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    private static void Store<T>(Vector512<T> v, Span<T> s, int i) where T : unmanaged =>
        v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Sigmoid<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        default(SigmoidOperator<T>).Invoke(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Tanh<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        default(TanhOperator<T>).Invoke(x);

    private static T Sigmoid<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));

    /// <summary>
    /// LSTM: gates = (i, f, g, o) activations of gx + gh (biases already in gx), c = f c' + i g, h = o tanh(c).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward<T>(int hidden, ReadOnlySpan<T> gx, ReadOnlySpan<T> gh, ReadOnlySpan<T> cPrev,
        Span<T> gates, Span<T> c, Span<T> h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gx = gx[..(4 * n)];
        gh = gh[..(4 * n)];
        gates = gates[..(4 * n)];
        cPrev = cPrev[..n];
        c = c[..n];
        h = h[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var i = Sigmoid(Load(gx, j) + Load(gh, j));
                var f = Sigmoid(Load(gx, n + j) + Load(gh, n + j));
                var g = Tanh(Load(gx, 2 * n + j) + Load(gh, 2 * n + j));
                var o = Sigmoid(Load(gx, 3 * n + j) + Load(gh, 3 * n + j));
                var cv = f * Load(cPrev, j) + i * g;
                Store(i, gates, j);
                Store(f, gates, n + j);
                Store(g, gates, 2 * n + j);
                Store(o, gates, 3 * n + j);
                Store(cv, c, j);
                Store(o * Tanh(cv), h, j);
            }
        }
        for (; j < n; j++)
        {
            T i = Sigmoid(gx[j] + gh[j]), f = Sigmoid(gx[n + j] + gh[n + j]);
            T g = T.Tanh(gx[2 * n + j] + gh[2 * n + j]), o = Sigmoid(gx[3 * n + j] + gh[3 * n + j]);
            T cv = f * cPrev[j] + i * g;
            gates[j] = i;
            gates[n + j] = f;
            gates[2 * n + j] = g;
            gates[3 * n + j] = o;
            c[j] = cv;
            h[j] = o * T.Tanh(cv);
        }
    }

    /// <summary>
    /// LSTM backward for one row: from dh (this step's total) and dc (carried from the later step, updated to the
    /// gradient of c'), the pre-activation gradients dpre (i, f, g, o).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward<T>(int hidden, ReadOnlySpan<T> gates, ReadOnlySpan<T> c, ReadOnlySpan<T> cPrev,
        ReadOnlySpan<T> dh, Span<T> dc, Span<T> dpre) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gates = gates[..(4 * n)];
        dpre = dpre[..(4 * n)];
        c = c[..n];
        cPrev = cPrev[..n];
        dh = dh[..n];
        dc = dc[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            var one = Vector512<T>.One;
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var i = Load(gates, j);
                var f = Load(gates, n + j);
                var g = Load(gates, 2 * n + j);
                var o = Load(gates, 3 * n + j);
                var tc = Tanh(Load(c, j));
                var dhv = Load(dh, j);
                // d/dc of h = o tanh(c) is o (1 - tanh^2 c); dc also carries the later step's f * dc.
                var dcv = Load(dc, j) + dhv * o * (one - tc * tc);
                Store(dcv * g * i * (one - i), dpre, j);
                Store(dcv * Load(cPrev, j) * f * (one - f), dpre, n + j);
                Store(dcv * i * (one - g * g), dpre, 2 * n + j);
                Store(dhv * tc * o * (one - o), dpre, 3 * n + j);
                Store(dcv * f, dc, j);
            }
        }
        for (; j < n; j++)
        {
            T i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j];
            T tc = T.Tanh(c[j]);
            T dcv = dc[j] + dh[j] * o * (T.One - tc * tc);
            dpre[j] = dcv * g * i * (T.One - i);
            dpre[n + j] = dcv * cPrev[j] * f * (T.One - f);
            dpre[2 * n + j] = dcv * i * (T.One - g * g);
            dpre[3 * n + j] = dh[j] * tc * o * (T.One - o);
            dc[j] = dcv * f;
        }
    }

    /// <summary>
    /// GRU: gx holds W_i x + b_i with b_h already added to the r and z parts; gh is W_h h' without bias.
    /// r = sigmoid, z = sigmoid, hn = gh_n + b_hn, n = tanh(gx_n + r hn), h = (1 - z) n + z h'.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward<T>(int hidden, ReadOnlySpan<T> gx, ReadOnlySpan<T> gh, ReadOnlySpan<T> bhn,
        ReadOnlySpan<T> hPrev, Span<T> gates, Span<T> hn, Span<T> h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gx = gx[..(3 * n)];
        gh = gh[..(3 * n)];
        gates = gates[..(3 * n)];
        bhn = bhn[..n];
        hPrev = hPrev[..n];
        hn = hn[..n];
        h = h[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var r = Sigmoid(Load(gx, j) + Load(gh, j));
                var z = Sigmoid(Load(gx, n + j) + Load(gh, n + j));
                var hnv = Load(gh, 2 * n + j) + Load(bhn, j);
                var nv = Tanh(Load(gx, 2 * n + j) + r * hnv);
                Store(r, gates, j);
                Store(z, gates, n + j);
                Store(nv, gates, 2 * n + j);
                Store(hnv, hn, j);
                Store(nv + z * (Load(hPrev, j) - nv), h, j);
            }
        }
        for (; j < n; j++)
        {
            T r = Sigmoid(gx[j] + gh[j]), z = Sigmoid(gx[n + j] + gh[n + j]);
            T hnv = gh[2 * n + j] + bhn[j];
            T nv = T.Tanh(gx[2 * n + j] + r * hnv);
            gates[j] = r;
            gates[n + j] = z;
            gates[2 * n + j] = nv;
            hn[j] = hnv;
            h[j] = nv + z * (hPrev[j] - nv);
        }
    }

    /// <summary>
    /// GRU backward for one row: dx-side gradients dgx (r, z, n), h-side dgh (equal for r and z, r * dn for n)
    /// and the direct part of dh' (z dh), written to <paramref name="dhPrev"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward<T>(int hidden, ReadOnlySpan<T> gates, ReadOnlySpan<T> hn, ReadOnlySpan<T> hPrev,
        ReadOnlySpan<T> dh, Span<T> dgx, Span<T> dgh, Span<T> dhPrev) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gates = gates[..(3 * n)];
        dgx = dgx[..(3 * n)];
        dgh = dgh[..(3 * n)];
        hn = hn[..n];
        hPrev = hPrev[..n];
        dh = dh[..n];
        dhPrev = dhPrev[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            var one = Vector512<T>.One;
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var r = Load(gates, j);
                var z = Load(gates, n + j);
                var nv = Load(gates, 2 * n + j);
                var dhv = Load(dh, j);
                var dn = dhv * (one - z) * (one - nv * nv);
                var dr = dn * Load(hn, j) * r * (one - r);
                var dz = dhv * (Load(hPrev, j) - nv) * z * (one - z);
                Store(dr, dgx, j);
                Store(dz, dgx, n + j);
                Store(dn, dgx, 2 * n + j);
                Store(dr, dgh, j);
                Store(dz, dgh, n + j);
                Store(dn * r, dgh, 2 * n + j);
                Store(dhv * z, dhPrev, j);
            }
        }
        for (; j < n; j++)
        {
            T r = gates[j], z = gates[n + j], nv = gates[2 * n + j];
            T dn = dh[j] * (T.One - z) * (T.One - nv * nv);
            T dr = dn * hn[j] * r * (T.One - r);
            T dz = dh[j] * (hPrev[j] - nv) * z * (T.One - z);
            dgx[j] = dr;
            dgx[n + j] = dz;
            dgx[2 * n + j] = dn;
            dgh[j] = dr;
            dgh[n + j] = dz;
            dgh[2 * n + j] = dn * r;
            dhPrev[j] = dh[j] * z;
        }
    }

    /// <summary>Plain RNN: h = act(gx + gh), the activation stored as the gate and written to h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnForward<T>(int hidden, bool relu, ReadOnlySpan<T> gx, ReadOnlySpan<T> gh, Span<T> gates,
        Span<T> h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gx = gx[..n];
        gh = gh[..n];
        gates = gates[..n];
        h = h[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var pre = Load(gx, j) + Load(gh, j);
                var y = relu ? Vector512.Max(pre, Vector512<T>.Zero) : Tanh(pre);
                Store(y, gates, j);
                Store(y, h, j);
            }
        }
        for (; j < n; j++)
        {
            T pre = gx[j] + gh[j];
            T y = relu ? T.Max(pre, T.Zero) : T.Tanh(pre);
            gates[j] = y;
            h[j] = y;
        }
    }

    /// <summary>Plain RNN backward: dpre = dh * act'(pre), from the output: 1 - y^2 (tanh), y &gt; 0 (relu).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnBackward<T>(int hidden, bool relu, ReadOnlySpan<T> gates, ReadOnlySpan<T> dh,
        Span<T> dpre) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = hidden, j = 0;
        gates = gates[..n];
        dh = dh[..n];
        dpre = dpre[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count)
            {
                var y = Load(gates, j);
                var d = relu
                    ? Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), Load(dh, j),
                        Vector512<T>.Zero)
                    : Load(dh, j) * (Vector512<T>.One - y * y);
                Store(d, dpre, j);
            }
        }
        for (; j < n; j++)
        {
            T y = gates[j];
            dpre[j] = relu ? (y > T.Zero ? dh[j] : T.Zero) : dh[j] * (T.One - y * y);
        }
    }

    /// <summary>dst[j] = a[j] + b[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dst) where T : unmanaged, INumber<T>
    {
        int n = dst.Length, j = 0;
        a = a[..n];
        b = b[..n];
        if (CpuInstructionSet.Vector512LoopsPay)
        {
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count) Store(Load(a, j) + Load(b, j), dst, j);
        }
        for (; j < n; j++) dst[j] = a[j] + b[j];
    }

    /// <summary>dst[j] += src[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddTo<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, INumber<T> => Add(dst, src, dst);

    /// <summary>sums[j] = sum over rows of m[r, j] (m dense, rows x sums.Length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSums<T>(ReadOnlySpan<T> m, long rows, Span<T> sums) where T : unmanaged, INumber<T>
    {
        sums.Clear();
        int width = sums.Length;
        for (long r = 0; r < rows; r++) AddTo(m.Slice((int)(r * width), width), sums);
    }
}
