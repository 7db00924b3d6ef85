using System.Numerics;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Ops;

namespace Engine.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private void RegisterNormalization()
    {
        Register(NormalizationOps.BatchNorm, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            var d = a.Describe(i[0].Shape);
            if (x.DType == DType.Float32) BatchNorm<float>(a, d, c, x, i, o);
            else BatchNorm<double>(a, d, c, x, i, o);
        });
        Register(NormalizationOps.BatchNormBackward, static (a, c, i, o) =>
        {
            var x = c.Contiguous(i[0]);
            var dy = c.Contiguous(i[1]);
            var gamma = c.Contiguous(i[2]);
            var d = a.Describe(i[0].Shape);
            if (x.DType == DType.Float32)
                CpuBatchNorm.Backward(d, x.Span<float>(), dy.Span<float>(), gamma.Span<float>(), i[3].Span<float>(),
                    i[4].Span<float>(), o[0].Span<float>(), o[1].Span<float>(), o[2].Span<float>());
            else
                CpuBatchNorm.Backward(d, x.Span<double>(), dy.Span<double>(), gamma.Span<double>(),
                    i[3].Span<double>(), i[4].Span<double>(), o[0].Span<double>(), o[1].Span<double>(),
                    o[2].Span<double>());
        });
        Register(NormalizationOps.Softmax, static (a, c, i, o) => Softmax(a, c, i[0], o[0], log: false));
        Register(NormalizationOps.LogSoftmax, static (a, c, i, o) => Softmax(a, c, i[0], o[0], log: true));
        Register(NormalizationOps.SoftmaxBackward, static (a, c, i, o) =>
            SoftmaxBackward(a, c, i[0], i[1], o[0], log: false));
        Register(NormalizationOps.LogSoftmaxBackward, static (a, c, i, o) =>
            SoftmaxBackward(a, c, i[0], i[1], o[0], log: true));
        Register(NormalizationOps.SoftmaxCrossEntropy, static (_, c, i, o) => CrossEntropy(c, i[0], i[1], null, o[0]));
        Register(NormalizationOps.SoftmaxCrossEntropyBackward, static (_, c, i, o) =>
            CrossEntropy(c, i[0], i[1], i[2], o[0]));
    }

    /// <summary>Inputs x, gamma, beta, running mean and variance (the last two updated when training).</summary>
    private static void BatchNorm<T>(BatchNormAttrs a, BatchNormDescriptor d, KernelContext c, in TensorArg x,
        TensorArg[] i, TensorArg[] o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gamma = c.Contiguous(i[1]).Span<T>();
        var beta = c.Contiguous(i[2]).Span<T>();
        if (a.Training)
        {
            CpuBatchNorm.ForwardTraining(d, x.Span<T>(), gamma, beta, o[0].Span<T>(), o[1].Span<T>(), o[2].Span<T>(),
                i[3].Span<T>(), i[4].Span<T>());
            return;
        }
        var mean = c.Contiguous(i[3]).Span<T>();
        var variance = c.Contiguous(i[4]).Span<T>();
        CpuBatchNorm.ForwardInference(d, x.Span<T>(), gamma, beta, mean, variance, o[0].Span<T>());
        CpuBatchNormStatistics.FromRunning(d.Channels, a.Epsilon, mean, variance, o[1].Span<T>(), o[2].Span<T>());
    }

    private static void Softmax(SoftmaxAttrs a, KernelContext c, in TensorArg input, in TensorArg y, bool log)
    {
        var x = c.Contiguous(input);
        var (outer, n, inner) = a.Split(input.Shape, log ? "log_softmax" : "softmax");
        if (x.DType == DType.Float32)
        {
            if (log) CpuSoftmax.LogSoftmax(outer, n, inner, x.Span<float>(), y.Span<float>(), a.Temperature);
            else CpuSoftmax.Softmax(outer, n, inner, x.Span<float>(), y.Span<float>(), a.Temperature);
        }
        else
        {
            if (log) CpuSoftmax.LogSoftmax(outer, n, inner, x.Span<double>(), y.Span<double>(), a.Temperature);
            else CpuSoftmax.Softmax(outer, n, inner, x.Span<double>(), y.Span<double>(), a.Temperature);
        }
    }

    private static void SoftmaxBackward(SoftmaxAttrs a, KernelContext c, in TensorArg yIn, in TensorArg dyIn,
        in TensorArg dx, bool log)
    {
        var y = c.Contiguous(yIn);
        var dy = c.Contiguous(dyIn);
        var (outer, n, inner) = a.Split(yIn.Shape, log ? "log_softmax" : "softmax");
        if (y.DType == DType.Float32)
        {
            if (log)
                CpuSoftmax.LogSoftmaxBackward(outer, n, inner, y.Span<float>(), dy.Span<float>(), dx.Span<float>(),
                    a.Temperature);
            else
                CpuSoftmax.SoftmaxBackward(outer, n, inner, y.Span<float>(), dy.Span<float>(), dx.Span<float>(),
                    a.Temperature);
        }
        else
        {
            if (log)
                CpuSoftmax.LogSoftmaxBackward(outer, n, inner, y.Span<double>(), dy.Span<double>(), dx.Span<double>(),
                    a.Temperature);
            else
                CpuSoftmax.SoftmaxBackward(outer, n, inner, y.Span<double>(), dy.Span<double>(), dx.Span<double>(),
                    a.Temperature);
        }
    }

    private static void CrossEntropy(KernelContext c, in TensorArg logitsIn, in TensorArg labelsIn,
        TensorArg? dlossIn, in TensorArg output)
    {
        var logits = c.Contiguous(logitsIn);
        var labels = c.Contiguous(labelsIn);
        TensorArg? dloss = dlossIn is { } d ? c.Contiguous(d) : null;
        if (logits.DType == DType.Float32) CrossEntropy<float>(logits, labels, dloss, output);
        else CrossEntropy<double>(logits, labels, dloss, output);
    }

    private static void CrossEntropy<T>(in TensorArg logits, in TensorArg labels, TensorArg? dloss,
        in TensorArg output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (labels.DType)
        {
            case DType.Float32: CrossEntropy<T, float>(logits, labels.Span<float>(), dloss, output); break;
            case DType.Float64: CrossEntropy<T, double>(logits, labels.Span<double>(), dloss, output); break;
            case DType.Int32: CrossEntropy<T, int>(logits, labels.Span<int>(), dloss, output); break;
            case DType.Int64: CrossEntropy<T, long>(logits, labels.Span<long>(), dloss, output); break;
            case DType.UInt8: CrossEntropy<T, byte>(logits, labels.Span<byte>(), dloss, output); break;
            default:
                throw new ArgumentException(
                    $"softmax_cross_entropy: labels of dtype {labels.DType.Name()} are not supported.");
        }
    }

    private static void CrossEntropy<T, TLabel>(in TensorArg logits, ReadOnlySpan<TLabel> labels, TensorArg? dloss,
        in TensorArg output) where T : unmanaged, IFloatingPointIeee754<T> where TLabel : unmanaged, INumberBase<TLabel>
    {
        int batch = logits.Shape[0], classes = logits.Shape[1];
        if (dloss is not { } dl)
            CpuSoftmaxCrossEntropy.Forward(batch, classes, logits.Span<T>(), labels, output.Span<T>());
        else
            CpuSoftmaxCrossEntropy.Backward(batch, classes, logits.Span<T>(), labels, dl.Span<T>(), output.Span<T>());
    }
}
