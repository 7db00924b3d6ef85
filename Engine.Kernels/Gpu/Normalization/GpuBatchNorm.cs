using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Batch normalisation on the GPU (float32, data as (outer, channels, inner)) with the CPU's formulas: per-channel
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
        const string op = "batch_norm";
        ArgumentNullException.ThrowIfNull(desc);
        var xv = Data(runtime, op, desc, x, "x");
        var yv = Data(runtime, op, desc, y, "y");
        var gv = PerChannel(runtime, op, desc, gamma, "gamma");
        var bv = PerChannel(runtime, op, desc, beta, "beta");
        var mv = PerChannel(runtime, op, desc, savedMean, "savedMean");
        var sv = PerChannel(runtime, op, desc, savedInvStd, "savedInvStd");
        var rm = PerChannel(runtime, op, desc, runningMean, "runningMean");
        var rv = PerChannel(runtime, op, desc, runningVar, "runningVar");
        long m = desc.ReductionSize;
        if (desc.UnbiasedRunningVar && m == 1 && desc.Channels > 0)
            throw new ArgumentException(
                $"{op}: the unbiased running variance needs more than one value per channel, but {desc} has " +
                "outer * inner = 1; use a batch larger than 1 or UnbiasedRunningVar = false.");
        if (desc.Channels == 0) return;
        CheckSize(op, desc);
        using var scale = runtime.Allocate(desc.Channels * sizeof(float));
        var scaleView = ((GpuBuffer)scale).View<float>();
        var p = Parameters(desc);
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, BatchNormParameters>(StatisticsKernel)(runtime.Stream,
            new KernelConfig(desc.Channels, runtime.GroupSize), xv, gv, mv, sv, rm, rv, scaleView, p);
        if (desc.Count == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            BatchNormParameters>(NormalizeKernel)(runtime.Stream, runtime.GridStride(desc.Count), xv, yv, mv,
            scaleView, bv, p);
    }

    /// <summary>Inference forward: y = gamma (x - runningMean) / sqrt(runningVar + eps) + beta.</summary>
    public static void ForwardInference(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x,
        in TensorArg gamma, in TensorArg beta, in TensorArg runningMean, in TensorArg runningVar, in TensorArg y)
    {
        const string op = "batch_norm";
        ArgumentNullException.ThrowIfNull(desc);
        var xv = Data(runtime, op, desc, x, "x");
        var yv = Data(runtime, op, desc, y, "y");
        var gv = PerChannel(runtime, op, desc, gamma, "gamma");
        var bv = PerChannel(runtime, op, desc, beta, "beta");
        var rm = PerChannel(runtime, op, desc, runningMean, "runningMean");
        var rv = PerChannel(runtime, op, desc, runningVar, "runningVar");
        if (desc.Count == 0) return;
        CheckSize(op, desc);
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, BatchNormParameters>(InferenceKernel)(runtime.Stream, runtime.GridStride(desc.Count),
            xv, yv, gv, bv, rm, rv, Parameters(desc));
    }

    /// <summary>Backward of the training forward from its saved statistics; overwrites dx, dgamma and dbeta.</summary>
    public static void Backward(GpuRuntime runtime, BatchNormDescriptor desc, in TensorArg x, in TensorArg dy,
        in TensorArg gamma, in TensorArg savedMean, in TensorArg savedInvStd, in TensorArg dx, in TensorArg dgamma,
        in TensorArg dbeta)
    {
        const string op = "batch_norm_backward";
        ArgumentNullException.ThrowIfNull(desc);
        var xv = Data(runtime, op, desc, x, "x");
        var gyv = Data(runtime, op, desc, dy, "dy");
        var dxv = Data(runtime, op, desc, dx, "dx");
        var gv = PerChannel(runtime, op, desc, gamma, "gamma");
        var mv = PerChannel(runtime, op, desc, savedMean, "savedMean");
        var sv = PerChannel(runtime, op, desc, savedInvStd, "savedInvStd");
        var dgv = PerChannel(runtime, op, desc, dgamma, "dgamma");
        var dbv = PerChannel(runtime, op, desc, dbeta, "dbeta");
        if (desc.Channels == 0) return;
        CheckSize(op, desc);
        using var coefficients = runtime.Allocate(3L * desc.Channels * sizeof(float));
        var cv = ((GpuBuffer)coefficients).View<float>();
        var p = Parameters(desc);
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormParameters>(GradientSumsKernel)(
            runtime.Stream, new KernelConfig(desc.Channels, runtime.GroupSize), xv, gyv, gv, mv, sv, dgv, dbv, cv, p);
        if (desc.Count == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            BatchNormParameters>(DataGradientKernel)(runtime.Stream, runtime.GridStride(desc.Count), xv, gyv, dxv, mv,
            cv, p);
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

    private static ArrayView<float> Data(GpuRuntime runtime, string op, BatchNormDescriptor desc, in TensorArg a,
        string name)
    {
        if (a.Size != desc.Count)
            throw new ArgumentException(
                $"{op}: {name} has {a.Size} elements but the descriptor {desc} needs outer * channels * inner = " +
                $"{desc.Count}; pass a {name} of that size or fix the descriptor.");
        return a.Elements<float>(runtime, op);
    }

    private static ArrayView<float> PerChannel(GpuRuntime runtime, string op, BatchNormDescriptor desc,
        in TensorArg a, string name)
    {
        if (a.Size != desc.Channels)
            throw new ArgumentException(
                $"{op}: {name} has {a.Size} elements but x has {desc.Channels} channels (descriptor {desc}); " +
                $"{name} needs one element per channel.");
        return a.Elements<float>(runtime, op);
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

    private static void StatisticsKernel(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> savedMean,
        ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> scale, BatchNormParameters p)
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, m = p.Count;
        double sum = 0;
        for (int j = t; j < m; j += Group.DimX) sum += x[Index(p, c, j)];
        double mean = m > 0 ? GroupSum(partial, sum) / m : 0;
        double squares = 0;
        for (int j = t; j < m; j += Group.DimX)
        {
            double d = x[Index(p, c, j)] - mean;
            squares += d * d;
        }
        double variance = m > 0 ? GroupSum(partial, squares) / m : 0;
        if (t != 0) return;
        double invStd = 1.0 / Math.Sqrt(variance + p.Epsilon);
        double g = p.FixGamma != 0 ? 1.0 : gamma[c];
        savedMean[c] = (float)mean;
        savedInvStd[c] = (float)invStd;
        scale[c] = (float)(g * invStd);
        if (m == 0) return;
        runningMean[c] = (float)(runningMean[c] * p.Momentum + mean * (1 - p.Momentum));
        runningVar[c] = (float)(runningVar[c] * p.Momentum + variance * p.Unbias * (1 - p.Momentum));
    }

    private static void NormalizeKernel(ArrayView<float> x, ArrayView<float> y, ArrayView<float> mean,
        ArrayView<float> scale, ArrayView<float> beta, BatchNormParameters p)
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            y[i] = (x[i] - mean[c]) * scale[c] + beta[c];
        }
    }

    private static void InferenceKernel(ArrayView<float> x, ArrayView<float> y, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> runningMean, ArrayView<float> runningVar, BatchNormParameters p)
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            double g = p.FixGamma != 0 ? 1.0 : gamma[c];
            float scale = (float)(g * (1.0 / Math.Sqrt(runningVar[c] + p.Epsilon)));
            y[i] = (x[i] - runningMean[c]) * scale + beta[c];
        }
    }

    private static void GradientSumsKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> savedMean, ArrayView<float> savedInvStd, ArrayView<float> dgamma, ArrayView<float> dbeta,
        ArrayView<float> coefficients, BatchNormParameters p)
    {
        var partial = SharedMemory.Allocate<double>(MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, m = p.Count;
        double mean = savedMean[c];
        double sumDy = 0, sumDyXm = 0;
        for (int j = t; j < m; j += Group.DimX)
        {
            int i = Index(p, c, j);
            double g = dy[i];
            sumDy += g;
            sumDyXm += g * (x[i] - mean);
        }
        sumDy = GroupSum(partial, sumDy);
        sumDyXm = GroupSum(partial, sumDyXm);
        if (t != 0) return;
        double invStd = savedInvStd[c];
        double gm = p.FixGamma != 0 ? 1.0 : gamma[c];
        dbeta[c] = (float)sumDy;
        dgamma[c] = p.FixGamma != 0 ? 0f : (float)(sumDyXm * invStd);
        // dx = k1 (dy - dyMean) + k2 (x - mean), k1 = gamma invStd, k2 = -k1 invStd^2 sum(dy (x - mean)) / M.
        double a = gm * invStd;
        coefficients[c] = m > 0 ? (float)a : 0f;
        coefficients[p.Channels + c] = m > 0 ? (float)(-a * invStd * invStd * sumDyXm / m) : 0f;
        coefficients[2 * p.Channels + c] = m > 0 ? (float)(sumDy / m) : 0f;
    }

    private static void DataGradientKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx,
        ArrayView<float> mean, ArrayView<float> coefficients, BatchNormParameters p)
    {
        int n = p.Count * p.Channels;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Inner % p.Channels;
            float k1 = coefficients[c], k2 = coefficients[p.Channels + c], dyMean = coefficients[2 * p.Channels + c];
            dx[i] = k1 * (dy[i] - dyMean) + k2 * (x[i] - mean[c]);
        }
    }
}
