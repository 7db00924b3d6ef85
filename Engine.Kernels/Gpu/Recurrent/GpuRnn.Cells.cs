using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Where one time step's cell kernel reads and writes: element offsets of the step's first batch row in the views
/// of <see cref="GpuRnn.CellViews{T}"/>, with the leading dimensions of the strided ones.
/// </summary>
public struct RnnStep
{
    /// <summary>(int)<see cref="RnnMode"/>: 0 relu, 1 tanh, 2 LSTM, 3 GRU.</summary>
    public int Mode;

    public int Batch, Hidden;

    /// <summary>Forward: gx (input projection with biases) and gh (hidden projection) rows in scratch, G*H apart.
    /// Backward: the dgx and dgh rows.</summary>
    public int Gx, Gh;

    /// <summary>The previous hidden state (h0 or the previous step's output), rows HPrevLd apart.</summary>
    public int HPrev, HPrevLd;

    /// <summary>The previous cell (LSTM: c0 or the previous step's cell), rows H apart.</summary>
    public int CPrev;

    /// <summary>The step's gate activations (rows G*H apart) and cell or GRU W_hn h + b_hn (rows H apart) in the
    /// reserve.</summary>
    public int Gates, Extra;

    /// <summary>Forward: the step's output h (rows OutLd apart). Backward: the output gradient dy of the step.
    /// </summary>
    public int Out, OutLd;

    /// <summary>Forward: GRU's b_hn in the parameters. Backward: the running dh (rows H apart) in scratch.</summary>
    public int Bhn;

    /// <summary>Backward: the running LSTM dc (rows H apart) in scratch.</summary>
    public int DcRun;
}

public static partial class GpuRnn
{
    /// <summary>The buffers a cell kernel reads and writes (whole buffers; <see cref="RnnStep"/> has the offsets).
    /// </summary>
    public struct CellViews<T> where T : unmanaged
    {
        /// <summary>Forward: gx and gh. Backward: dgx, dgh, the running dh and dc.</summary>
        public ArrayView<T> Scratch;

        public ArrayView<T> HPrev, CPrev, Reserve;

        /// <summary>Forward: the layer output. Backward: the layer's output gradient.</summary>
        public ArrayView<T> Output;

        /// <summary>Forward: the flat parameters (GRU's b_hn).</summary>
        public ArrayView<T> Parameters;
    }

    private static T Sigmoid<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));

    /// <summary>tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|): the CPU's vector formula, which never
    /// overflows (the PTX tanh.approx would lose five bits).</summary>
    private static T Tanh<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T ax = x < T.Zero ? -x : x;
        T e = T.Exp(-(ax + ax));
        T t = (T.One - e) / (T.One + e);
        return x < T.Zero ? -t : t;
    }

    /// <summary>
    /// One forward step of every batch row, a thread per (row, unit): the gate nonlinearities of gx + gh and the
    /// state update, as RnnCellMath does on the CPU (gates (i, f, g, o) for LSTM, (r, z, n) for GRU).
    /// </summary>
    private static void ForwardCellKernel<T>(CellViews<T> v, RnnStep s, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = s.Hidden;
        for (int u = Grid.GlobalIndex.X; u < count; u += Grid.DimX * Group.DimX)
        {
            int b = u / h, j = u - b * h;
            int gw = s.Mode == 2 ? 4 * h : s.Mode == 3 ? 3 * h : h;
            int gx = s.Gx + b * gw + j, gh = s.Gh + b * gw + j, gate = s.Gates + b * gw + j;
            int output = s.Out + b * s.OutLd + j, extra = s.Extra + b * h + j;
            if (s.Mode == 2)
            {
                T i = Sigmoid(v.Scratch[gx] + v.Scratch[gh]);
                T f = Sigmoid(v.Scratch[gx + h] + v.Scratch[gh + h]);
                T g = Tanh(v.Scratch[gx + 2 * h] + v.Scratch[gh + 2 * h]);
                T o = Sigmoid(v.Scratch[gx + 3 * h] + v.Scratch[gh + 3 * h]);
                T c = f * v.CPrev[s.CPrev + b * h + j] + i * g;
                v.Reserve[gate] = i;
                v.Reserve[gate + h] = f;
                v.Reserve[gate + 2 * h] = g;
                v.Reserve[gate + 3 * h] = o;
                v.Reserve[extra] = c;
                v.Output[output] = o * Tanh(c);
            }
            else if (s.Mode == 3)
            {
                // gx holds W_i x + b_i (+ b_h for r and z); b_hn stays inside r * (W_hn h + b_hn).
                T r = Sigmoid(v.Scratch[gx] + v.Scratch[gh]);
                T z = Sigmoid(v.Scratch[gx + h] + v.Scratch[gh + h]);
                T hn = v.Scratch[gh + 2 * h] + v.Parameters[s.Bhn + j];
                T n = Tanh(v.Scratch[gx + 2 * h] + r * hn);
                v.Reserve[gate] = r;
                v.Reserve[gate + h] = z;
                v.Reserve[gate + 2 * h] = n;
                v.Reserve[extra] = hn;
                v.Output[output] = n + z * (v.HPrev[s.HPrev + b * s.HPrevLd + j] - n);
            }
            else
            {
                T pre = v.Scratch[gx] + v.Scratch[gh];
                T y = s.Mode == 0 ? (pre > T.Zero ? pre : T.Zero) : Tanh(pre);
                v.Reserve[gate] = y;
                v.Output[output] = y;
            }
        }
    }

    /// <summary>
    /// One backward step of every batch row, a thread per (row, unit): dh = the running dh + dy of the step, then
    /// the pre-activation gradients dgx (and GRU's hidden-side dgh), the LSTM's running dc carried to the previous
    /// step and the GRU's direct part z dh of the previous dh (the GEMM with W_h adds the rest).
    /// </summary>
    private static void BackwardCellKernel<T>(CellViews<T> v, RnnStep s, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = s.Hidden;
        for (int u = Grid.GlobalIndex.X; u < count; u += Grid.DimX * Group.DimX)
        {
            int b = u / h, j = u - b * h;
            int gw = s.Mode == 2 ? 4 * h : s.Mode == 3 ? 3 * h : h;
            int gate = s.Gates + b * gw + j, dgx = s.Gx + b * gw + j, run = b * h + j;
            T dh = v.Scratch[s.Bhn + run] + v.Output[s.Out + b * s.OutLd + j];
            if (s.Mode == 2)
            {
                T i = v.Reserve[gate], f = v.Reserve[gate + h], g = v.Reserve[gate + 2 * h];
                T o = v.Reserve[gate + 3 * h];
                T tc = Tanh(v.Reserve[s.Extra + run]);
                // d/dc of h = o tanh(c) is o (1 - tanh^2 c); dc also carries the later step's f * dc.
                T dc = v.Scratch[s.DcRun + run] + dh * o * (T.One - tc * tc);
                v.Scratch[dgx] = dc * g * i * (T.One - i);
                v.Scratch[dgx + h] = dc * v.CPrev[s.CPrev + run] * f * (T.One - f);
                v.Scratch[dgx + 2 * h] = dc * i * (T.One - g * g);
                v.Scratch[dgx + 3 * h] = dh * tc * o * (T.One - o);
                v.Scratch[s.DcRun + run] = dc * f;
            }
            else if (s.Mode == 3)
            {
                T r = v.Reserve[gate], z = v.Reserve[gate + h], n = v.Reserve[gate + 2 * h];
                T dn = dh * (T.One - z) * (T.One - n * n);
                T dr = dn * v.Reserve[s.Extra + run] * r * (T.One - r);
                T dz = dh * (v.HPrev[s.HPrev + b * s.HPrevLd + j] - n) * z * (T.One - z);
                int dgh = s.Gh + b * gw + j;
                v.Scratch[dgx] = dr;
                v.Scratch[dgx + h] = dz;
                v.Scratch[dgx + 2 * h] = dn;
                v.Scratch[dgh] = dr;
                v.Scratch[dgh + h] = dz;
                v.Scratch[dgh + 2 * h] = dn * r;
                v.Scratch[s.Bhn + run] = dh * z;
            }
            else
            {
                T y = v.Reserve[gate];
                v.Scratch[dgx] = s.Mode == 0 ? (y > T.Zero ? dh : T.Zero) : dh * (T.One - y * y);
            }
        }
    }

    /// <summary>gx[r, j] += b_i[j] + b_h[j] (b_h only for j &lt; folded: GRU keeps b_hn out), as the CPU adds the
    /// combined bias to each row of the input projection.</summary>
    private static void AddBiasKernel<T>(ArrayView<T> gx, ArrayView<T> parameters, int bi, int bh, int folded,
        int width, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < count; u += Grid.DimX * Group.DimX)
        {
            int j = u % width;
            T bias = parameters[bi + j];
            if (j < folded) bias += parameters[bh + j];
            gx[u] += bias;
        }
    }

    /// <summary>Dropout between layers: dropped = output * mask (training), else mask = 1 and dropped = output.
    /// </summary>
    private static void DropKernel<T>(ArrayView<T> output, ArrayView<T> mask, ArrayView<T> dropped, int training,
        int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < count; u += Grid.DimX * Group.DimX)
        {
            if (training != 0)
            {
                dropped[u] = output[u] * mask[u];
            }
            else
            {
                mask[u] = T.One;
                dropped[u] = output[u];
            }
        }
    }

    /// <summary>sums[j] = the sum over rows of m[r, j], a thread per column adding the rows in order (the CPU's
    /// order, and deterministic).</summary>
    private static void ColumnSumsKernel<T>(ArrayView<T> m, ArrayView<T> sums, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = Grid.GlobalIndex.X; j < width; j += Grid.DimX * Group.DimX)
        {
            T sum = T.Zero;
            for (int r = 0; r < rows; r++) sum += m[r * width + j];
            sums[j] = sum;
        }
    }
}
