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

    /// <summary>Matrix product of 2-D arrays, either operand transposed (MXNet's dot).</summary>
    public static NDArray Dot(NDArray a, NDArray b, bool transposeA = false, bool transposeB = false) =>
        LinearAlgebraOps.Dot.Call(new DotAttrs(transposeA, transposeB), a, b);

    /// <summary>Batched matrix product of (batch, m, k) and (batch, k, n) arrays.</summary>
    public static NDArray BatchDot(NDArray a, NDArray b, bool transposeA = false, bool transposeB = false) =>
        LinearAlgebraOps.BatchDot.Call(new DotAttrs(transposeA, transposeB), a, b);

    /// <summary>MXNet's FullyConnected: y = flatten(x) W^T + b, W of shape (numHidden, inUnits).</summary>
    public static NDArray FullyConnected(NDArray x, NDArray weight, NDArray? bias, int numHidden,
        bool flatten = true) =>
        LinearAlgebraOps.FullyConnected.Call(new FullyConnectedAttrs(numHidden, bias is null, flatten),
            bias is null ? [x, weight] : [x, weight, bias]);

    /// <summary>
    /// 2-D convolution on NCHW data (1-D on NCW) with weight (K, C/groups, R, S): MXNet's Convolution.
    /// Stride, pad and dilate take one value per spatial dim (default 1, 0, 1).
    /// </summary>
    public static NDArray Convolution(NDArray x, NDArray weight, NDArray? bias, int[]? stride = null,
        int[]? pad = null, int[]? dilate = null, int groups = 1)
    {
        int spatial = Math.Max(1, x.Rank - 2);
        var attrs = new ConvolutionAttrs(stride ?? Enumerable.Repeat(1, spatial).ToArray(),
            pad ?? new int[spatial], dilate ?? Enumerable.Repeat(1, spatial).ToArray(), groups, bias is null);
        return ConvolutionOps.Convolution.Call(attrs, bias is null ? [x, weight] : [x, weight, bias]);
    }

    /// <summary>
    /// MXNet's CTCLoss: the per-sample connectionist temporal classification loss, -log p(label | data), of data
    /// (time, batch, alphabet) unnormalised scores (softmax is applied inside) and labels (batch, label length)
    /// padded with 0 (blank First, MXNet's default) or -1 (blank Last, as Gluon's CTCLoss). Optional per-sample
    /// sequence lengths and label lengths (a negative label length means up to the first padding value).
    /// </summary>
    public static NDArray CtcLoss(NDArray data, NDArray label, NDArray? dataLengths = null,
        NDArray? labelLengths = null, CtcBlank blank = CtcBlank.First)
    {
        var inputs = new List<NDArray> { data, label };
        if (dataLengths is not null) inputs.Add(dataLengths);
        if (labelLengths is not null) inputs.Add(labelLengths);
        return LossOps.CtcLoss.Call(new CtcAttrs(dataLengths is not null, labelLengths is not null, blank),
            inputs.ToArray());
    }
}
