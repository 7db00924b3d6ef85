using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Softmax, log-softmax and their gradients on the GPU (float32), along an axis of data seen as (outer, axis,
/// inner): one thread per (outer, inner) line, three passes (maximum, sum of exponentials, output), so the result
/// stays finite for any input. Temperature t divides the input.
/// </summary>
public static class GpuSoftmax
{
    /// <summary>y = softmax(x / t) along the axis.</summary>
    public static void Softmax(GpuRuntime runtime, int outer, int axisLength, int inner, in TensorArg x,
        in TensorArg y, double temperature = 1.0) =>
        Forward(runtime, "softmax", outer, axisLength, inner, x, y, temperature, log: false);

    /// <summary>y = log_softmax(x / t) along the axis.</summary>
    public static void LogSoftmax(GpuRuntime runtime, int outer, int axisLength, int inner, in TensorArg x,
        in TensorArg y, double temperature = 1.0) =>
        Forward(runtime, "log_softmax", outer, axisLength, inner, x, y, temperature, log: true);

    /// <summary>dx = y (dy - sum(dy y)) / t, given y = softmax(x / t).</summary>
    public static void SoftmaxBackward(GpuRuntime runtime, int outer, int axisLength, int inner, in TensorArg y,
        in TensorArg dy, in TensorArg dx, double temperature = 1.0) =>
        Backward(runtime, "softmax_backward", outer, axisLength, inner, y, dy, dx, temperature, log: false);

    /// <summary>dx = (dy - exp(y) sum(dy)) / t, given y = log_softmax(x / t).</summary>
    public static void LogSoftmaxBackward(GpuRuntime runtime, int outer, int axisLength, int inner, in TensorArg y,
        in TensorArg dy, in TensorArg dx, double temperature = 1.0) =>
        Backward(runtime, "log_softmax_backward", outer, axisLength, inner, y, dy, dx, temperature, log: true);

    private static void Forward(GpuRuntime runtime, string op, int outer, int axisLength, int inner, in TensorArg x,
        in TensorArg y, double temperature, bool log)
    {
        long lines = Check(op, outer, axisLength, inner, temperature, x, y);
        var xv = x.Elements<float>(runtime, op);
        var yv = y.Elements<float>(runtime, op);
        if (lines == 0 || axisLength == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, int, int, float, int, int>(ForwardKernel)(
            runtime.Stream, runtime.GridStride(lines), xv, yv, axisLength, inner, (float)(1.0 / temperature),
            log ? 1 : 0, (int)lines);
    }

    private static void Backward(GpuRuntime runtime, string op, int outer, int axisLength, int inner, in TensorArg y,
        in TensorArg dy, in TensorArg dx, double temperature, bool log)
    {
        long lines = Check(op, outer, axisLength, inner, temperature, y, dx);
        if (dy.Size != y.Size)
            throw new ArgumentException($"{op}: dy {dy} must have the size of y {y}.");
        var yv = y.Elements<float>(runtime, op);
        var gv = dy.Elements<float>(runtime, op);
        var dv = dx.Elements<float>(runtime, op);
        if (lines == 0 || axisLength == 0) return;
        runtime.Kernels.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, int, int>(
            BackwardKernel)(runtime.Stream, runtime.GridStride(lines), yv, gv, dv, axisLength, inner,
            (float)(1.0 / temperature), log ? 1 : 0, (int)lines);
    }

    private static long Check(string op, int outer, int axisLength, int inner, double temperature, in TensorArg a,
        in TensorArg b)
    {
        if (outer < 0 || axisLength < 0 || inner < 0)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"{op}: sizes must be non-negative, got (outer {outer}, axis {axisLength}, inner {inner}).");
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature),
                $"{op}: temperature must be a positive finite number, got {temperature}.");
        long size = (long)outer * axisLength * inner;
        if (a.Size != size || b.Size != size)
            throw new ArgumentException(
                $"{op}: (outer {outer}, axis {axisLength}, inner {inner}) needs {size} elements, got {a} and {b}.");
        return (long)outer * inner;
    }

    private static void ForwardKernel(ArrayView<float> x, ArrayView<float> y, int axisLength, int inner,
        float invT, int log, int lines)
    {
        for (int u = Grid.GlobalIndex.X; u < lines; u += Grid.DimX * Group.DimX)
        {
            int o = u / inner, i = u - o * inner;
            int start = o * axisLength * inner + i;
            float max = x[start];
            for (int j = 1; j < axisLength; j++)
            {
                float v = x[start + j * inner];
                if (v > max || float.IsNaN(v)) max = v;
            }
            float sum = 0f;
            for (int j = 0; j < axisLength; j++) sum += MathF.Exp((x[start + j * inner] - max) * invT);
            if (log != 0)
            {
                float logSum = MathF.Log(sum);
                for (int j = 0; j < axisLength; j++)
                    y[start + j * inner] = (x[start + j * inner] - max) * invT - logSum;
            }
            else
            {
                float scale = 1f / sum;
                for (int j = 0; j < axisLength; j++)
                    y[start + j * inner] = MathF.Exp((x[start + j * inner] - max) * invT) * scale;
            }
        }
    }

    private static void BackwardKernel(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int axisLength,
        int inner, float invT, int log, int lines)
    {
        for (int u = Grid.GlobalIndex.X; u < lines; u += Grid.DimX * Group.DimX)
        {
            int o = u / inner, i = u - o * inner;
            int start = o * axisLength * inner + i;
            float dot = 0f;
            for (int j = 0; j < axisLength; j++)
            {
                int k = start + j * inner;
                dot += log != 0 ? dy[k] : dy[k] * y[k];
            }
            for (int j = 0; j < axisLength; j++)
            {
                int k = start + j * inner;
                dx[k] = log != 0 ? (dy[k] - MathF.Exp(y[k]) * dot) * invT : y[k] * (dy[k] - dot) * invT;
            }
        }
    }
}
