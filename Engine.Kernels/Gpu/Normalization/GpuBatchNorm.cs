using System.Numerics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Batch normalisation on the GPU (float32 and float64, one generic kernel each; data as (outer, channels, inner))
/// with the CPU's formulas: per-channel
/// statistics in double (two passes: mean, then squared deviations), one group per channel with a shared-memory
/// tree; the normalisation and the data gradient are elementwise kernels over per-channel coefficients.
/// </summary>
public static class GpuBatchNorm
{
    private const int MaxGroup = 256;

    /// <summary>Training forward: batch statistics, saved mean and 1 / sqrt(var + eps), running statistics.</summary>
    public static void ForwardTraining(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg y, in TensorArg savedMean, in TensorArg savedInvStd,
        in TensorArg runningMean, in TensorArg runningVar)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
            ForwardTraining<double, DoubleReal>(runtime, desc, x, gamma, beta, y, savedMean, savedInvStd, runningMean,
                runningVar);
        else
            ForwardTraining<float, FloatReal>(runtime, desc, x, gamma, beta, y, savedMean, savedInvStd, runningMean,
                runningVar);
    }

    private static void ForwardTraining<T, TReal>(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg y, in TensorArg savedMean, in TensorArg savedInvStd,
        in TensorArg runningMean, in TensorArg runningVar)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        const string op = "batch_norm";
        var xv = Data<T>(runtime, op, desc, x, "x");
        var yv = Data<T>(runtime, op, desc, y, "y");
        var gv = PerChannel<T>(runtime, op, desc, gamma, "gamma");
        var bv = PerChannel<T>(runtime, op, desc, beta, "beta");
        var mv = PerChannel<T>(runtime, op, desc, savedMean, "savedMean");
        var sv = PerChannel<T>(runtime, op, desc, savedInvStd, "savedInvStd");
        var rm = PerChannel<T>(runtime, op, desc, runningMean, "runningMean");
        var rv = PerChannel<T>(runtime, op, desc, runningVar, "runningVar");
        long m = desc.ReductionSize;
        if (desc.UnbiasedRunningVar && m == 1 && desc.Channels > 0)
            throw new ArgumentException(
                $"{op}: the unbiased running variance needs more than one value per channel, but {desc} has " +
                "outer * inner = 1; use a batch larger than 1 or UnbiasedRunningVar = false.");
        if (desc.Channels == 0) return;
        CheckSize(op, desc);
        using var scale = runtime.Allocate(desc.Channels * Unsafe.SizeOf<T>());
        var scaleView = ((GpuBuffer)scale).View<T>();
        var p = Parameters(desc);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<T>, ArrayView<T>, BatchNormParameters, TReal>(StatisticsKernel<T, TReal>)(runtime.Stream,
            new KernelConfig(desc.Channels, runtime.GroupSize), xv, gv, mv, sv, rm, rv, scaleView, p, default);
        if (desc.Count == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            BatchNormParameters>(NormalizeKernel<T>)(runtime.Stream, runtime.GridStride(desc.Count), xv, yv, mv,
            scaleView, bv, p);
    }

    /// <summary>Inference forward: y = gamma (x - runningMean) / sqrt(runningVar + eps) + beta.</summary>
    public static void ForwardInference(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg runningMean, in TensorArg runningVar, in TensorArg y)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
            ForwardInference<double, DoubleReal>(runtime, desc, x, gamma, beta, runningMean, runningVar, y);
        else ForwardInference<float, FloatReal>(runtime, desc, x, gamma, beta, runningMean, runningVar, y);
    }

    private static void ForwardInference<T, TReal>(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg runningMean, in TensorArg runningVar, in TensorArg y)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        const string op = "batch_norm";
        var xv = Data<T>(runtime, op, desc, x, "x");
        var yv = Data<T>(runtime, op, desc, y, "y");
        var gv = PerChannel<T>(runtime, op, desc, gamma, "gamma");
        var bv = PerChannel<T>(runtime, op, desc, beta, "beta");
        var rm = PerChannel<T>(runtime, op, desc, runningMean, "runningMean");
        var rv = PerChannel<T>(runtime, op, desc, runningVar, "runningVar");
        if (desc.Count == 0) return;
        CheckSize(op, desc);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<T>, BatchNormParameters, TReal>(InferenceKernel<T, TReal>)(runtime.Stream,
            runtime.GridStride(desc.Count), xv, yv, gv, bv, rm, rv, Parameters(desc), default);
    }

    /// <summary>Backward of the training forward from its saved statistics; overwrites dx, dgamma and dbeta.</summary>
    public static void Backward(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg gamma, in TensorArg savedMean, in TensorArg savedInvStd, in TensorArg dx, in TensorArg dgamma,
        in TensorArg dbeta)
    {
        ArgumentNullException.ThrowIfNull(desc);
        if (x.DType == DType.Float64)
            Backward<double, DoubleReal>(runtime, desc, x, dy, gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
        else Backward<float, FloatReal>(runtime, desc, x, dy, gamma, savedMean, savedInvStd, dx, dgamma, dbeta);
    }

    private static void Backward<T, TReal>(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg dy, in TensorArg gamma, in TensorArg savedMean, in TensorArg savedInvStd, in TensorArg dx,
        in TensorArg dgamma, in TensorArg dbeta)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        const string op = "batch_norm_backward";
        var xv = Data<T>(runtime, op, desc, x, "x");
        var gyv = Data<T>(runtime, op, desc, dy, "dy");
        var dxv = Data<T>(runtime, op, desc, dx, "dx");
        var gv = PerChannel<T>(runtime, op, desc, gamma, "gamma");
        var mv = PerChannel<T>(runtime, op, desc, savedMean, "savedMean");
        var sv = PerChannel<T>(runtime, op, desc, savedInvStd, "savedInvStd");
        var dgv = PerChannel<T>(runtime, op, desc, dgamma, "dgamma");
        var dbv = PerChannel<T>(runtime, op, desc, dbeta, "dbeta");
        if (desc.Channels == 0) return;
        CheckSize(op, desc);
        using var coefficients = runtime.Allocate(3L * desc.Channels * Unsafe.SizeOf<T>());
        var cv = ((GpuBuffer)coefficients).View<T>();
        var p = Parameters(desc);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<T>, ArrayView<T>, ArrayView<T>, BatchNormParameters, TReal>(GradientSumsKernel<T, TReal>)(
            runtime.Stream, new KernelConfig(desc.Channels, runtime.GroupSize), xv, gyv, gv, mv, sv, dgv, dbv, cv, p,
            default);
        if (desc.Count == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            BatchNormParameters>(DataGradientKernel<T>)(runtime.Stream, runtime.GridStride(desc.Count), xv, gyv, dxv,
            mv, cv, p);
    }

    /// <summary>The descriptor's numbers for the kernels.</summary>
    public struct BatchNormParameters
    {
        public int Outer, Channels, Inner, FixGamma;
        public double Epsilon, Momentum, Unbias;

        public readonly int Count => Outer * Inner;
    }

    private static BatchNormParameters Parameters(BatchNormDescriptor d)
    {
        long m = d.ReductionSize;
        return new BatchNormParameters
        {
            Outer = (int)d.Outer, Channels = d.Channels, Inner = (int)d.Inner, FixGamma = d.FixGamma ? 1 : 0,
            Epsilon = d.Epsilon, Momentum = d.Momentum,
            // The running variance takes the biased batch variance (MXNet) unless asked for the unbiased one.
            Unbias = d.UnbiasedRunningVar && m > 1 ? (double)m / (m - 1) : 1.0,
        };
    }

    private static void CheckSize(string op, BatchNormDescriptor desc)
    {
        if (desc.Count > GpuTensor.MaxElements)
            throw new NotSupportedException($"{op}: {desc} has more than 2^31 - 1 elements.");
    }

    private static ArrayView<T> Data<T>(GpuRuntime runtime, string op, BatchNormDescriptor desc, in TensorArg a,
        string name) where T : unmanaged
    {
        if (a.Size != desc.Count)
            throw new ArgumentException(
                $"{op}: {name} has {a.Size} elements but the descriptor {desc} needs outer * channels * inner = " +
                $"{desc.Count}; pass a {name} of that size or fix the descriptor.");
        return a.Elements<T>(runtime, op);
    }

    private static ArrayView<T> PerChannel<T>(GpuRuntime runtime, string op, BatchNormDescriptor desc,
        in TensorArg a, string name) where T : unmanaged
    {
        if (a.Size != desc.Channels)
            throw new ArgumentException(
                $"{op}: {name} has {a.Size} elements but x has {desc.Channels} channels (descriptor {desc}); " +
                $"{name} needs one element per channel.");
        return a.Elements<T>(runtime, op);
    }

    private static int Index(in BatchNormParameters p, int c, int j)
    {
        int o = j / p.Inner;
        return (o * p.Channels + c) * p.Inner + (j - o * p.Inner);
    }

    /// <summary>The group's values summed into partial[0] by a fixed tree (the group size is a power of two).</summary>
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

    private static void StatisticsKernel<T, TReal>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> savedMean,
        ArrayView<T> savedInvStd, ArrayView<T> runningMean, ArrayView<T> runningVar, ArrayView<T> scale,
        BatchNormParameters p, TReal r) where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, m = p.Count;
        double sum = 0;
        for (int j = t; j < m; j += Group.DimX) sum += r.ToDouble(x[Index(p, c, j)]);
        double mean = m > 0 ? GroupSum(partial, sum) / m : 0;
        double squares = 0;
        for (int j = t; j < m; j += Group.DimX)
        {
            double d = r.ToDouble(x[Index(p, c, j)]) - mean;
            squares += d * d;
        }
        double variance = m > 0 ? GroupSum(partial, squares) / m : 0;
        if (t != 0) return;
        double invStd = 1.0 / Math.Sqrt(variance + p.Epsilon);
        double g = p.FixGamma != 0 ? 1.0 : r.ToDouble(gamma[c]);
        savedMean[c] = r.FromDouble(mean);
        savedInvStd[c] = r.FromDouble(invStd);
        scale[c] = r.FromDouble(g * invStd);
        if (m == 0) return;
        runningMean[c] = r.FromDouble(r.ToDouble(runningMean[c]) * p.Momentum + mean * (1 - p.Momentum));
        runningVar[c] = r.FromDouble(
            r.ToDouble(runningVar[c]) * p.Momentum + variance * p.Unbias * (1 - p.Momentum));
    }

    private static void NormalizeKernel<T>(ArrayView<T> x, ArrayView<T> y, ArrayView<T> mean, ArrayView<T> scale,
        ArrayView<T> beta, BatchNormParameters p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            y[i] = (x[i] - mean[c]) * scale[c] + beta[c];
        }
    }

    private static void InferenceKernel<T, TReal>(ArrayView<T> x, ArrayView<T> y, ArrayView<T> gamma,
        ArrayView<T> beta, ArrayView<T> runningMean, ArrayView<T> runningVar, BatchNormParameters p, TReal r)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            double g = p.FixGamma != 0 ? 1.0 : r.ToDouble(gamma[c]);
            T scale = r.FromDouble(g * (1.0 / Math.Sqrt(r.ToDouble(runningVar[c]) + p.Epsilon)));
            y[i] = (x[i] - runningMean[c]) * scale + beta[c];
        }
    }

    private static void GradientSumsKernel<T, TReal>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> gamma,
        ArrayView<T> savedMean, ArrayView<T> savedInvStd, ArrayView<T> dgamma, ArrayView<T> dbeta,
        ArrayView<T> coefficients, BatchNormParameters p, TReal r)
        where T : unmanaged, IFloatingPointIeee754<T> where TReal : struct, IGpuReal<T>
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, m = p.Count;
        double mean = r.ToDouble(savedMean[c]);
        double sumDy = 0, sumDyXm = 0;
        for (int j = t; j < m; j += Group.DimX)
        {
            int i = Index(p, c, j);
            double g = r.ToDouble(dy[i]);
            sumDy += g;
            sumDyXm += g * (r.ToDouble(x[i]) - mean);
        }
        sumDy = GroupSum(partial, sumDy);
        sumDyXm = GroupSum(partial, sumDyXm);
        if (t != 0) return;
        double invStd = r.ToDouble(savedInvStd[c]);
        double gm = p.FixGamma != 0 ? 1.0 : r.ToDouble(gamma[c]);
        dbeta[c] = r.FromDouble(sumDy);
        dgamma[c] = r.FromDouble(p.FixGamma != 0 ? 0.0 : sumDyXm * invStd);
        // dx = k1 (dy - dyMean) + k2 (x - mean), k1 = gamma invStd, k2 = -k1 invStd^2 sum(dy (x - mean)) / M.
        double a = gm * invStd;
        coefficients[c] = r.FromDouble(m > 0 ? a : 0.0);
        coefficients[p.Channels + c] = r.FromDouble(m > 0 ? -a * invStd * invStd * sumDyXm / m : 0.0);
        coefficients[2 * p.Channels + c] = r.FromDouble(m > 0 ? sumDy / m : 0.0);
    }

    private static void DataGradientKernel<T>(ArrayView<T> x, ArrayView<T> dy, ArrayView<T> dx, ArrayView<T> mean,
        ArrayView<T> coefficients, BatchNormParameters p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            T k1 = coefficients[c], k2 = coefficients[p.Channels + c], dyMean = coefficients[2 * p.Channels + c];
            dx[i] = k1 * (dy[i] - dyMean) + k2 * (x[i] - mean[c]);
        }
    }
}
