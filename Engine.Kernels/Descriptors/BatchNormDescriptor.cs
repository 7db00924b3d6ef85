namespace Engine.Kernels;

/// <summary>
/// Batch normalization of contiguous data viewed as (Outer, Channels, Inner): statistics are taken per channel
/// over the Outer * Inner values that share it. For NCHW input normalised over axis 1, Outer = N and
/// Inner = H * W; for (N, C) input Inner = 1. <see cref="ForAxis"/> computes the view from a shape.
/// </summary>
public sealed class BatchNormDescriptor
{
    private readonly double epsilon = 1e-5;
    private readonly double momentum = 0.9;

    public BatchNormDescriptor(long outer, int channels, long inner)
    {
        if (outer < 0 || channels < 0 || inner < 0)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"batch_norm: sizes must be non-negative, got (outer {outer}, channels {channels}, inner {inner}).");
        if ((Int128)outer * channels * inner > long.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"batch_norm: (outer {outer}, channels {channels}, inner {inner}) has more than 2^63 elements.");
        Outer = outer;
        Channels = channels;
        Inner = inner;
    }

    /// <summary>The descriptor that normalises <paramref name="shape"/> over <paramref name="axis"/> (MXNet's
    /// default is axis 1, the channel axis of NCHW).</summary>
    public static BatchNormDescriptor ForAxis(Shape shape, int axis = 1)
    {
        int a = shape.NormalizeAxis(axis, "batch_norm");
        return new BatchNormDescriptor(shape.SizeOf(0, a), shape[a], shape.SizeOf(a + 1, shape.Rank));
    }

    /// <summary>Product of the dimensions before the channel axis.</summary>
    public long Outer { get; }

    public int Channels { get; }

    /// <summary>Product of the dimensions after the channel axis.</summary>
    public long Inner { get; }

    /// <summary>Elements of x and y: Outer * Channels * Inner.</summary>
    public long Count => Outer * Channels * Inner;

    /// <summary>Values each channel's statistics are taken over: Outer * Inner.</summary>
    public long ReductionSize => Outer * Inner;

    /// <summary>Added to the variance before the square root. Default 1e-5 (MXNet's and PyTorch's default).</summary>
    public double Epsilon
    {
        get => epsilon;
        init
        {
            if (!double.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(nameof(Epsilon),
                    $"batch_norm: epsilon must be a finite non-negative number, got {value}; 1e-5 is usual.");
            epsilon = value;
        }
    }

    /// <summary>
    /// Weight of the old running statistics: running = running * Momentum + batch * (1 - Momentum). This is
    /// MXNet's convention (default 0.9); PyTorch's momentum m corresponds to Momentum = 1 - m.
    /// </summary>
    public double Momentum
    {
        get => momentum;
        init
        {
            if (!(value >= 0 && value <= 1))
                throw new ArgumentOutOfRangeException(nameof(Momentum),
                    $"batch_norm: momentum must be in [0, 1], got {value}; 0.9 is MXNet's default " +
                    "(PyTorch's momentum 0.1 is 0.9 here).");
            momentum = value;
        }
    }

    /// <summary>
    /// False (default, MXNet): the running variance is updated with the biased batch variance, the one used to
    /// normalise. True (PyTorch): it is updated with the unbiased variance, var * M / (M - 1).
    /// </summary>
    public bool UnbiasedRunningVar { get; init; }

    /// <summary>MXNet's fix_gamma: gamma is treated as 1 and its gradient is 0.</summary>
    public bool FixGamma { get; init; }

    public override string ToString() =>
        $"(outer {Outer}, channels {Channels}, inner {Inner}), eps {Epsilon}, momentum {Momentum}" +
        (UnbiasedRunningVar ? ", unbiased running var" : "") + (FixGamma ? ", fix_gamma" : "");
}
