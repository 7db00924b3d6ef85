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

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank != PoolSize.Length + 2)
            throw new ArgumentException(
                $"{GetType().Name} '{Name}': expects input of rank {PoolSize.Length + 2} " +
                $"({ConvolutionBlock.LayoutText(PoolSize.Length)}), got shape {x.Shape}.");
        return Nd.Pooling(x, PoolSize, Mode, Strides, Padding, GlobalPool,
            CeilMode ? PoolingConvention.Full : PoolingConvention.Valid, CountIncludePad);
    }

    public override string ToString()
    {
        string type = Mode == PoolingMode.Max ? "max" : "avg";
        string layout = PoolSize.Length switch { 1 => "NCW", 3 => "NCDHW", _ => "NCHW" };
        var ones = Enumerable.Repeat(1, PoolSize.Length).ToArray();
        return GlobalPool
            ? $"{GetType().Name}(size={Ops.Format.Tuple(ones)}, stride={Ops.Format.Tuple(ones)}, " +
              $"padding={Ops.Format.Tuple(new int[PoolSize.Length])}, ceil_mode=True, global_pool=True, " +
              $"pool_type={type}, layout={layout})"
            : $"{GetType().Name}(size={Ops.Format.Tuple(PoolSize)}, stride={Ops.Format.Tuple(Strides)}, " +
              $"padding={Ops.Format.Tuple(Padding)}, ceil_mode={Ops.Format.Bool(CeilMode)}, " +
              $"global_pool=False, pool_type={type}, layout={layout})";
    }
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

/// <summary>3-D max pooling over NCDHW input (MXNet's nn.MaxPool3D).</summary>
public class MaxPool3D : PoolingLayer
{
    public MaxPool3D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
        string? prefix = null)
        : this((poolSize, poolSize, poolSize), Cube(strides ?? poolSize), Cube(padding), ceilMode, prefix) { }

    public MaxPool3D((int D, int H, int W) poolSize, (int D, int H, int W) strides, (int D, int H, int W) padding,
        bool ceilMode = false, string? prefix = null)
        : base(PoolingMode.Max, [poolSize.D, poolSize.H, poolSize.W], [strides.D, strides.H, strides.W],
            [padding.D, padding.H, padding.W], ceilMode, false, true, prefix) { }

    internal static (int, int, int) Cube(int v) => (v, v, v);
}

/// <summary>3-D average pooling over NCDHW input (MXNet's nn.AvgPool3D).</summary>
public class AvgPool3D : PoolingLayer
{
    public AvgPool3D(int poolSize = 2, int? strides = null, int padding = 0, bool ceilMode = false,
        bool countIncludePad = true, string? prefix = null)
        : this((poolSize, poolSize, poolSize), MaxPool3D.Cube(strides ?? poolSize), MaxPool3D.Cube(padding),
            ceilMode, countIncludePad, prefix) { }

    public AvgPool3D((int D, int H, int W) poolSize, (int D, int H, int W) strides, (int D, int H, int W) padding,
        bool ceilMode = false, bool countIncludePad = true, string? prefix = null)
        : base(PoolingMode.Avg, [poolSize.D, poolSize.H, poolSize.W], [strides.D, strides.H, strides.W],
            [padding.D, padding.H, padding.W], ceilMode, false, countIncludePad, prefix) { }
}

public class GlobalAvgPool1D(string? prefix = null)
    : PoolingLayer(PoolingMode.Avg, [1], [1], [0], true, true, true, prefix);

public class GlobalMaxPool1D(string? prefix = null)
    : PoolingLayer(PoolingMode.Max, [1], [1], [0], true, true, true, prefix);

public class GlobalAvgPool3D(string? prefix = null)
    : PoolingLayer(PoolingMode.Avg, [1, 1, 1], [1, 1, 1], [0, 0, 0], true, true, true, prefix);

public class GlobalMaxPool3D(string? prefix = null)
    : PoolingLayer(PoolingMode.Max, [1, 1, 1], [1, 1, 1], [0, 0, 0], true, true, true, prefix);
