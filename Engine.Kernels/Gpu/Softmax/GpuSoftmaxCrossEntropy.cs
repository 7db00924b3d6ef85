using System.Globalization;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Softmax cross-entropy of float32 or float64 logits (batch, classes) against class labels, as on the CPU:
/// loss_i = (max_i - x_i[label_i]) + log(sum_j exp(x_ij - max_i)), dx_i = (softmax(x_i) - onehot(label_i)) dloss_i.
/// Labels (float32, float64, int32 or int64) are read on the host and checked before anything is written: the one
/// synchronisation here.
/// </summary>
public static class GpuSoftmaxCrossEntropy
{
    public static void Forward(GpuRuntime runtime, int batch, int classes, in TensorArg logits, in TensorArg labels,
        in TensorArg loss)
    {
        if (logits.DType == DType.Float64) Forward<double>(runtime, batch, classes, logits, labels, loss);
        else Forward<float>(runtime, batch, classes, logits, labels, loss);
    }

    private static void Forward<T>(GpuRuntime runtime, int batch, int classes, in TensorArg logits,
        in TensorArg labels, in TensorArg loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "softmax_cross_entropy";
        var xv = Check<T>(runtime, op, batch, classes, logits);
        var lv = PerSample<T>(runtime, op, batch, loss, "loss");
        if (batch == 0) return;
        using var index = Labels(runtime, op, batch, classes, labels);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<int>, ArrayView<T>, int, int>(ForwardKernel<T>)(
            runtime.Stream, runtime.GridStride(batch), xv, ((GpuBuffer)index).View<int>(), lv, classes, batch);
    }

    public static void Backward(GpuRuntime runtime, int batch, int classes, in TensorArg logits, in TensorArg labels,
        in TensorArg dloss, in TensorArg dx)
    {
        if (logits.DType == DType.Float64) Backward<double>(runtime, batch, classes, logits, labels, dloss, dx);
        else Backward<float>(runtime, batch, classes, logits, labels, dloss, dx);
    }

    private static void Backward<T>(GpuRuntime runtime, int batch, int classes, in TensorArg logits,
        in TensorArg labels, in TensorArg dloss, in TensorArg dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "softmax_cross_entropy_backward";
        var xv = Check<T>(runtime, op, batch, classes, logits);
        var gv = PerSample<T>(runtime, op, batch, dloss, "dloss");
        if (dx.Size != logits.Size)
            throw new ArgumentException(
                $"{op}: dx {dx} must have the logits' shape (batch {batch}, classes {classes}).");
        var dv = dx.Elements<T>(runtime, op);
        if (batch == 0) return;
        using var index = Labels(runtime, op, batch, classes, labels);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<T>, int, int>(
            BackwardKernel<T>)(runtime.Stream, runtime.GridStride(batch), xv, ((GpuBuffer)index).View<int>(), gv, dv,
            classes, batch);
    }

    private static ArrayView<T> Check<T>(GpuRuntime runtime, string op, int batch, int classes,
        in TensorArg logits) where T : unmanaged
    {
        if (batch < 0 || classes < 0)
            throw new ArgumentOutOfRangeException(nameof(batch),
                $"{op}: sizes must be non-negative, got (batch {batch}, classes {classes}).");
        if (logits.Size != (long)batch * classes)
            throw new ArgumentException(
                $"{op}: logits have {logits.Size} elements but (batch {batch}, classes {classes}) needs " +
                $"{(long)batch * classes}; pass logits of shape (batch, classes).");
        return logits.Elements<T>(runtime, op);
    }

    private static ArrayView<T> PerSample<T>(GpuRuntime runtime, string op, int batch, in TensorArg a, string name)
        where T : unmanaged
    {
        if (a.Size != batch)
            throw new ArgumentException(
                $"{op}: {name} has {a.Size} elements but the batch has {batch} samples; {name} needs one per sample.");
        return a.Elements<T>(runtime, op);
    }

    /// <summary>The labels as checked class indices in a device buffer of int32.</summary>
    private static Memory.DeviceBuffer Labels(GpuRuntime runtime, string op, int batch, int classes,
        in TensorArg labels)
    {
        if (labels.Size != batch)
            throw new ArgumentException(
                $"{op}: labels has {labels.Size} elements but the batch has {batch} samples; one label per sample.");
        var contiguous = labels.IsContiguous
            ? labels
            : throw new ArgumentException($"{op}: labels must be contiguous.");
        var index = new int[batch];
        var bytes = new byte[batch * contiguous.DType.SizeInBytes()];
        runtime.CopyToHost(contiguous.Buffer, contiguous.Offset * contiguous.DType.SizeInBytes(), bytes);
        for (int i = 0; i < batch; i++)
        {
            double label = contiguous.DType switch
            {
                DType.Float32 => BitConverter.ToSingle(bytes, i * 4),
                DType.Float64 => BitConverter.ToDouble(bytes, i * 8),
                DType.Int32 => BitConverter.ToInt32(bytes, i * 4),
                DType.Int64 => BitConverter.ToInt64(bytes, i * 8),
                DType.UInt8 => bytes[i],
                _ => throw new ArgumentException(
                    $"{op}: labels of type {contiguous.DType.Name()} are not supported; use float32, float64, " +
                    "int32, int64 or uint8."),
            };
            if (label != Math.Floor(label) || label < 0 || label >= classes)
                throw new ArgumentException(
                    $"{op}: label {label.ToString(CultureInfo.InvariantCulture)} at index {i} is out of range for " +
                    $"{classes} classes; labels must be integers in [0, {classes}).");
            index[i] = (int)label;
        }
        var buffer = runtime.Allocate(batch * sizeof(int));
        runtime.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(index.AsSpan()), buffer, 0);
        return buffer;
    }

    private static void ForwardKernel<T>(ArrayView<T> x, ArrayView<int> label, ArrayView<T> loss, int classes,
        int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = Grid.GlobalIndex.X; r < batch; r += Grid.DimX * Group.DimX)
        {
            int start = r * classes;
            T max = x[start];
            for (int j = 1; j < classes; j++)
            {
                T v = x[start + j];
                if (v > max || T.IsNaN(v)) max = v;
            }
            T sum = T.Zero;
            for (int j = 0; j < classes; j++) sum += T.Exp(x[start + j] - max);
            loss[r] = max - x[start + label[r]] + T.Log(sum);
        }
    }

    private static void BackwardKernel<T>(ArrayView<T> x, ArrayView<int> label, ArrayView<T> dloss,
        ArrayView<T> dx, int classes, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = Grid.GlobalIndex.X; r < batch; r += Grid.DimX * Group.DimX)
        {
            int start = r * classes;
            T max = x[start];
            for (int j = 1; j < classes; j++)
            {
                T v = x[start + j];
                if (v > max || T.IsNaN(v)) max = v;
            }
            T sum = T.Zero;
            for (int j = 0; j < classes; j++) sum += T.Exp(x[start + j] - max);
            T scale = dloss[r] / sum;
            for (int j = 0; j < classes; j++) dx[start + j] = T.Exp(x[start + j] - max) * scale;
            dx[start + label[r]] -= dloss[r];
        }
    }
}
