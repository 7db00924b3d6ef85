using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;

namespace Engine.Backends.Gpu;

internal sealed partial class GpuBackend
{
    private void RegisterNormalization()
    {
        Register(NormalizationOps.BatchNorm, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(NormalizationOps.BatchNorm, a, c, i, o);
                return;
            }
            var rt = Runtime(c);
            var d = a.Describe(i[0].Shape);
            var x = c.Contiguous(i[0]);
            var gamma = c.Contiguous(i[1]);
            var beta = c.Contiguous(i[2]);
            // Strided running statistics (views into a larger array) are updated through dense copies.
            var runningMean = c.Contiguous(i[3]);
            var runningVar = c.Contiguous(i[4]);
            if (a.Training)
            {
                GpuBatchNorm.ForwardTraining(rt, d, x, gamma, beta, o[0], o[1], o[2], runningMean, runningVar);
                if (!i[3].IsContiguous) c.Runtime.Copy(runningMean, i[3]);
                if (!i[4].IsContiguous) c.Runtime.Copy(runningVar, i[4]);
                return;
            }
            GpuBatchNorm.ForwardInference(rt, d, x, gamma, beta, runningMean, runningVar, o[0]);
            // The saved statistics of inference: the running mean and 1 / sqrt(running var + eps).
            c.Runtime.Copy(runningMean, o[1]);
            if (x.DType == DType.Float64)
                GpuElementwiseDriver.Instance.Unary<InverseStdOperator<double>, double>(c,
                    new InverseStdOperator<double>(a.Epsilon), runningVar, o[2]);
            else
                GpuElementwiseDriver.Instance.Unary<InverseStdOperator<float>, float>(c,
                    new InverseStdOperator<float>((float)a.Epsilon), runningVar, o[2]);
        });
        Register(NormalizationOps.BatchNormBackward, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64))
            {
                OnCpu(NormalizationOps.BatchNormBackward, a, c, i, o);
                return;
            }
            GpuBatchNorm.Backward(Runtime(c), a.Describe(i[0].Shape), c.Contiguous(i[0]), c.Contiguous(i[1]),
                c.Contiguous(i[2]), c.Contiguous(i[3]), c.Contiguous(i[4]), o[0], o[1], o[2]);
        });
        Register(NormalizationOps.Softmax, static (a, c, i, o) => Softmax(NormalizationOps.Softmax, a, c, i, o));
        Register(NormalizationOps.LogSoftmax, static (a, c, i, o) => Softmax(NormalizationOps.LogSoftmax, a, c, i, o));
        Register(NormalizationOps.SoftmaxBackward, static (a, c, i, o) =>
            Softmax(NormalizationOps.SoftmaxBackward, a, c, i, o));
        Register(NormalizationOps.LogSoftmaxBackward, static (a, c, i, o) =>
            Softmax(NormalizationOps.LogSoftmaxBackward, a, c, i, o));
        Register(NormalizationOps.SoftmaxCrossEntropy, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64) || !SupportedLabels(i[1].DType))
            {
                OnCpu(NormalizationOps.SoftmaxCrossEntropy, a, c, i, o);
                return;
            }
            var logits = c.Contiguous(i[0]);
            GpuSoftmaxCrossEntropy.Forward(Runtime(c), logits.Shape[0], logits.Shape[1], logits, c.Contiguous(i[1]),
                o[0]);
        });
        Register(NormalizationOps.SoftmaxCrossEntropyBackward, static (a, c, i, o) =>
        {
            if (i[0].DType is not (DType.Float32 or DType.Float64) || !SupportedLabels(i[1].DType))
            {
                OnCpu(NormalizationOps.SoftmaxCrossEntropyBackward, a, c, i, o);
                return;
            }
            var logits = c.Contiguous(i[0]);
            GpuSoftmaxCrossEntropy.Backward(Runtime(c), logits.Shape[0], logits.Shape[1], logits, c.Contiguous(i[1]),
                c.Contiguous(i[2]), o[0]);
        });
    }

    private static void Softmax(OpDef<SoftmaxAttrs> op, SoftmaxAttrs a, KernelContext c, TensorArg[] i,
        TensorArg[] o)
    {
        if (i[0].DType is not (DType.Float32 or DType.Float64))
        {
            OnCpu(op, a, c, i, o);
            return;
        }
        var rt = Runtime(c);
        bool log = op == NormalizationOps.LogSoftmax || op == NormalizationOps.LogSoftmaxBackward;
        var (outer, n, inner) = a.Split(i[0].Shape, log ? "log_softmax" : "softmax");
        var x = c.Contiguous(i[0]);
        if (i.Length == 1)
        {
            if (log) GpuSoftmax.LogSoftmax(rt, (int)outer, n, (int)inner, x, o[0], a.Temperature);
            else GpuSoftmax.Softmax(rt, (int)outer, n, (int)inner, x, o[0], a.Temperature);
            return;
        }
        var dy = c.Contiguous(i[1]);
        if (log) GpuSoftmax.LogSoftmaxBackward(rt, (int)outer, n, (int)inner, x, dy, o[0], a.Temperature);
        else GpuSoftmax.SoftmaxBackward(rt, (int)outer, n, (int)inner, x, dy, o[0], a.Temperature);
    }

    /// <summary>Label dtypes the cross-entropy kernels read (on the host, checked before the launch).</summary>
    private static bool SupportedLabels(DType t) =>
        t is DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64 or DType.UInt8;
}
