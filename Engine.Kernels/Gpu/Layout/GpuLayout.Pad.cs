using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

public static partial class GpuLayout
{
    /// <summary>
    /// Pads the contiguous <paramref name="input"/> into the contiguous <paramref name="output"/> of
    /// <see cref="Cpu.CpuLayout.PadShape"/>'s shape: one thread per output element gathers its source.
    /// </summary>
    public static void Pad<T>(GpuRuntime runtime, in TensorArg input, ReadOnlySpan<int> padBefore,
        ReadOnlySpan<int> padAfter, PadMode mode, T value, in TensorArg output) where T : unmanaged
    {
        const string op = "pad";
        var outShape = Cpu.CpuLayout.PadShape(input.Shape, padBefore, padAfter, mode);
        if (output.Shape != outShape)
            throw new ArgumentException(
                $"{op}: the output is {output.Shape}, but padding {input.Shape} gives {outShape}.");
        var xv = input.Elements<T>(runtime, op);
        var yv = output.Elements<T>(runtime, op);
        int n = (int)output.Size;
        if (n == 0) return;
        var geometry = PadGeometry.Create(input.Shape, outShape, padBefore, mode);
        runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, PadGeometry, T, int>(PadKernel<T>)(runtime.Stream,
            runtime.GridStride(n), xv, yv, geometry, value, n);
    }

    /// <summary>
    /// The gradient of <see cref="Pad{T}"/>: dx[i] sums dy over every output that read input i. Padding is
    /// separable, so its transpose runs one axis at a time: each padded axis shrinks back to the input's size with a
    /// gather (interior, plus the edge or mirrored border positions), through scratch between axes.
    /// </summary>
    public static void PadBackward<T>(GpuRuntime runtime, in TensorArg dy, ReadOnlySpan<int> padBefore,
        ReadOnlySpan<int> padAfter, PadMode mode, in TensorArg dx) where T : unmanaged, INumber<T>
    {
        const string op = "pad_backward";
        var outShape = Cpu.CpuLayout.PadShape(dx.Shape, padBefore, padAfter, mode);
        if (dy.Shape != outShape)
            throw new ArgumentException($"{op}: dy is {dy.Shape}, but padding {dx.Shape} gives {outShape}.");
        var current = dy.Elements<T>(runtime, op);
        var dims = outShape.ToArray();
        var scratch = new List<Memory.DeviceBuffer>();
        try
        {
            int last = -1;
            for (int a = 0; a < dims.Length; a++)
                if (padBefore[a] != 0 || padAfter[a] != 0) last = a;
            if (last < 0)
            {
                Copy(runtime, dy, dx);
                return;
            }
            for (int a = 0; a <= last; a++)
            {
                if (padBefore[a] == 0 && padAfter[a] == 0) continue;
                int outer = 1, inner = 1;
                for (int d = 0; d < a; d++) outer *= dims[d];
                for (int d = a + 1; d < dims.Length; d++) inner *= dims[d];
                int from = dims[a], to = dx.Shape[a];
                ArrayView<T> next;
                if (a == last)
                {
                    next = dx.Elements<T>(runtime, op);
                }
                else
                {
                    long bytes = (long)outer * to * inner * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                    var buffer = runtime.Allocate(bytes);
                    scratch.Add(buffer);
                    next = ((GpuBuffer)buffer).View<T>().SubView(0, (long)outer * to * inner);
                }
                int n = outer * to * inner;
                if (n > 0)
                {
                    runtime.Kernels.Load<ArrayView<T>, ArrayView<T>, int, int, int, int, int, int>(
                        PadBackwardAxisKernel<T>)(runtime.Stream, runtime.GridStride(n), current, next, from, to,
                        inner, padBefore[a], (int)mode, n);
                }
                current = next;
                dims[a] = to;
            }
        }
        finally
        {
            // Stream order keeps the scratch valid for the kernels already queued.
            foreach (var b in scratch) b.Dispose();
        }
    }

    private static void PadKernel<T>(ArrayView<T> x, ArrayView<T> y, PadGeometry g, T value, int n)
        where T : unmanaged
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int s = g.Source(i);
            y[i] = s < 0 ? value : x[s];
        }
    }

    /// <summary>
    /// One axis of the pad transpose: next[o, k, i] = sum of current[o, j, i] over the output positions j (of
    /// <paramref name="from"/>) that read input position k (of <paramref name="to"/>).
    /// </summary>
    private static void PadBackwardAxisKernel<T>(ArrayView<T> current, ArrayView<T> next, int from, int to,
        int inner, int before, int mode, int n) where T : unmanaged, INumber<T>
    {
        for (int u = Grid.GlobalIndex.X; u < n; u += Grid.DimX * Group.DimX)
        {
            int i = u % inner;
            int rest = u / inner;
            int k = rest % to;
            int o = rest / to;
            int rowStart = o * from * inner + i;
            T sum = current[rowStart + (k + before) * inner];
            if (mode == 1)
            {
                // Edge: the border before the start reads element 0, the border past the end the last element.
                if (k == 0)
                    for (int j = 0; j < before; j++) sum += current[rowStart + j * inner];
                if (k == to - 1)
                    for (int j = before + to; j < from; j++) sum += current[rowStart + j * inner];
            }
            else if (mode == 2)
            {
                // Reflect: output j before the start reads before - j; past the end, 2 (to - 1) - (j - before).
                if (k >= 1 && k <= before) sum += current[rowStart + (before - k) * inner];
                int mirrored = before + 2 * (to - 1) - k;
                if (k < to - 1 && mirrored < from && mirrored >= before + to)
                    sum += current[rowStart + mirrored * inner];
            }
            next[u] = sum;
        }
    }
}
