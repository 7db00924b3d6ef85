using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>
/// y[n, c, ...] += bias[c] over an (N, C, spatial...) array: the bias of the transposed convolutions, whose product
/// comes from a data-gradient kernel that has no bias term of its own.
/// </summary>
public static class CpuChannelBias
{
    // Elements per parallel chunk: below about 64K, handing work to another thread costs more than it saves.
    private const long MinElementsPerChunk = 1 << 16;

    /// <summary>Adds bias[c] to every element of channel c; y holds batch x channels planes of planeSize.</summary>
    public static unsafe void Add<T>(int batch, int channels, long planeSize, ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bias.Length != channels)
            throw new ArgumentException(
                $"channel_bias: bias has {bias.Length} elements but the output has {channels} channels.");
        if (y.Length != (long)batch * channels * planeSize)
            throw new ArgumentException(
                $"channel_bias: output has {y.Length} elements, not {batch} x {channels} x {planeSize}.");
        if (planeSize == 0) return;
        fixed (T* pb = bias, py = y)
        {
            nint bs = (nint)pb, ys = (nint)py;
            CpuParallel.For((long)batch * channels, Math.Max(1, MinElementsPerChunk / planeSize), (start, end) =>
            {
                for (long p = start; p < end; p++)
                {
                    var plane = new Span<T>((T*)ys + p * planeSize, (int)planeSize);
                    T b = ((T*)bs)[p % channels];
                    int i = 0;
                    if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
                    {
                        var vb = new Vector<T>(b);
                        var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<T, Vector<T>>(plane);
                        for (int v = 0; v < vectors.Length; v++) vectors[v] += vb;
                        i = vectors.Length * Vector<T>.Count;
                    }
                    for (; i < plane.Length; i++) plane[i] += b;
                }
            });
        }
    }
}
