using Engine.Kernels;
using Engine.Ops;

namespace Engine;

public static partial class Nd
{
    /// <summary>
    /// MXNet's Pooling on NCHW (or NCW) input: max or average over windows, with the 'valid' (floor) or 'full'
    /// (ceil) output-size convention; <paramref name="globalPool"/> pools each whole plane.
    /// </summary>
    public static NDArray Pooling(NDArray x, int[] kernel, PoolingMode mode = PoolingMode.Max, int[]? stride = null,
        int[]? pad = null, bool globalPool = false, PoolingConvention convention = PoolingConvention.Valid,
        bool countIncludePad = true) =>
        PoolingOps.Pooling.Call(new PoolingAttrs(mode, kernel, stride ?? kernel, pad ?? new int[kernel.Length],
            globalPool, convention, countIncludePad), x);

    public static NDArray MaxPool2D(NDArray x, int poolSize = 2, int? stride = null, int padding = 0) =>
        Pooling(x, [poolSize, poolSize], PoolingMode.Max, [stride ?? poolSize, stride ?? poolSize],
            [padding, padding]);

    public static NDArray AvgPool2D(NDArray x, int poolSize = 2, int? stride = null, int padding = 0,
        bool countIncludePad = true) =>
        Pooling(x, [poolSize, poolSize], PoolingMode.Avg, [stride ?? poolSize, stride ?? poolSize],
            [padding, padding], countIncludePad: countIncludePad);

    public static NDArray GlobalAvgPool2D(NDArray x) => Pooling(x, [1, 1], PoolingMode.Avg, globalPool: true);

    public static NDArray GlobalMaxPool2D(NDArray x) => Pooling(x, [1, 1], PoolingMode.Max, globalPool: true);

    /// <summary>
    /// Batch normalisation over <paramref name="axis"/> (channels). While training (Autograd.IsTraining, unless
    /// <paramref name="useGlobalStats"/>) it normalises with batch statistics and updates the running mean and
    /// variance in place: running = running * momentum + batch * (1 - momentum), with the biased batch variance.
    /// Otherwise it uses the running statistics.
    /// </summary>
    public static NDArray BatchNorm(NDArray x, NDArray gamma, NDArray beta, NDArray runningMean,
        NDArray runningVar, double epsilon = 1e-5, double momentum = 0.9, bool fixGamma = false,
        bool useGlobalStats = false, int axis = 1)
    {
        var attrs = new BatchNormAttrs(epsilon, momentum, fixGamma, useGlobalStats, axis,
            Training: Autograd.IsTraining && !useGlobalStats);
        var outputs = NormalizationOps.BatchNorm.Invoke(attrs, x, gamma, beta, runningMean, runningVar);
        if (!Autograd.IsRecording)
        {
            outputs[1].Dispose();
            outputs[2].Dispose();
        }
        return outputs[0];
    }

    public static NDArray Softmax(NDArray x, int axis = -1, double temperature = 1) =>
        NormalizationOps.Softmax.Call(new SoftmaxAttrs(axis, temperature), x);

    public static NDArray LogSoftmax(NDArray x, int axis = -1, double temperature = 1) =>
        NormalizationOps.LogSoftmax.Call(new SoftmaxAttrs(axis, temperature), x);

    /// <summary>Per-sample -log softmax(logits)[label] for logits (batch, classes) and integer labels.</summary>
    public static NDArray SoftmaxCrossEntropy(NDArray logits, NDArray labels) =>
        NormalizationOps.SoftmaxCrossEntropy.Call(NoAttrs.Instance, logits, labels);
}
