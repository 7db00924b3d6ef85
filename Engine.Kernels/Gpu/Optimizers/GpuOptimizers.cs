using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The fused optimizer updates on the GPU (float32, contiguous), the CPU's arithmetic: one pass over weight,
/// gradient and state per step.
/// </summary>
public static class GpuOptimizers
{
    /// <summary>
    /// Adam: g = clip(rescale grad + wd w); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    /// w -= lrT m / (sqrt(v) + eps). <paramref name="clip"/> &lt;= 0 means no clipping.
    /// </summary>
    public static void Adam(GpuRuntime runtime, in TensorArg weight, in TensorArg grad, in TensorArg mean,
        in TensorArg variance, float rescale, float wd, float beta1, float beta2, float lrT, float epsilon,
        float clip)
    {
        const string op = "adam_update";
        Check(op, weight, grad, mean, variance);
        int n = (int)weight.Size;
        if (n == 0) return;
        var p = new AdamParameters
        {
            Rescale = rescale, Wd = wd, Beta1 = beta1, Beta2 = beta2, OneMinusBeta1 = (float)(1 - (double)beta1),
            OneMinusBeta2 = (float)(1 - (double)beta2), Lr = lrT, Epsilon = epsilon, Clip = clip,
        };
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamParameters,
            int>(AdamKernel)(runtime.Stream, runtime.GridStride(n), weight.Elements<float>(runtime, op),
            grad.Elements<float>(runtime, op), mean.Elements<float>(runtime, op),
            variance.Elements<float>(runtime, op), p, n);
    }

    /// <summary>
    /// SGD with momentum: g = clip(rescale grad); mom = momentum mom - lr wd w - lr g; w += mom. Without momentum
    /// state (null): w = (1 - lr wd) w - lr g.
    /// </summary>
    public static void Sgd(GpuRuntime runtime, in TensorArg weight, in TensorArg grad, TensorArg? momentumState,
        float rescale, float lr, float wd, float momentum, float clip)
    {
        const string op = "sgd_update";
        var state = momentumState ?? weight;
        Check(op, weight, grad, state, weight);
        int n = (int)weight.Size;
        if (n == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float, float, float,
            float, int>(SgdKernel)(runtime.Stream, runtime.GridStride(n), weight.Elements<float>(runtime, op),
            grad.Elements<float>(runtime, op), state.Elements<float>(runtime, op), momentumState is null ? 0 : 1,
            rescale, lr, wd, momentum, clip, n);
    }

    public struct AdamParameters
    {
        public float Rescale, Wd, Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, Lr, Epsilon, Clip;
    }

    private static void Check(string op, in TensorArg weight, in TensorArg grad, in TensorArg a, in TensorArg b)
    {
        if (grad.Size != weight.Size || a.Size != weight.Size || b.Size != weight.Size)
            throw new ArgumentException(
                $"{op}: weight has {weight.Size} elements but gradient and state have {grad.Size}, {a.Size} and " +
                $"{b.Size}; they must match.");
    }

    private static float Clip(float g, float clip) => clip > 0 ? (g < -clip ? -clip : g > clip ? clip : g) : g;

    private static void AdamKernel(ArrayView<float> w, ArrayView<float> grad, ArrayView<float> mean,
        ArrayView<float> variance, AdamParameters p, int n)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            float g = Clip(grad[i] * p.Rescale + p.Wd * w[i], p.Clip);
            float m = p.Beta1 * mean[i] + p.OneMinusBeta1 * g;
            float v = p.Beta2 * variance[i] + p.OneMinusBeta2 * (g * g);
            mean[i] = m;
            variance[i] = v;
            w[i] -= p.Lr * m / (MathF.Sqrt(v) + p.Epsilon);
        }
    }

    private static void SgdKernel(ArrayView<float> w, ArrayView<float> grad, ArrayView<float> state, int hasMomentum,
        float rescale, float lr, float wd, float momentum, float clip, int n)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            float g = Clip(grad[i] * rescale, clip);
            if (hasMomentum != 0)
            {
                float m = momentum * state[i] - lr * wd * w[i] - lr * g;
                state[i] = m;
                w[i] += m;
            }
            else
            {
                w[i] = (1 - lr * wd) * w[i] - lr * g;
            }
        }
    }
}
