namespace Engine.Kernels;

/// <summary>What a pooling window computes.</summary>
public enum PoolingMode
{
    /// <summary>The largest element of the window; padding counts as -infinity.</summary>
    Max,

    /// <summary>The mean of the window; padding counts as zero, and in the divisor per CountIncludePad.</summary>
    Avg,
}

/// <summary>How the output size rounds when the windows do not tile the padded input exactly (MXNet's
/// <c>pooling_convention</c>).</summary>
public enum PoolingConvention
{
    /// <summary>MXNet 'valid': out = floor((in + 2 * pad - kernel) / stride) + 1; every window lies inside the
    /// padded input.</summary>
    Valid,

    /// <summary>MXNet 'full': out = ceil((in + 2 * pad - kernel) / stride) + 1; the last window may run past the
    /// padded input and is clipped.</summary>
    Full,
}

/// <summary>
/// A 2-D pooling over NCHW data (1-D is the case H = 1): input (N, C, H, W), output (N, C, OutH, OutW). Padding is
/// symmetric (PadH rows above and below, PadW columns left and right). Device neutral; the constructor validates
/// everything, so kernels only check buffer lengths against <see cref="InputLength"/> and
/// <see cref="OutputLength"/>.
/// </summary>
/// <remarks>
/// Semantics follow MXNet's Pooling operator:
/// <list type="bullet">
/// <item>Output size: see <see cref="PoolingConvention"/>. With 'full', when the stride exceeds the kernel the last
/// window can hold no input element at all (PyTorch's ceil_mode drops such a window; MXNet keeps it). It is kept
/// here, so shapes match MXNet, and it yields 0 and receives no gradient.</item>
/// <item>Padding is at most half the kernel (PyTorch's rule), so every 'valid' window holds an input element.</item>
/// <item>Average divisor: with CountIncludePad, the window size clipped to the padded input (so a 'full' window
/// running past it is not divided by the whole kernel); without, the number of input elements in the window.</item>
/// <item>Global pooling: the kernel is the whole H x W plane, stride 1, no padding; the output is (N, C, 1, 1).</item>
/// </list>
/// </remarks>
public sealed class PoolingDescriptor
{
    /// <summary>Describes a 2-D pooling; throws an ArgumentException naming the op for any invalid setting.</summary>
    public PoolingDescriptor(
        PoolingMode mode, int n, int c, int h, int w,
        int kernelH, int kernelW, int strideH, int strideW, int padH = 0, int padW = 0,
        PoolingConvention convention = PoolingConvention.Valid, bool countIncludePad = true)
        : this(mode, n, c, h, w, kernelH, kernelW, strideH, strideW, padH, padW, convention, countIncludePad,
            isGlobal: false, is1d: false)
    {
    }

    private PoolingDescriptor(
        PoolingMode mode, int n, int c, int h, int w,
        int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
        PoolingConvention convention, bool countIncludePad, bool isGlobal, bool is1d)
    {
        if (mode is not (PoolingMode.Max or PoolingMode.Avg))
            throw new ArgumentOutOfRangeException(nameof(mode),
                $"pooling: unknown pooling mode {(int)mode}; use PoolingMode.Max or PoolingMode.Avg.");
        if (convention is not (PoolingConvention.Valid or PoolingConvention.Full))
            throw new ArgumentOutOfRangeException(nameof(convention),
                $"pooling: unknown pooling convention {(int)convention}; " +
                "use PoolingConvention.Valid (floor) or PoolingConvention.Full (ceil).");
        Mode = mode;
        IsGlobal = isGlobal;
        Is1d = is1d;
        string op = OpName;
        if (n < 0 || c < 0 || h < 0 || w < 0)
            throw new ArgumentOutOfRangeException(
                n < 0 ? nameof(n) : c < 0 ? nameof(c) : h < 0 ? nameof(h) : nameof(w),
                $"{op}: input dimensions must be non-negative, got (N, C, H, W) = ({n}, {c}, {h}, {w}).");
        if (isGlobal && ((long)h * w == 0))
            throw new ArgumentException(
                $"{op}: global pooling needs a non-empty plane, got H = {h}, W = {w}; " +
                "there is nothing to pool over.");

        CheckAxis(op, is1d ? "" : "height ", h, kernelH, strideH, padH);
        CheckAxis(op, is1d ? "" : "width ", w, kernelW, strideW, padW);

        N = n;
        C = c;
        H = h;
        W = w;
        KernelH = kernelH;
        KernelW = kernelW;
        StrideH = strideH;
        StrideW = strideW;
        PadH = padH;
        PadW = padW;
        Convention = convention;
        CountIncludePad = countIncludePad;
        OutH = OutputSize(h, kernelH, strideH, padH, convention);
        OutW = OutputSize(w, kernelW, strideW, padW, convention);
    }

    /// <summary>Pools the whole H x W plane of each channel to one value: output (N, C, 1, 1).</summary>
    public static PoolingDescriptor Global(PoolingMode mode, int n, int c, int h, int w) =>
        new(mode, n, c, h, w, h, w, 1, 1, 0, 0, PoolingConvention.Valid, countIncludePad: true,
            isGlobal: true, is1d: false);

    /// <summary>1-D pooling over (N, C, W): the 2-D descriptor with H = 1 and a 1 x kernel window.</summary>
    public static PoolingDescriptor Pool1d(
        PoolingMode mode, int n, int c, int w, int kernel, int stride, int pad = 0,
        PoolingConvention convention = PoolingConvention.Valid, bool countIncludePad = true) =>
        new(mode, n, c, 1, w, 1, kernel, 1, stride, 0, pad, convention, countIncludePad,
            isGlobal: false, is1d: true);

    public PoolingMode Mode { get; }

    public int N { get; }

    public int C { get; }

    public int H { get; }

    public int W { get; }

    public int KernelH { get; }

    public int KernelW { get; }

    public int StrideH { get; }

    public int StrideW { get; }

    public int PadH { get; }

    public int PadW { get; }

    public PoolingConvention Convention { get; }

    /// <summary>For Avg: whether padded positions count in the divisor (MXNet's default, true).</summary>
    public bool CountIncludePad { get; }

    /// <summary>The kernel covers the whole plane (see <see cref="Global"/>).</summary>
    public bool IsGlobal { get; }

    /// <summary>Made by <see cref="Pool1d"/>: H = 1 and messages speak of a 1-D pooling.</summary>
    public bool Is1d { get; }

    public int OutH { get; }

    public int OutW { get; }

    /// <summary>The name errors start with: max_pool2d, avg_pool2d (max_pool1d, avg_pool1d for 1-D).</summary>
    public string OpName => (Mode == PoolingMode.Max ? "max_pool" : "avg_pool") + (Is1d ? "1d" : "2d");

    public Shape InputShape => Is1d ? new Shape(N, C, W) : new Shape(N, C, H, W);

    public Shape OutputShape => Is1d ? new Shape(N, C, OutW) : new Shape(N, C, OutH, OutW);

    /// <summary>N * C * H * W: the elements of x and dx.</summary>
    public long InputLength => (long)N * C * H * W;

    /// <summary>N * C * OutH * OutW: the elements of y and dy.</summary>
    public long OutputLength => (long)N * C * OutH * OutW;

    public override string ToString()
    {
        string conv = Convention == PoolingConvention.Valid ? "valid" : "full";
        if (IsGlobal) return $"{OpName}(global) on input {InputShape}";
        if (Is1d)
            return $"{OpName}(kernel {KernelW}, stride {StrideW}, pad {PadW}, {conv}) on input {InputShape}";
        return $"{OpName}(kernel ({KernelH}, {KernelW}), stride ({StrideH}, {StrideW}), pad ({PadH}, {PadW}), " +
            $"{conv}) on input {InputShape}";
    }

    // Checks one spatial axis; `axis` is "height ", "width " or "" (1-D).
    private static void CheckAxis(string op, string axis, int size, int kernel, int stride, int pad)
    {
        if (kernel <= 0)
            throw new ArgumentOutOfRangeException(nameof(kernel),
                $"{op}: kernel {axis}must be positive, got {kernel}.");
        if (stride <= 0)
            throw new ArgumentOutOfRangeException(nameof(stride),
                $"{op}: stride {axis}must be positive, got {stride}; a window must move at least one element.");
        if (pad < 0)
            throw new ArgumentOutOfRangeException(nameof(pad),
                $"{op}: padding {axis}must be non-negative, got {pad}.");
        if (pad > kernel / 2)
            throw new ArgumentException(
                $"{op}: padding {axis}{pad} is more than half the kernel {axis}{kernel}; a window could then hold " +
                $"only padding. Use padding at most {kernel / 2} (kernel / 2, as PyTorch requires) or a larger " +
                "kernel.");
        long padded = size + 2L * pad;
        if (kernel > padded)
            throw new ArgumentException(
                $"{op}: kernel {axis}{kernel} is larger than the padded input {axis}{padded} " +
                $"(input {size} + 2 * padding {pad}); use a smaller kernel, more padding, or global pooling.");
    }

    // MXNet: valid = floor((in + 2p - k) / s) + 1, full = ceil((in + 2p - k) / s) + 1; the numerator is >= 0 here.
    private static int OutputSize(int size, int kernel, int stride, int pad, PoolingConvention convention)
    {
        long span = size + 2L * pad - kernel;
        long steps = convention == PoolingConvention.Valid ? span / stride : (span + stride - 1) / stride;
        return checked((int)(steps + 1));
    }
}
