using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Layer, instance and group normalisation on the GPU (float32 and float64, one generic kernel each) with the
/// formulas of <see cref="Cpu.CpuSampleNorm"/> on the (outer, length, inner) view of
/// <see cref="SampleNormDescriptor"/>: one group per (o, i) statistic, which sums its length values in double
/// through a shared-memory tree (two passes: mean, then squared deviations), then normalises them; the backward
/// pass takes the mean again in double from x (as the CPU does) and the gamma and beta gradients are one group per
/// affine value. Results agree with the CPU's to rounding (the sums run in another order).
/// </summary>
public static class GpuSampleNorm
{
    private const int MaxGroup = 256;

    /// <summary>Normalises x into y (y may be x) and writes each (o, i)'s mean and std; all contiguous.</summary>
    public static void Forward(GpuRuntime runtime, SampleNormDescriptor desc, in TensorArg x, in TensorArg gamma,
        in TensorArg beta, in TensorArg y, in TensorArg mean, in TensorArg std)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
            Forward<double, DoubleReal>(runtime, desc, x, gamma, beta, y, mean, std);
        else
            Forward<float, FloatReal>(runtime, desc, x, gamma, beta, y, mean, std);
    }

    private static void Forward<T, TReal>(GpuRuntime runtime, SampleNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg y, in TensorArg mean, in TensorArg std)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        const string op = "sample_norm";
        var xv = View<T>(runtime, op, desc, x, "x", desc.Count);
        var yv = View<T>(runtime, op, desc, y, "y", desc.Count);
        var gv = View<T>(runtime, op, desc, gamma, "gamma", desc.AffineCount);
        var bv = View<T>(runtime, op, desc, beta, "beta", desc.AffineCount);
        var mv = View<T>(runtime, op, desc, mean, "mean", desc.Statistics);
        var sv = View<T>(runtime, op, desc, std, "std", desc.Statistics);
        if (desc.Statistics == 0) return;
        CheckSize(op, desc);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            SampleNormParameters, TReal>(ForwardKernel<T, TReal>)(runtime.Stream,
            runtime.GroupPerItem(desc.Statistics), xv, gv, bv, yv, mv, sv, Parameters(desc), default);
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> from its saved std (the mean is taken again in double from x);
    /// overwrites dx, dgamma and dbeta; all contiguous.
    /// </summary>
    public static void Backward(GpuRuntime runtime, SampleNormDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg gamma, in TensorArg std, in TensorArg dx, in TensorArg dgamma, in TensorArg dbeta)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
            Backward<double, DoubleReal>(runtime, desc, x, dy, gamma, std, dx, dgamma, dbeta);
        else
            Backward<float, FloatReal>(runtime, desc, x, dy, gamma, std, dx, dgamma, dbeta);
    }

    private static void Backward<T, TReal>(GpuRuntime runtime, SampleNormDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg gamma, in TensorArg std, in TensorArg dx, in TensorArg dgamma,
        in TensorArg dbeta) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        const string op = "sample_norm_backward";
        var xv = View<T>(runtime, op, desc, x, "x", desc.Count);
        var dyv = View<T>(runtime, op, desc, dy, "dy", desc.Count);
        var dxv = View<T>(runtime, op, desc, dx, "dx", desc.Count);
        var gv = View<T>(runtime, op, desc, gamma, "gamma", desc.AffineCount);
        var dgv = View<T>(runtime, op, desc, dgamma, "dgamma", desc.AffineCount);
        var dbv = View<T>(runtime, op, desc, dbeta, "dbeta", desc.AffineCount);
        var sv = View<T>(runtime, op, desc, std, "std", desc.Statistics);
        CheckSize(op, desc);
        var p = Parameters(desc);
        // The means in double, from the data-gradient kernel to the affine one (ordered on the stream, so the
        // buffer can go back to the pool when this returns).
        using var means = runtime.Allocate(Math.Max(1, desc.Statistics) * sizeof(double));
        var mv = ((GpuBuffer)means).View<double>();
        if (desc.Statistics > 0)
            runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
                ArrayView<double>, SampleNormParameters, TReal>(DataGradientKernel<T, TReal>)(runtime.Stream,
                runtime.GroupPerItem(desc.Statistics), xv, dyv, gv, sv, dxv, mv, p, default);
        // Every affine value is written, zero when there are no statistics (an empty batch).
        if (desc.AffineCount > 0)
            runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<double>, ArrayView<T>, ArrayView<T>,
                ArrayView<T>, SampleNormParameters, TReal>(AffineGradientKernel<T, TReal>)(runtime.Stream,
                runtime.GroupPerItem(desc.AffineCount), xv, dyv, mv, sv, dgv, dbv, p, default);
    }

    /// <summary>The descriptor's numbers for the kernels.</summary>
    public struct SampleNormParameters
    {
        public int Outer, Length, Inner, Groups, PerOuter;
        public double Epsilon;
    }

    private static SampleNormParameters Parameters(SampleNormDescriptor d) => new()
    {
        Outer = (int)d.Outer, Length = (int)d.Length, Inner = (int)d.Inner, Groups = d.Groups,
        PerOuter = d.Affine == NormAffine.PerOuter ? 1 : 0, Epsilon = d.Epsilon,
    };

    private static void CheckSize(string op, SampleNormDescriptor desc)
    {
        if (desc.Count > GpuTensor.MaxElements || desc.Statistics > GpuTensor.MaxElements)
            throw new NotSupportedException(
                $"{op}: {desc} has more than 2^31 - 1 elements; GPU kernels index with 32-bit integers.");
    }

    private static ArrayView<T> View<T>(GpuRuntime runtime, string op, SampleNormDescriptor desc, in TensorArg a,
        string name, long expected) where T : unmanaged
    {
        if (a.Size != expected)
            throw new ArgumentException($"{op}: {name} has {a.Size} elements but {desc} needs {expected}.", name);
        return a.Elements<T>(runtime, op);
    }

    /// <summary>The group's values summed by a fixed tree (the group size is a power of two); every thread gets
    /// the total.</summary>
    private static double GroupSum(ArrayView<double> partial, double value)
    {
        int t = Group.IdxX;
        partial[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) partial[t] += partial[t + s];
            Group.Barrier();
        }
        double total = partial[0];
        Group.Barrier();
        return total;
    }

    /// <summary>Element j of statistic s: (o, j, i) with o = s / inner, i = s % inner.</summary>
    private static int Element(in SampleNormParameters p, int s, int j)
    {
        int o = s / p.Inner;
        return (o * p.Length + j) * p.Inner + (s - o * p.Inner);
    }

    private static void ForwardKernel<T, TReal>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> beta,
        ArrayView<T> y, ArrayView<T> mean, ArrayView<T> std, SampleNormParameters p, TReal r)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int s = Grid.IdxX, t = Group.IdxX, n = p.Length;
        double sum = 0;
        for (int j = t; j < n; j += Group.DimX) sum += r.ToDouble(x[Element(p, s, j)]);
        double m = n > 0 ? GroupSum(partial, sum) / n : 0;
        double squares = 0;
        for (int j = t; j < n; j += Group.DimX)
        {
            double d = r.ToDouble(x[Element(p, s, j)]) - m;
            squares += d * d;
        }
        double variance = n > 0 ? GroupSum(partial, squares) / n : 0;
        double sd = Math.Sqrt(variance + p.Epsilon), rstd = 1 / sd;
        if (t == 0)
        {
            mean[s] = r.FromDouble(m);
            std[s] = r.FromDouble(sd);
        }
        // x - mean in double, as the CPU does (a mean rounded to T next to large values shifts every output).
        if (p.PerOuter != 0)
        {
            int k = s / p.Inner % p.Groups;
            double scale = rstd * r.ToDouble(gamma[k]), shift = r.ToDouble(beta[k]);
            for (int j = t; j < n; j += Group.DimX)
            {
                int e = Element(p, s, j);
                y[e] = r.FromDouble((r.ToDouble(x[e]) - m) * scale + shift);
            }
            return;
        }
        for (int j = t; j < n; j += Group.DimX)
        {
            int e = Element(p, s, j);
            y[e] = r.FromDouble((r.ToDouble(x[e]) - m) * rstd * r.ToDouble(gamma[j]) + r.ToDouble(beta[j]));
        }
    }

    /// <summary>dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / std with dxhat = dy gamma, per statistic.
    /// </summary>
    private static void DataGradientKernel<T, TReal>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> gamma,
        ArrayView<T> std, ArrayView<T> dx, ArrayView<double> means, SampleNormParameters p, TReal r)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int s = Grid.IdxX, t = Group.IdxX, n = p.Length;
        double sum = 0;
        for (int j = t; j < n; j += Group.DimX) sum += r.ToDouble(x[Element(p, s, j)]);
        double m = n > 0 ? GroupSum(partial, sum) / n : 0;
        if (t == 0) means[s] = m;
        double rstd = 1 / r.ToDouble(std[s]);
        bool perOuter = p.PerOuter != 0;
        double g0 = perOuter ? r.ToDouble(gamma[s / p.Inner % p.Groups]) : 0;
        double a = 0, b = 0;
        for (int j = t; j < n; j += Group.DimX)
        {
            int e = Element(p, s, j);
            double dxhat = r.ToDouble(dy[e]) * (perOuter ? g0 : r.ToDouble(gamma[j]));
            a += dxhat;
            b += dxhat * (r.ToDouble(x[e]) - m) * rstd;
        }
        a = GroupSum(partial, a);
        b = GroupSum(partial, b);
        if (n > 0)
        {
            a /= n;
            b /= n;
        }
        for (int j = t; j < n; j += Group.DimX)
        {
            int e = Element(p, s, j);
            double g = perOuter ? g0 : r.ToDouble(gamma[j]);
            double xhat = (r.ToDouble(x[e]) - m) * rstd;
            dx[e] = r.FromDouble((r.ToDouble(dy[e]) * g - a - xhat * b) * rstd);
        }
    }

    /// <summary>dgamma[k] = sum(dy xhat), dbeta[k] = sum(dy) over the values gamma[k] scales.</summary>
    private static void AffineGradientKernel<T, TReal>(ArrayView<T> x, ArrayView<T> dy, ArrayView<double> means,
        ArrayView<T> std, ArrayView<T> dgamma, ArrayView<T> dbeta, SampleNormParameters p, TReal r)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int k = Grid.IdxX, t = Group.IdxX;
        double sg = 0, sb = 0;
        if (p.PerOuter == 0)
        {
            // Position k of every statistic s = (o, i): element (o, k, i); x - mean divided by std, as the CPU.
            int statistics = p.Outer * p.Inner;
            for (int s = t; s < statistics; s += Group.DimX)
            {
                int e = Element(p, s, k);
                double v = r.ToDouble(dy[e]);
                sg += v * (r.ToDouble(x[e]) - means[s]) / r.ToDouble(std[s]);
                sb += v;
            }
        }
        else
        {
            // Rows o = k, k + groups, ...: all (j, i) of each, flattened with i fastest.
            int row = p.Length * p.Inner, rows = p.Outer / p.Groups;
            for (int q = t; q < rows * row; q += Group.DimX)
            {
                int o = k + q / row * p.Groups, within = q % row;
                int s = o * p.Inner + within % p.Inner, e = o * row + within;
                double v = r.ToDouble(dy[e]);
                sg += v * (r.ToDouble(x[e]) - means[s]) * (1 / r.ToDouble(std[s]));
                sb += v;
            }
        }
        sg = GroupSum(partial, sg);
        sb = GroupSum(partial, sb);
        if (t != 0) return;
        dgamma[k] = r.FromDouble(sg);
        dbeta[k] = r.FromDouble(sb);
    }
}
