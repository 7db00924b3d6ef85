using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Softmax, log-softmax and their gradients on the GPU (float32 and float64, one generic kernel), along an axis of
/// data seen as (outer, axis, inner): one thread per (outer, inner) line, three passes (maximum, sum of
/// exponentials, output), so the result stays finite for any input. Temperature t divides the input.
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
        if (x.DType == DType.Float64) Forward<double>(runtime, op, axisLength, inner, x, y, temperature, log, lines);
        else Forward<float>(runtime, op, axisLength, inner, x, y, temperature, log, lines);
    }

    private static void Forward<T>(GpuRuntime runtime, string op, int axisLength, int inner, in TensorArg x,
        in TensorArg y, double temperature, bool log, long lines) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xv = x.Elements<T>(runtime, op);
        var yv = y.Elements<T>(runtime, op);
        if (lines == 0 || axisLength == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, int, int, T, int, int>(ForwardKernel<T>)(
            runtime.Stream, runtime.GridStride(lines), xv, yv, axisLength, inner, T.CreateChecked(1.0 / temperature),
            log ? 1 : 0, (int)lines);
    }

    private static void Backward(GpuRuntime runtime, string op, int outer, int axisLength, int inner, in TensorArg y,
        in TensorArg dy, in TensorArg dx, double temperature, bool log)
    {
        long lines = Check(op, outer, axisLength, inner, temperature, y, dx);
        if (dy.Size != y.Size)
            throw new ArgumentException($"{op}: dy {dy} must have the size of y {y}.");
        if (y.DType == DType.Float64) Backward<double>(runtime, op, axisLength, inner, y, dy, dx, temperature, log,
            lines);
        else Backward<float>(runtime, op, axisLength, inner, y, dy, dx, temperature, log, lines);
    }

    private static void Backward<T>(GpuRuntime runtime, string op, int axisLength, int inner, in TensorArg y,
        in TensorArg dy, in TensorArg dx, double temperature, bool log, long lines)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var yv = y.Elements<T>(runtime, op);
        var gv = dy.Elements<T>(runtime, op);
        var dv = dx.Elements<T>(runtime, op);
        if (lines == 0 || axisLength == 0) return;
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, T, int, int>(
            BackwardKernel<T>)(runtime.Stream, runtime.GridStride(lines), yv, gv, dv, axisLength, inner,
            T.CreateChecked(1.0 / temperature), log ? 1 : 0, (int)lines);
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

    private static void ForwardKernel<T>(ArrayView<T> x, ArrayView<T> y, int axisLength, int inner,
        T invT, int log, int lines) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < lines; u += Grid.DimX * Group.DimX)
        {
            int o = u / inner, i = u - o * inner;
            int start = o * axisLength * inner + i;
            T max = x[start];
            for (int j = 1; j < axisLength; j++)
            {
                T v = x[start + j * inner];
                if (v > max || T.IsNaN(v)) max = v;
            }
            T sum = T.Zero;
            for (int j = 0; j < axisLength; j++) sum += T.Exp((x[start + j * inner] - max) * invT);
            if (log != 0)
            {
                T logSum = T.Log(sum);
                for (int j = 0; j < axisLength; j++)
                    y[start + j * inner] = (x[start + j * inner] - max) * invT - logSum;
            }
            else
            {
                T scale = T.One / sum;
                for (int j = 0; j < axisLength; j++)
                    y[start + j * inner] = T.Exp((x[start + j * inner] - max) * invT) * scale;
            }
        }
    }

    private static void BackwardKernel<T>(ArrayView<T> y, ArrayView<T> dy, ArrayView<T> dx, int axisLength,
        int inner, T invT, int log, int lines) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int u = Grid.GlobalIndex.X; u < lines; u += Grid.DimX * Group.DimX)
        {
            int o = u / inner, i = u - o * inner;
            int start = o * axisLength * inner + i;
            T dot = T.Zero;
            for (int j = 0; j < axisLength; j++)
            {
                int k = start + j * inner;
                dot += log != 0 ? dy[k] : dy[k] * y[k];
            }
            for (int j = 0; j < axisLength; j++)
            {
                int k = start + j * inner;
                dx[k] = log != 0 ? (dy[k] - T.Exp(y[k]) * dot) * invT : y[k] * (dy[k] - dot) * invT;
            }
        }
    }
}
