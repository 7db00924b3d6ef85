namespace Engine.Kernels;

/// <summary>
/// A 3-D pooling over NCDHW data: input (N, C, D, H, W), output (N, C, OD, OH, OW), with the semantics of the 2-D
/// <see cref="PoolingDescriptor"/> on every axis (MXNet's valid / full output size, padding at most half the kernel,
/// max ignores padding, the average divides by the window clipped to the padded input with count_include_pad or by
/// the input elements in it without, a 'full' window that holds no input element yields 0). The constructor
/// validates everything; errors start with max_pool3d or avg_pool3d.
/// </summary>
public sealed class Pooling3DDescriptor
{
    /// <summary>Describes a 3-D pooling; throws an ArgumentException naming the op for any invalid setting.</summary>
    public Pooling3DDescriptor(PoolingMode mode, int n, int c, Size3 input, Size3 kernel, Size3 stride, Size3 pad,
        PoolingConvention convention = PoolingConvention.Valid, bool countIncludePad = true)
        : this(mode, n, c, input, kernel, stride, pad, convention, countIncludePad, isGlobal: false)
    {
    }

    private Pooling3DDescriptor(PoolingMode mode, int n, int c, Size3 input, Size3 kernel, Size3 stride, Size3 pad,
        PoolingConvention convention, bool countIncludePad, bool isGlobal)
    {
        if (mode is not (PoolingMode.Max or PoolingMode.Avg))
            throw new ArgumentOutOfRangeException(nameof(mode),
                $"pooling: unknown pooling mode {(int)mode}; use PoolingMode.Max or PoolingMode.Avg.");
        if (convention is not (PoolingConvention.Valid or PoolingConvention.Full))
            throw new ArgumentOutOfRangeException(nameof(convention),
                $"pooling: unknown pooling convention {(int)convention}; " +
                "use PoolingConvention.Valid (floor) or PoolingConvention.Full (ceil).");
        Mode = mode;
        string op = OpName;
        if (n < 0 || c < 0 || input.Any(v => v < 0))
            throw new ArgumentOutOfRangeException(nameof(input),
                $"{op}: input dimensions must be non-negative, got (N, C) = ({n}, {c}) and (D, H, W) = {input}.");
        if (isGlobal && input.Volume == 0)
            throw new ArgumentException(
                $"{op}: global pooling needs a non-empty volume, got (D, H, W) = {input}; there is nothing to pool.");
        string[] axes = ["depth ", "height ", "width "];
        var output = new int[3];
        for (int a = 0; a < 3; a++)
        {
            int k = kernel[a], s = stride[a], p = pad[a];
            if (k <= 0)
                throw new ArgumentOutOfRangeException(nameof(kernel),
                    $"{op}: kernel {axes[a]}must be positive, got {k}.");
            if (s <= 0)
                throw new ArgumentOutOfRangeException(nameof(stride),
                    $"{op}: stride {axes[a]}must be positive, got {s}; a window must move at least one element.");
            if (p < 0)
                throw new ArgumentOutOfRangeException(nameof(pad),
                    $"{op}: padding {axes[a]}must be non-negative, got {p}.");
            if (p > k / 2)
                throw new ArgumentException(
                    $"{op}: padding {axes[a]}{p} is more than half the kernel {axes[a]}{k}; a window could then hold " +
                    $"only padding. Use padding at most {k / 2} (kernel / 2, as PyTorch requires) or a larger kernel.");
            long span = input[a] + 2L * p - k;
            if (span < 0)
                throw new ArgumentException(
                    $"{op}: kernel {axes[a]}{k} is larger than the padded input {axes[a]}{input[a] + 2L * p} " +
                    $"(input {input[a]} + 2 * padding {p}); use a smaller kernel, more padding, or global pooling.");
            // MXNet: valid = floor((in + 2p - k) / s) + 1, full = ceil((in + 2p - k) / s) + 1.
            long steps = convention == PoolingConvention.Valid ? span / s : (span + s - 1) / s;
            output[a] = checked((int)(steps + 1));
        }
        N = n;
        C = c;
        Input = input;
        Kernel = kernel;
        Stride = stride;
        Pad = pad;
        Convention = convention;
        CountIncludePad = countIncludePad;
        IsGlobal = isGlobal;
        Output = new Size3(output[0], output[1], output[2]);
    }

    /// <summary>Pools the whole D x H x W volume of each channel to one value: output (N, C, 1, 1, 1).</summary>
    public static Pooling3DDescriptor Global(PoolingMode mode, int n, int c, Size3 input) =>
        new(mode, n, c, input, input, Size3.All(1), Size3.All(0), PoolingConvention.Valid, true, isGlobal: true);

    public PoolingMode Mode { get; }

    public int N { get; }

    public int C { get; }

    public Size3 Input { get; }

    public Size3 Kernel { get; }

    public Size3 Stride { get; }

    public Size3 Pad { get; }

    public PoolingConvention Convention { get; }

    /// <summary>For Avg: whether padded positions count in the divisor (MXNet's default, true).</summary>
    public bool CountIncludePad { get; }

    public bool IsGlobal { get; }

    public Size3 Output { get; }

    /// <summary>max_pool3d or avg_pool3d: the name errors start with.</summary>
    public string OpName => Mode == PoolingMode.Max ? "max_pool3d" : "avg_pool3d";

    public Shape InputShape => new(N, C, Input.D, Input.H, Input.W);

    public Shape OutputShape => new(N, C, Output.D, Output.H, Output.W);

    public long InputLength => (long)N * C * Input.Volume;

    public long OutputLength => (long)N * C * Output.Volume;

    public override string ToString() => IsGlobal
        ? $"{OpName}(global) on input {InputShape}"
        : $"{OpName}(kernel {Kernel}, stride {Stride}, pad {Pad}, " +
          $"{(Convention == PoolingConvention.Valid ? "valid" : "full")}) on input {InputShape}";
}
