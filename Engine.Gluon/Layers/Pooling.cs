using Engine.Kernels;

namespace Engine.Gluon.NN;

/// <summary>The shared body of the pooling layers (MXNet's _Pooling; alias "pool").</summary>
public abstract class PoolingLayer : HybridBlock
{
    protected PoolingLayer(PoolingMode mode, int[] poolSize, int[] strides, int[] padding, bool ceilMode,
        bool globalPool, bool countIncludePad, string? prefix) : base(prefix)
    {
        Mode = mode;
        PoolSize = poolSize;
        Strides = strides;
        Padding = padding;
        CeilMode = ceilMode;
        GlobalPool = globalPool;
        CountIncludePad = countIncludePad;
    }

    protected override string Alias => "pool";

    public PoolingMode Mode { get; }

    public int[] PoolSize { get; }

    public int[] Strides { get; }

    public int[] Padding { get; }

    public bool CeilMode { get; }

    public bool GlobalPool { get; }

    public bool CountIncludePad { get; }

    public override NDArray Forward(NDArray x) =>
        Nd.Pooling(x, PoolSize, Mode, Strides, Padding, GlobalPool,
            CeilMode ? PoolingConvention.Full : PoolingConvention.Valid, CountIncludePad);

    public override string ToString() => GlobalPool
        ? $"{GetType().Name}(size=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=True, global_pool=True, " +
          $"pool_type={(Mode == PoolingMode.Max ? "max" : "avg")}, layout=NCHW)"
        : $"{GetType().Name}(size={Ops.Format.Tuple(PoolSize)}, stride={Ops.Format.Tuple(Strides)}, " +
          $"padding={Ops.Format.Tuple(Padding)}, ceil_mode={Ops.Format.Bool(CeilMode)}, " +
          $"global_pool=False, pool_type={(Mode == PoolingMode.Max ? "max" : "avg")}, layout=NCHW)";
}

public class MaxPool2D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
    string? prefix = null)
    : PoolingLayer(PoolingMode.Max, [poolSize, poolSize], [strides ?? poolSize, strides ?? poolSize],
        [padding, padding], ceilMode, false, true, prefix);

public class AvgPool2D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
    bool countIncludePad = true, string? prefix = null)
    : PoolingLayer(PoolingMode.Avg, [poolSize, poolSize], [strides ?? poolSize, strides ?? poolSize],
        [padding, padding], ceilMode, false, countIncludePad, prefix);

public class MaxPool1D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
    string? prefix = null)
    : PoolingLayer(PoolingMode.Max, [poolSize], [strides ?? poolSize], [padding], ceilMode, false, true, prefix);

public class AvgPool1D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
    bool countIncludePad = true, string? prefix = null)
    : PoolingLayer(PoolingMode.Avg, [poolSize], [strides ?? poolSize], [padding], ceilMode, false, countIncludePad,
        prefix);

public class GlobalAvgPool2D(string? prefix = null)
    : PoolingLayer(PoolingMode.Avg, [1, 1], [1, 1], [0, 0], true, true, true, prefix);

public class GlobalMaxPool2D(string? prefix = null)
    : PoolingLayer(PoolingMode.Max, [1, 1], [1, 1], [0, 0], true, true, true, prefix);
