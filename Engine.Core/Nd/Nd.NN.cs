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
}
