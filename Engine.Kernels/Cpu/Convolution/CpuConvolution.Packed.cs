using System.Numerics;
using Engine.Memory;

namespace Engine.Kernels.Cpu;

// The packed path: each pass is a product of the engine's packed GEMM (CpuGemm) per group g over a block of
// columns, where a block is several whole images side by side (image i of the block at columns i * OH * OW) or,
// when one image's im2col matrix does not fit the budget, a range of one image's output pixels:
// - forward:          y_g (K/g x cols) = w_g (K/g x CRS/g) * col_g (CRS/g x cols)
// - backward data:    dcol_g (CRS/g x cols) = w_g^T * dy_g (K/g x cols), then col2im adds dcol onto dx
// - backward weight:  dw_g (K/g x CRS/g) += dy_g (K/g x cols) * col_g^T, block after block in batch order.
// col is the block's im2col matrix (CpuConvolution.Columns.cs), built into one buffer rented once per call. The
// blocks depend on the descriptor alone and GEMM sums every element in the same order whatever the thread count,
// so results do not depend on the thread count. Threads: GEMM splits large products itself; the copies around it
// (im2col, col2im, gathers and scatters) are split over rows here.
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// Budget of the im2col buffer. Large enough that a block of small images makes one long GEMM, small enough to
    /// stay in the 2-4 MB L2 of current server cores, from which GEMM packs it right after im2col wrote it.
    /// </summary>
    private const long DefaultColumnBytes = 4L << 20;

    /// <summary>
    /// Output channels per group from which the packed path runs: one 6-row GEMM micro-kernel's worth.
    /// </summary>
    private const int PackedMinOutChannels = 4;

    /// <summary>
    /// Images with at least this many output pixels get one GEMM each, reading and writing their NCHW planes in
    /// place; smaller ones are gathered side by side so that one GEMM covers the block (a product only 16 columns
    /// wide would waste most of GEMM's 64-column micro-kernel).
    /// </summary>
    private const int ImageGemmPixels = 256;

    /// <summary>Elements a thread must get before a copy is split: about 10 us of copying.</summary>
    private const long MinCopyPerThread = 1 << 15;

    /// <summary>The im2col buffer budget in bytes; internal so that tests can shrink it to force block edges.</summary>
    internal static long ColumnBytes { get; set; } = DefaultColumnBytes;

    private static void ForwardPacked<T>(ConvolutionDescriptor d, T* x, T* w, T* bias, T* y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.OutputSize == 0) return;
        int batch = d.Batch, groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        var (images, tile) = ColumnBlock<T>(depth, pixels, batch);
        bool perImage = images == 1 || pixels >= ImageGemmPixels;
        bool direct = perImage && IsPointwise(d);
        using var colBuffer = direct ? null : Rent<T>((long)depth * images * tile);
        using var yBuffer = perImage ? null : Rent<T>((long)kg * images * pixels);
        T* col = Pointer<T>(colBuffer), yb = Pointer<T>(yBuffer);
        for (int n0 = 0; n0 < batch; n0 += images)
        {
            int nb = Math.Min(images, batch - n0);
            for (int p0 = 0; p0 < pixels; p0 += tile)
            {
                int count = Math.Min(tile, pixels - p0), cols = nb * count;
                for (int g = 0; g < groups; g++)
                {
                    T* xg = x + n0 * inImage + (long)g * cg * hw;
                    T* wg = w + (long)g * kg * depth;
                    T* yg = y + n0 * outImage + (long)g * kg * pixels + p0;
                    T* bg = bias == null ? null : bias + g * kg;
                    if (!direct) BuildColumns(d, xg, inImage, nb, p0, count, col, cols);
                    if (!perImage)
                    {
                        PackedGemm(false, false, kg, cols, depth, wg, depth, col, cols, T.Zero, yb, cols);
                        ScatterPlanes(yb, kg, nb, pixels, yg, outImage, bg);
                        continue;
                    }
                    for (int i = 0; i < nb; i++)
                    {
                        T* yi = yg + i * outImage;
                        T beta = T.Zero;
                        if (bg != null)
                        {
                            for (int k = 0; k < kg; k++) new Span<T>(yi + (long)k * pixels, count).Fill(bg[k]);
                            beta = T.One;
                        }
                        if (direct)
                            PackedGemm(false, false, kg, count, depth, wg, depth, xg + i * inImage + p0, hw, beta,
                                yi, pixels);
                        else
                            PackedGemm(false, false, kg, count, depth, wg, depth, col + (long)i * count, cols, beta,
                                yi, pixels);
                    }
                }
            }
        }
    }

    private static void BackwardDataPacked<T>(ConvolutionDescriptor d, T* dy, T* w, T* dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.InputSize == 0) return;
        int batch = d.Batch, groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        var (images, tile) = ColumnBlock<T>(depth, pixels, batch);
        bool perImage = images == 1 || pixels >= ImageGemmPixels;
        bool direct = perImage && IsPointwise(d);
        using var colBuffer = direct ? null : Rent<T>((long)depth * images * tile);
        using var dyBuffer = perImage ? null : Rent<T>((long)kg * images * pixels);
        T* dcol = Pointer<T>(colBuffer), dyb = Pointer<T>(dyBuffer);
        for (int n0 = 0; n0 < batch; n0 += images)
        {
            int nb = Math.Min(images, batch - n0);
            for (int p0 = 0; p0 < pixels; p0 += tile)
            {
                int count = Math.Min(tile, pixels - p0), cols = nb * count;
                for (int g = 0; g < groups; g++)
                {
                    T* dyg = dy + n0 * outImage + (long)g * kg * pixels + p0;
                    T* wg = w + (long)g * kg * depth;
                    T* dxg = dx + n0 * inImage + (long)g * cg * hw;
                    if (direct)
                    {
                        // A pointwise layer's dcol is dx itself.
                        for (int i = 0; i < nb; i++)
                            PackedGemm(true, false, cg, count, kg, wg, depth, dyg + i * outImage, pixels, T.Zero,
                                dxg + i * inImage + p0, hw);
                        continue;
                    }
                    if (perImage)
                    {
                        for (int i = 0; i < nb; i++)
                            PackedGemm(true, false, depth, count, kg, wg, depth, dyg + i * outImage, pixels, T.Zero,
                                dcol + (long)i * count, cols);
                    }
                    else
                    {
                        GatherPlanes(dyg, outImage, kg, nb, pixels, dyb);
                        PackedGemm(true, false, depth, cols, kg, wg, depth, dyb, cols, T.Zero, dcol, cols);
                    }
                    AddColumns(d, dcol, cols, nb, p0, count, dxg, inImage, overwrite: p0 == 0);
                }
            }
        }
    }

    /// <summary>
    /// dw = dy x col^T summed over blocks of images. The GEMM runs in whichever orientation packs less: as
    /// dw (kg x depth) = dy x col^T it packs the whole column matrix (col is B stored transposed), as
    /// dw^T (depth x kg) = col x dy^T it reads col in place as A and packs only dy, then transposes the small result
    /// into dw. The second wins when depth (input channels x taps) exceeds the output channels and those are few
    /// (<see cref="TransposedMaxKg"/>): the column matrix is then written once and read once instead of also being
    /// repacked.
    /// </summary>
    /// <summary>
    /// Most output channels per group for the transposed weight-gradient GEMM. Its A (the column block, read in
    /// place) streams past every 64-column sliver of dy^T, so with more than 64 output channels it is read from L2
    /// or memory more than once per block; measured on ResNet-18 (2 threads): 64->64 @32x32 13 ms -> 10 ms, while
    /// 128 channels and up gained nothing or lost (512->512 @4x4 9.5 ms -> 13 ms).
    /// </summary>
    private const int TransposedMaxKg = 64;

    /// <summary>
    /// Fewest output pixels per image for <see cref="WeightGradientByImage{T}"/>: with fewer, each image's product
    /// is too shallow, and the block's dy planes are gathered side by side into one product instead.
    /// </summary>
    private const int ImageGemmMinPixels = 256;

    /// <summary>
    /// Images per partial sum of <see cref="WeightGradientByImage{T}"/>: a fixed number, not one share per thread.
    /// </summary>
    private const int ImagesPerPartial = 4;

    /// <summary>
    /// A block's weight gradient, C (elements dense, <paramref name="size"/> of them) = beta * C + the sum over its
    /// images of dy_i col_i^T (or col_i dy_i^T into the transposed gradient), one product per image with dy's planes
    /// read where they lie: gathering them side by side for one product over the block copied all of dy, a sixth of
    /// the time of ResNet's stem (3 -> 64 channels @32x32, batch 32; AVX2, one thread: 4.2-4.6 ms -> 2.4-2.9, and
    /// PyTorch took 2.9; two threads 2.4-2.6 -> 1.3). The images are summed in fixed chunks of
    /// <see cref="ImagesPerPartial"/>: the first chunk into C, each later one into its own partial sum, on whichever
    /// thread takes it, and the partial sums are then added to C in chunk order. So the bits do not depend on the
    /// thread count, and the chunks run in parallel where each image's product alone is too small to split.
    /// </summary>
    private static void WeightGradientByImage<T>(bool transposed, int kg, int depth, int count, int images, T* dy,
        long dyImage, int pixels, T* col, int ldCol, T beta, T* c, int size, T* partials)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = CeilDiv(images, ImagesPerPartial);
        nint dys = (nint)dy, cols = (nint)col, ps = (nint)partials, cs = (nint)c;
        CpuParallel.For(chunks, 1, (start, end) =>
        {
            for (long j = start; j < end; j++)
            {
                T* p = j == 0 ? (T*)cs : (T*)ps + (j - 1) * size;
                int first = (int)j * ImagesPerPartial, last = Math.Min(images, first + ImagesPerPartial);
                for (int i = first; i < last; i++)
                {
                    T* a = (T*)dys + i * dyImage, b = (T*)cols + (long)i * count;
                    T betaI = i > first ? T.One : j == 0 ? beta : T.Zero;
                    if (transposed) PackedGemm(false, true, depth, kg, count, b, ldCol, a, pixels, betaI, p, kg);
                    else PackedGemm(false, true, kg, depth, count, a, pixels, b, ldCol, betaI, p, depth);
                }
            }
        });
        for (int j = 1; j < chunks; j++) AddTo(c, partials + (long)(j - 1) * size, size);
    }

    private static void BackwardWeightPacked<T>(ConvolutionDescriptor d, T* x, T* dy, T* dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.WeightSize == 0) return;
        int batch = d.Batch, groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW, pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        long inImage = (long)d.InChannels * hw, outImage = (long)d.OutChannels * pixels;
        if (batch == 0)
        {
            new Span<T>(dw, (int)d.WeightSize).Clear();
            return;
        }
        var (images, tile) = ColumnBlock<T>(depth, pixels, batch);
        bool direct = images == 1 && IsPointwise(d);
        bool transposed = depth > kg && kg <= TransposedMaxKg;
        using var colBuffer = direct ? null : Rent<T>((long)depth * images * tile);
        // Blocks of several whole images run one product per image (see WeightGradientByImage) where the images
        // are large enough; smaller ones gather the block's dy planes side by side for one product.
        bool byImage = images > 1 && pixels >= ImageGemmMinPixels;
        using var dyBuffer = images == 1 || byImage ? null : Rent<T>((long)kg * images * pixels);
        using var dwtBuffer = transposed ? Rent<T>(d.WeightSize) : null;
        using var partialBuffer = byImage ? Rent<T>((CeilDiv(images, ImagesPerPartial) - 1) * (long)kg * depth) : null;
        T* partials = Pointer<T>(partialBuffer);
        T* col = Pointer<T>(colBuffer), dyb = Pointer<T>(dyBuffer), dwt = Pointer<T>(dwtBuffer);
        for (int n0 = 0; n0 < batch; n0 += images)
        {
            int nb = Math.Min(images, batch - n0);
            for (int p0 = 0; p0 < pixels; p0 += tile)
            {
                int count = Math.Min(tile, pixels - p0), cols = nb * count;
                T beta = n0 == 0 && p0 == 0 ? T.Zero : T.One;
                for (int g = 0; g < groups; g++)
                {
                    T* xg = x + n0 * inImage + (long)g * cg * hw;
                    T* dyg = dy + n0 * outImage + (long)g * kg * pixels + p0;
                    T* b = xg + p0;
                    int ldb = hw;
                    if (!direct)
                    {
                        BuildColumns(d, xg, inImage, nb, p0, count, col, cols);
                        b = col;
                        ldb = cols;
                    }
                    long weights = (long)g * kg * depth;
                    if (byImage && nb > 1)
                    {
                        WeightGradientByImage(transposed, kg, depth, count, nb, dyg, outImage, pixels, b, ldb, beta,
                            (transposed ? dwt : dw) + weights, kg * depth, partials);
                        continue;
                    }
                    T* a = dyg;
                    int lda = pixels;
                    if (nb > 1)
                    {
                        GatherPlanes(dyg, outImage, kg, nb, pixels, dyb);
                        a = dyb;
                        lda = cols;
                    }
                    if (transposed) PackedGemm(false, true, depth, kg, cols, b, ldb, a, lda, beta, dwt + weights, kg);
                    else PackedGemm(false, true, kg, depth, cols, a, lda, b, ldb, beta, dw + weights, depth);
                }
            }
        }
        if (transposed)
        {
            for (int g = 0; g < groups; g++)
            {
                long weights = (long)g * kg * depth;
                TransposeInto(dwt + weights, depth, kg, dw + weights);
            }
        }
    }

    /// <summary>dst (cols x rows) = src (rows x cols)^T, both dense.</summary>
    private static void TransposeInto<T>(T* src, int rows, int cols, T* dst) where T : unmanaged
    {
        const int block = 32;
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int r1 = Math.Min(rows, r0 + block);
            for (int c0 = 0; c0 < cols; c0 += block)
            {
                int c1 = Math.Min(cols, c0 + block);
                for (int c = c0; c < c1; c++)
                {
                    for (int r = r0; r < r1; r++) dst[(long)c * rows + r] = src[(long)r * cols + c];
                }
            }
        }
    }

    /// <summary>
    /// Images per block and output pixels per block for an im2col matrix of <paramref name="rows"/> rows: as many
    /// whole images as fit <see cref="ColumnBytes"/>, or when not even one does, one image's pixels in ranges of
    /// whole 64-column micro-kernel panels.
    /// </summary>
    private static (int Images, int Pixels) ColumnBlock<T>(int rows, int pixels, int batch) where T : unmanaged
    {
        long budget = Math.Max(1, ColumnBytes / sizeof(T));
        long perImage = Math.Max(1, (long)rows * pixels);
        if (perImage <= budget) return ((int)Math.Clamp(budget / perImage, 1, Math.Max(1, batch)), pixels);
        long fit = budget / Math.Max(1, rows);
        if (fit >= 128) fit = fit / 64 * 64;
        return (1, (int)Math.Clamp(fit, 1, pixels));
    }

    /// <summary>
    /// The im2col matrix of a block into <paramref name="col"/> (leading dimension <paramref name="ld"/>): image i
    /// of the block, whose group's first channel is at x + i * imageStride, fills columns
    /// [i * count, (i + 1) * count) with its output pixels [p0, p0 + count). Split over rows.
    /// </summary>
    private static void BuildColumns<T>(ConvolutionDescriptor d, T* x, long imageStride, int images, int p0,
        int count, T* col, int ld)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p0 == 0 && count == d.OutHeight * d.OutWidth && UsePaddedPlanes<T>(d))
        {
            BuildColumnsPadded(d, (float*)x, imageStride, images, (float*)col, ld);
            return;
        }
        int rows = d.InChannelsPerGroup * d.KernelH * d.KernelW;
        nint xs = (nint)x, cs = (nint)col;
        CpuParallel.For(rows, CopyGrain((long)images * count), (start, end) =>
        {
            for (long row = start; row < end; row++)
            {
                T* dst = (T*)cs + row * ld;
                for (int i = 0; i < images; i++)
                    ColumnRow(d, (int)row, (T*)xs + i * imageStride, p0, count, dst + (long)i * count);
            }
        });
    }

    /// <summary>
    /// The adjoint of <see cref="BuildColumns{T}"/>: adds the block's column matrix onto the input gradient, first
    /// clearing the block's planes when <paramref name="overwrite"/>. Split over input channels, each thread adding
    /// a channel's taps in order, so every element sums in the same order whatever the thread count.
    /// </summary>
    private static void AddColumns<T>(ConvolutionDescriptor d, T* col, int ld, int images, int p0, int count,
        T* dx, long imageStride, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p0 == 0 && count == d.OutHeight * d.OutWidth && UsePaddedPlanes<T>(d))
        {
            AddColumnsGathered(d, (float*)col, ld, images, (float*)dx, imageStride);
            return;
        }
        int taps = d.KernelH * d.KernelW, hw = d.InHeight * d.InWidth;
        nint cs = (nint)col, dxs = (nint)dx;
        CpuParallel.For(d.InChannelsPerGroup, CopyGrain((long)taps * images * count), (start, end) =>
        {
            for (long c = start; c < end; c++)
            {
                for (int i = 0; i < images; i++)
                {
                    T* plane = (T*)dxs + i * imageStride + c * hw;
                    if (overwrite) new Span<T>(plane, hw).Clear();
                    for (int tap = 0; tap < taps; tap++)
                    {
                        long row = c * taps + tap;
                        AddColumnRow(d, (int)row, (T*)cs + row * ld + (long)i * count, p0, count, plane);
                    }
                }
            }
        });
    }

    /// <summary>
    /// dst[k, i * pixels + p] = src[i * imageStride + k * pixels + p]: planes of a block side by side.
    /// </summary>
    private static void GatherPlanes<T>(T* src, long imageStride, int rows, int images, int pixels, T* dst)
        where T : unmanaged
    {
        nint ss = (nint)src, ds = (nint)dst;
        long ld = (long)images * pixels;
        CpuParallel.For(rows, CopyGrain(ld), (start, end) =>
        {
            for (long k = start; k < end; k++)
            {
                for (int i = 0; i < images; i++)
                    CopyRun((T*)ss + i * imageStride + k * pixels, (T*)ds + k * ld + (long)i * pixels, pixels);
            }
        });
    }

    /// <summary>
    /// The inverse of <see cref="GatherPlanes{T}"/>, adding bias[k] to row k on the way when there is a bias.
    /// </summary>
    private static void ScatterPlanes<T>(T* src, int rows, int images, int pixels, T* dst, long imageStride,
        T* bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint ss = (nint)src, ds = (nint)dst, bs = (nint)bias;
        long ld = (long)images * pixels;
        CpuParallel.For(rows, CopyGrain(ld), (start, end) =>
        {
            for (long k = start; k < end; k++)
            {
                for (int i = 0; i < images; i++)
                {
                    T* from = (T*)ss + k * ld + (long)i * pixels, to = (T*)ds + i * imageStride + k * pixels;
                    if (bs == 0) CopyRun(from, to, pixels);
                    else AddRun(from, ((T*)bs)[k], to, pixels);
                }
            }
        });
    }

    /// <summary>
    /// C = op(A) * op(B) + beta * C through <see cref="CpuGemm.Gemm{T}"/>, on raw pointers: A is m x k (k x m
    /// when transA), B is k x n (n x k when transB), rows ld elements apart.
    /// </summary>
    private static void PackedGemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb,
        T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        var sa = new ReadOnlySpan<T>(a, Extent(transA ? k : m, transA ? m : k, lda));
        var sb = new ReadOnlySpan<T>(b, Extent(transB ? n : k, transB ? k : n, ldb));
        var sc = new Span<T>(c, Extent(m, n, ldc));
        CpuGemm.Gemm(transA, transB, m, n, k, T.One, sa, lda, sb, ldb, beta, sc, ldc);
    }

    /// <summary>Elements from the first to one past the last of a rows x cols matrix whose rows are ld apart.</summary>
    private static int Extent(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;

    private static long CopyGrain(long elementsPerItem) =>
        Math.Max(1, MinCopyPerThread / Math.Max(1, elementsPerItem));

    private static CpuBuffer Rent<T>(long count) where T : unmanaged =>
        CpuMemoryPool.Shared.Rent(Math.Max(1, count) * sizeof(T));

    private static T* Pointer<T>(CpuBuffer? buffer) where T : unmanaged =>
        buffer == null ? null : (T*)buffer.Pointer;
}
