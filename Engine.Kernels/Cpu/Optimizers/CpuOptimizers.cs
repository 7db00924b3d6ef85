using System.Runtime.Intrinsics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// Fused optimizer updates: one pass over weight, gradient and state instead of a dozen elementwise operations,
/// the same arithmetic as the composed form (MXNet's adam_update and sgd_mom_update).
/// </summary>
public static class CpuOptimizers
{
    /// <summary>
    /// Adam: g = clip(rescale * grad + wd * w); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    /// w -= lrT * m / (sqrt(v) + eps). <paramref name="clip"/> &lt;= 0 means no clipping.
    /// </summary>
    public static void Adam(Span<float> weight, ReadOnlySpan<float> grad, Span<float> mean, Span<float> variance,
        float rescale, float wd, float beta1, float beta2, float lrT, float epsilon, float clip)
    {
        Check("adam_update", weight.Length, grad.Length, mean.Length, variance.Length);
        int i = 0;
        if (CpuInstructionSet.Vector512LoopsPay && clip <= 0)
        {
            var vr = Vector512.Create(rescale);
            var vwd = Vector512.Create(wd);
            var b1 = Vector512.Create(beta1);
            var c1 = Vector512.Create((float)(1 - (double)beta1));
            var b2 = Vector512.Create(beta2);
            var c2 = Vector512.Create((float)(1 - (double)beta2));
            var lr = Vector512.Create(lrT);
            var eps = Vector512.Create(epsilon);
            for (; i <= weight.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var w = Vector512.Create(weight.Slice(i, Vector512<float>.Count));
                var g = Vector512.Create(grad.Slice(i, Vector512<float>.Count)) * vr + vwd * w;
                var m = b1 * Vector512.Create(mean.Slice(i, Vector512<float>.Count)) + c1 * g;
                var v = b2 * Vector512.Create(variance.Slice(i, Vector512<float>.Count)) + c2 * (g * g);
                m.CopyTo(mean.Slice(i));
                v.CopyTo(variance.Slice(i));
                (w - lr * m / (Vector512.Sqrt(v) + eps)).CopyTo(weight.Slice(i));
            }
        }
        for (; i < weight.Length; i++)
        {
            float g = grad[i] * rescale + wd * weight[i];
            if (clip > 0) g = Math.Clamp(g, -clip, clip);
            mean[i] = beta1 * mean[i] + (float)(1 - (double)beta1) * g;
            variance[i] = beta2 * variance[i] + (float)(1 - (double)beta2) * (g * g);
            weight[i] -= lrT * mean[i] / (MathF.Sqrt(variance[i]) + epsilon);
        }
    }

    /// <summary>
    /// SGD with momentum (MXNet's sgd_mom_update): g = clip(rescale * grad); mom = momentum mom - lr wd w - lr g;
    /// w += mom. With no momentum state: w = (1 - lr wd) w - lr g.
    /// </summary>
    public static void Sgd(Span<float> weight, ReadOnlySpan<float> grad, Span<float> momentumState, float rescale,
        float lr, float wd, float momentum, float clip)
    {
        bool hasMomentum = !momentumState.IsEmpty;
        Check("sgd_update", weight.Length, grad.Length, hasMomentum ? momentumState.Length : weight.Length,
            weight.Length);
        int i = 0;
        if (CpuInstructionSet.Vector512LoopsPay && clip <= 0)
        {
            const int width = 16;
            var vr = Vector512.Create(rescale);
            var vlr = Vector512.Create(lr);
            if (hasMomentum)
            {
                var vm = Vector512.Create(momentum);
                var vlrwd = Vector512.Create(lr * wd);
                for (; i <= weight.Length - width; i += width)
                {
                    var w = Vector512.Create(weight.Slice(i, width));
                    var g = Vector512.Create(grad.Slice(i, width)) * vr;
                    var m = vm * Vector512.Create(momentumState.Slice(i, width)) - vlrwd * w - vlr * g;
                    m.CopyTo(momentumState.Slice(i));
                    (w + m).CopyTo(weight.Slice(i));
                }
            }
            else
            {
                var decay = Vector512.Create(1 - lr * wd);
                for (; i <= weight.Length - width; i += width)
                {
                    var g = Vector512.Create(grad.Slice(i, width)) * vr;
                    (decay * Vector512.Create(weight.Slice(i, width)) - vlr * g).CopyTo(weight.Slice(i));
                }
            }
        }
        for (; i < weight.Length; i++)
        {
            float g = grad[i] * rescale;
            if (clip > 0) g = Math.Clamp(g, -clip, clip);
            if (hasMomentum)
            {
                float m = momentum * momentumState[i] - lr * wd * weight[i] - lr * g;
                momentumState[i] = m;
                weight[i] += m;
            }
            else
            {
                weight[i] = (1 - lr * wd) * weight[i] - lr * g;
            }
        }
    }

    private static void Check(string op, int weight, int grad, int a, int b)
    {
        if (grad != weight || a != weight || b != weight)
            throw new ArgumentException(
                $"{op}: weight has {weight} elements but gradient and state have {grad}, {a} and {b}; " +
                "they must match.");
    }
}
