using System.Numerics;
using System.Runtime.InteropServices;

namespace Engine.Kernels.Cpu;

/// <summary>
/// 2-D (and 1-D) convolution on the CPU, NCHW, as described by a <see cref="ConvolutionDescriptor"/>: forward,
/// and the three gradients of backward. Two implementations of each pass, chosen per layer:
/// <list type="bullet">
/// <item>packed (CpuConvolution.Packed.cs): im2col of a block of images into a reused buffer, then the engine's
/// packed GEMM (<see cref="CpuGemm"/>) over the whole block; the fast path for every layer with a few output
/// channels per group or more;</item>
/// <item>tiles (CpuConvolution.Tiles.cs): small im2col tiles multiplied by an unpacked register-blocked product
/// (CpuConvolution.Gemm.cs), for layers whose products are too thin to repay packing (depthwise ones).</item>
/// </list>
/// Both split work so that every result element is summed in an order fixed by the descriptor alone: results are
/// the same for any thread count.
/// </summary>
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// y = conv(x, w) + bias. x is (N, C, H, W), w is (K, C / groups, R, S), bias is (K,) or empty for none, and
    /// y (N, K, OH, OW) is overwritten.
    /// </summary>
    public static void Forward<T>(ConvolutionDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
        ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireElementType<T>(desc);
        RequireLength(desc, "input", x.Length, desc.InputSize, desc.InputShape, nameof(x));
        RequireLength(desc, "weight", w.Length, desc.WeightSize, desc.WeightShape, nameof(w));
        if (bias.Length != 0 && bias.Length != desc.OutChannels)
            throw new ArgumentException(
                $"{desc.Op}: bias has {bias.Length} elements but needs {desc.OutChannels} (one per output channel), " +
                "or none for no bias.", nameof(bias));
        RequireLength(desc, "output", y.Length, desc.OutputSize, desc.OutputShape, nameof(y));
        RequireDisjoint(desc, y, "output", x, "input", nameof(y));
        RequireDisjoint(desc, y, "output", w, "weight", nameof(y));
        RequireDisjoint(desc, y, "output", bias, "bias", nameof(y));
        if (IsDense(desc))
        {
            ForwardDense(desc, x, w, bias, y);
            return;
        }
        fixed (T* px = x, pw = w, pb = bias, py = y)
        {
            T* pbias = bias.IsEmpty ? null : pb;
            LastPath = CpuConvolutionPath.Direct;
            if (UseDirect(desc, Pass.Forward) && TryForwardDirect(desc, px, pw, pbias, py)) return;
            LastPath = UsePacked(desc) ? CpuConvolutionPath.Packed : CpuConvolutionPath.Tiles;
            if (UsePacked(desc)) ForwardPacked(desc, px, pw, pbias, py);
            else ForwardTiles(desc, px, pw, pbias, py);
        }
    }

    /// <summary>dx = d(loss)/dx given dy = d(loss)/dy and the weight; dx (N, C, H, W) is overwritten.</summary>
    public static void BackwardData<T>(ConvolutionDescriptor desc, ReadOnlySpan<T> dy, ReadOnlySpan<T> w, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireElementType<T>(desc);
        RequireLength(desc, "output gradient (dy)", dy.Length, desc.OutputSize, desc.OutputShape, nameof(dy));
        RequireLength(desc, "weight", w.Length, desc.WeightSize, desc.WeightShape, nameof(w));
        RequireLength(desc, "input gradient (dx)", dx.Length, desc.InputSize, desc.InputShape, nameof(dx));
        RequireDisjoint(desc, dx, "input gradient (dx)", dy, "output gradient (dy)", nameof(dx));
        RequireDisjoint(desc, dx, "input gradient (dx)", w, "weight", nameof(dx));
        if (IsDense(desc))
        {
            BackwardDataDense(desc, dy, w, dx);
            return;
        }
        fixed (T* pdy = dy, pw = w, pdx = dx)
        {
            LastPath = CpuConvolutionPath.Direct;
            if (UseDirect(desc, Pass.BackwardData) && TryBackwardDataDirect(desc, pdy, pw, pdx)) return;
            LastPath = UsePacked(desc) ? CpuConvolutionPath.Packed : CpuConvolutionPath.Tiles;
            if (UsePacked(desc)) BackwardDataPacked(desc, pdy, pw, pdx);
            else BackwardDataTiles(desc, pdy, pw, pdx);
        }
    }

    /// <summary>
    /// dw = d(loss)/dw given the input x and dy = d(loss)/dy; dw (K, C / groups, R, S) is overwritten.
    /// </summary>
    public static void BackwardWeight<T>(ConvolutionDescriptor desc, ReadOnlySpan<T> x, ReadOnlySpan<T> dy,
        Span<T> dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireElementType<T>(desc);
        RequireLength(desc, "input", x.Length, desc.InputSize, desc.InputShape, nameof(x));
        RequireLength(desc, "output gradient (dy)", dy.Length, desc.OutputSize, desc.OutputShape, nameof(dy));
        RequireLength(desc, "weight gradient (dw)", dw.Length, desc.WeightSize, desc.WeightShape, nameof(dw));
        RequireDisjoint(desc, dw, "weight gradient (dw)", x, "input", nameof(dw));
        RequireDisjoint(desc, dw, "weight gradient (dw)", dy, "output gradient (dy)", nameof(dw));
        if (IsDense(desc))
        {
            BackwardWeightDense(desc, x, dy, dw);
            return;
        }
        fixed (T* px = x, pdy = dy, pdw = dw)
        {
            LastPath = CpuConvolutionPath.Direct;
            if (UseDirect(desc, Pass.BackwardWeight) && TryBackwardWeightDirect(desc, px, pdy, pdw)) return;
            LastPath = UsePacked(desc) ? CpuConvolutionPath.Packed : CpuConvolutionPath.Tiles;
            if (UsePacked(desc)) BackwardWeightPacked(desc, px, pdy, pdw);
            else BackwardWeightTiles(desc, px, pdy, pdw);
        }
    }

    /// <summary>db = d(loss)/d(bias): dy summed over the batch and the output pixels; db (K,) is overwritten.</summary>
    public static void BackwardBias<T>(ConvolutionDescriptor desc, ReadOnlySpan<T> dy, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(desc);
        RequireElementType<T>(desc);
        RequireLength(desc, "output gradient (dy)", dy.Length, desc.OutputSize, desc.OutputShape, nameof(dy));
        RequireLength(desc, "bias gradient (db)", db.Length, desc.OutChannels, desc.BiasShape, nameof(db));
        RequireDisjoint(desc, db, "bias gradient (db)", dy, "output gradient (dy)", nameof(db));
        fixed (T* pdy = dy, pdb = db)
            BackwardBiasCore(desc, pdy, pdb);
    }

    // Backward bias, per output channel: the sum of its dy plane over the batch, image by image.
    private static void BackwardBiasCore<T>(ConvolutionDescriptor d, T* dy, T* db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pixels = d.OutHeight * d.OutWidth, k = d.OutChannels;
        nint dys = (nint)dy, dbs = (nint)db;
        CpuParallel.For(k, Grain((long)d.Batch * pixels), (start, end) =>
        {
            for (long c = start; c < end; c++)
            {
                T sum = T.Zero;
                for (int n = 0; n < d.Batch; n++) sum += SumRow((T*)dys + ((long)n * k + c) * pixels, pixels);
                ((T*)dbs)[c] = sum;
            }
        });
    }

    /// <summary>
    /// The implementation the last Forward, BackwardData or BackwardWeight call on this thread ran (not set for
    /// dense layers, which are one GEMM): tests check what the automatic choice picks on each instruction set.
    /// </summary>
    [ThreadStatic]
    internal static CpuConvolutionPath LastPath;

    /// <summary>
    /// Tests set this to run one implementation on every layer; Auto lets <see cref="UsePacked"/> choose.
    /// </summary>
    internal static CpuConvolutionPath Path { get; set; } = CpuConvolutionPath.Auto;

    /// <summary>
    /// Whether the direct kernels may run this pass of this layer (they run it when it also has a direct plan: float
    /// with AVX-512 or AVX2 + FMA). Measured on LeNet, ResNet-18 and depthwise layers, they win every forward pass;
    /// backward data except with few input channels and no groups (LeNet's layers: the transposed convolution then
    /// has a 1- to 6-channel output, whose input staging costs more than the product); and backward weight while the
    /// weight gradient is small (LeNet, ResNet's stem and downsampling layers, depthwise): larger ones stream the
    /// column rows from L2 for each block, where the packed GEMM is faster. With AVX2's 8-wide vectors (Ice Lake-SP,
    /// AVX-512 hidden, one thread, interleaved with the packed path) two of these turn: planes of under four
    /// vectors (ResNet's 4x4 layers, forward and backward data) ran 1.05-1.2x the packed path's time, and the weight
    /// gradient of ResNet's stem (64 output channels) 1.15-1.45x, while LeNet's (6 and 16 channels) stayed 1.1-3.7x
    /// faster; so with AVX2 those passes take the packed path.
    /// </summary>
    private static bool UseDirect(ConvolutionDescriptor d, Pass pass) => Path switch
    {
        CpuConvolutionPath.Direct => true,
        CpuConvolutionPath.Auto => pass switch
        {
            Pass.BackwardData => (d.InChannelsPerGroup >= 8 || d.Groups > 1) &&
                (DirectWidth > 8 || d.InHeight * d.InWidth >= 32),
            Pass.BackwardWeight => d.WeightSize / d.Groups <= DirectWeightGradientElements &&
                (DirectWidth > 8 || d.OutChannelsPerGroup <= 16),
            _ => DirectWidth > 8 || d.OutHeight * d.OutWidth >= 32,
        },
        _ => false,
    };

    /// <summary>The passes, for <see cref="UseDirect"/>.</summary>
    private enum Pass
    {
        Forward,
        BackwardData,
        BackwardWeight,
    }

    /// <summary>
    /// Whether the packed GEMM path runs this layer (when the direct one does not). It needs a few output channels
    /// per group to fill the GEMM's 6-row micro-kernel, and enough depth (input channels x taps per group) to repay
    /// packing.
    /// </summary>
    private static bool UsePacked(ConvolutionDescriptor d) => Path switch
    {
        CpuConvolutionPath.Packed => true,
        CpuConvolutionPath.Tiles => false,
        _ => d.OutChannelsPerGroup >= PackedMinOutChannels,
    };

    /// <summary>A 1x1 convolution with stride 1 and no padding: its im2col matrix is the input itself.</summary>
    private static bool IsPointwise(ConvolutionDescriptor d) =>
        d.KernelH == 1 && d.KernelW == 1 && d.StrideH == 1 && d.StrideW == 1 && d.PadH == 0 && d.PadW == 0;

    private static T* Allocate<T>(long count) where T : unmanaged =>
        (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, count * sizeof(T)), 64);

    private static void Free<T>(T* p) where T : unmanaged
    {
        if (p != null) NativeMemory.AlignedFree(p);
    }

    private static void RequireElementType<T>(ConvolutionDescriptor d)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException(
                $"{d.Op}: element type {typeof(T).Name} is not supported; use float or double.");
    }

    private static void RequireLength(ConvolutionDescriptor d, string what, int length, long expected, Shape shape,
        string param)
    {
        if (length != expected)
            throw new ArgumentException(
                $"{d.Op}: {what} has {length} elements but {d} needs {expected} for shape {shape}; " +
                "pass a buffer of exactly that size.", param);
    }

    private static void RequireDisjoint<T>(ConvolutionDescriptor d, ReadOnlySpan<T> output, string outputName,
        ReadOnlySpan<T> input, string inputName, string param)
    {
        if (output.Overlaps(input))
            throw new ArgumentException(
                $"{d.Op}: the {outputName} buffer overlaps the {inputName}; pass separate buffers.", param);
    }
}
