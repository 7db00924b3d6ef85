using System.Numerics;

namespace Engine.Kernels.Cpu;

// The tiled path: every pass works on tiles of the im2col matrix (CpuConvolution.Columns.cs) built into a small
// buffer per thread and multiplied with the unpacked register-blocked product of CpuConvolution.Gemm.cs. It needs
// no packing, which is what layers with very few output channels per group (depthwise ones) want; everything
// else runs through the packed GEMM (CpuConvolution.Packed.cs).
public static unsafe partial class CpuConvolution
{
    /// <summary>
    /// Column tiles hold at most this many bytes: a quarter of the 1 MB L2 of the Zen 4 cores this runs on, so the
    /// tile stays in L2 next to the weights and the output rows it is multiplied into.
    /// </summary>
    private const int TileBytes = 256 * 1024;

    /// <summary>Tiles are at least this many pixels wide: two float vectors of 512 bits, one register block.</summary>
    private const int MinTilePixels = 32;

    /// <summary>Backward-data handles this many im2col rows (channels x taps) per work item.</summary>
    private const int RowsPerBlock = 128;

    /// <summary>Backward-weight handles at most this many weight columns (channel x tap) per work item.</summary>
    private const int ColumnsPerBlock = 64;

    /// <summary>
    /// Multiply-adds a thread must get before work is split: handing a chunk to another thread costs a few
    /// microseconds, about what 64K multiply-adds take.
    /// </summary>
    private const long MinWorkPerChunk = 1 << 16;

    // Forward, per (image, group, tile of output pixels): y[k, p] = bias[k] + sum over (c, r, s) of
    // w[k, (c, r, s)] * col[(c, r, s), p], a (K/g x CRS) by (CRS x tile) product written straight into y.
    private static void ForwardTiles<T>(ConvolutionDescriptor d, T* x, T* w, T* bias, T* y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.OutputSize == 0) return;
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW;
        int pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        bool direct = IsPointwise(d);
        int tile = direct ? pixels : TilePixels<T>(depth, pixels);
        int tiles = CeilDiv(pixels, tile);
        long items = (long)d.Batch * groups * tiles;
        nint xs = (nint)x, ws = (nint)w, bs = (nint)bias, ys = (nint)y;
        CpuParallel.For(items, Grain((long)kg * depth * tile), (start, end) =>
        {
            T* col = direct ? null : Allocate<T>((long)depth * tile);
            try
            {
                for (long item = start; item < end; item++)
                {
                    int t = (int)(item % tiles), g = (int)(item / tiles % groups), n = (int)(item / tiles / groups);
                    int p0 = t * tile, count = Math.Min(tile, pixels - p0);
                    T* xg = (T*)xs + ((long)n * d.InChannels + (long)g * cg) * hw;
                    T* yt = (T*)ys + ((long)n * d.OutChannels + (long)g * kg) * pixels + p0;
                    for (int k = 0; k < kg; k++)
                        new Span<T>(yt + (long)k * pixels, count).Fill(bs == 0 ? T.Zero : ((T*)bs)[g * kg + k]);
                    T* b = xg + p0;
                    nint ldb = hw;
                    if (!direct)
                    {
                        Im2Col(d, xg, 0, depth, p0, count, col, count, 1);
                        b = col;
                        ldb = count;
                    }
                    Gemm(kg, count, depth, (T*)ws + (long)g * kg * depth, depth, b, ldb, yt, pixels, true);
                }
            }
            finally
            {
                Free(col);
            }
        });
    }

    // Backward data, per (image, group, block of input channels): dcol = w^T dy, a (rows x K/g) by (K/g x tile)
    // product, then scattered back onto dx by col2im. The blocks own disjoint channels of dx.
    private static void BackwardDataTiles<T>(ConvolutionDescriptor d, T* dy, T* w, T* dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.InputSize == 0) return;
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int taps = d.KernelH * d.KernelW, depth = cg * taps;
        int pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        bool direct = IsPointwise(d);
        int channelsPerBlock = Math.Clamp(RowsPerBlock / taps, 1, cg);
        int blocks = CeilDiv(cg, channelsPerBlock);
        int rowsPerBlock = channelsPerBlock * taps;
        int tile = direct ? pixels : TilePixels<T>(rowsPerBlock, pixels);
        long items = (long)d.Batch * groups * blocks;

        // w^T per group: wt[g][(c, r, s)][k] = w[g * K/g + k][(c, r, s)], so a block's rows are contiguous.
        T* wt = Allocate<T>(d.WeightSize);
        try
        {
            for (int g = 0; g < groups; g++)
            {
                for (int k = 0; k < kg; k++)
                {
                    T* src = w + ((long)g * kg + k) * depth;
                    T* dst = wt + (long)g * depth * kg + k;
                    for (int row = 0; row < depth; row++) dst[(long)row * kg] = src[row];
                }
            }
            nint dys = (nint)dy, wts = (nint)wt, dxs = (nint)dx;
            CpuParallel.For(items, Grain((long)rowsPerBlock * kg * pixels), (start, end) =>
            {
                T* col = direct ? null : Allocate<T>((long)rowsPerBlock * tile);
                try
                {
                    for (long item = start; item < end; item++)
                    {
                        int blk = (int)(item % blocks), g = (int)(item / blocks % groups);
                        int n = (int)(item / blocks / groups);
                        int c0 = blk * channelsPerBlock, rows = Math.Min(channelsPerBlock, cg - c0) * taps;
                        T* dxg = (T*)dxs + ((long)n * d.InChannels + (long)g * cg) * hw;
                        T* dyg = (T*)dys + ((long)n * d.OutChannels + (long)g * kg) * pixels;
                        T* a = (T*)wts + ((long)g * depth + (long)c0 * taps) * kg;
                        if (direct)
                        {
                            Gemm(rows, pixels, kg, a, kg, dyg, pixels, dxg + (long)c0 * hw, hw, false);
                            continue;
                        }
                        new Span<T>(dxg + (long)c0 * hw, rows / taps * hw).Clear();
                        for (int p0 = 0; p0 < pixels; p0 += tile)
                        {
                            int count = Math.Min(tile, pixels - p0);
                            Gemm(rows, count, kg, a, kg, dyg + p0, pixels, col, count, false);
                            Col2ImAdd(d, col, c0 * taps, rows, p0, count, dxg);
                        }
                    }
                }
                finally
                {
                    Free(col);
                }
            });
        }
        finally
        {
            Free(wt);
        }
    }

    // Backward weight, per (group, block of weight columns): dw[k, (c, r, s)] is the sum over images and pixels
    // of dy[k, p] * col[(c, r, s), p], accumulated image by image and tile by tile in a fixed order. A block builds
    // only its own rows of the im2col matrix, so no work is repeated. Two forms of the product:
    // - dot products along p (GemmTransposedB) when images have many pixels or few output channels: long
    //   contiguous runs, and the im2col tile is a plain copy;
    // - otherwise the tile is built transposed (pixels x columns) and the product vectorizes over the columns,
    //   which avoids reducing short vectors. Measured on one Zen 4 core: dots run LeNet's 5x5 layers 10x faster and
    //   56x56 ResNet layers 3.5x faster; the transposed form runs 14x14 and 7x7 layers with 256+ channels 3x faster.
    private static void BackwardWeightTiles<T>(ConvolutionDescriptor d, T* x, T* dy, T* dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.WeightSize == 0) return;
        int groups = d.Groups, cg = d.InChannelsPerGroup, kg = d.OutChannelsPerGroup;
        int depth = cg * d.KernelH * d.KernelW;
        int pixels = d.OutHeight * d.OutWidth, hw = d.InHeight * d.InWidth;
        bool dots = pixels >= 256 || kg < 16;

        // Narrower blocks when there are too few to keep the threads busy (a small kernel on few channels). The
        // tile is sized for the widest block whatever the width, so the summation order never depends on it.
        int wanted = CeilDiv(2 * CpuParallel.MaxThreads, groups);
        int width = Math.Clamp(CeilDiv(depth, wanted), Math.Min(depth, dots ? 4 : 32), ColumnsPerBlock);
        int blocks = CeilDiv(depth, width);
        int tile = TilePixels<T>(ColumnsPerBlock, pixels);
        long items = (long)groups * blocks;
        nint xs = (nint)x, dys = (nint)dy, dws = (nint)dw;
        CpuParallel.For(items, Grain((long)kg * width * d.Batch * pixels), (start, end) =>
        {
            T* col = Allocate<T>((long)width * tile);
            try
            {
                for (long item = start; item < end; item++)
                {
                    int blk = (int)(item % blocks), g = (int)(item / blocks);
                    int row0 = blk * width, rows = Math.Min(width, depth - row0);
                    T* dwb = (T*)dws + (long)g * kg * depth + row0;
                    for (int k = 0; k < kg; k++) new Span<T>(dwb + (long)k * depth, rows).Clear();
                    for (int n = 0; n < d.Batch; n++)
                    {
                        T* xg = (T*)xs + ((long)n * d.InChannels + (long)g * cg) * hw;
                        T* dyg = (T*)dys + ((long)n * d.OutChannels + (long)g * kg) * pixels;
                        for (int p0 = 0; p0 < pixels; p0 += tile)
                        {
                            int count = Math.Min(tile, pixels - p0);
                            if (dots)
                            {
                                Im2Col(d, xg, row0, rows, p0, count, col, count, 1);
                                GemmTransposedB(kg, rows, count, dyg + p0, pixels, col, count, dwb, depth);
                            }
                            else
                            {
                                Im2Col(d, xg, row0, rows, p0, count, col, 1, rows);
                                Gemm(kg, rows, count, dyg + p0, pixels, col, rows, dwb, depth, true);
                            }
                        }
                    }
                }
            }
            finally
            {
                Free(col);
            }
        });
    }

    /// <summary>Pixels per column tile of <paramref name="rows"/> rows: as many as fit in TileBytes.</summary>
    private static int TilePixels<T>(int rows, int pixels) where T : unmanaged
    {
        long fit = TileBytes / Math.Max(1L, (long)rows * sizeof(T));
        long tile = Math.Max(MinTilePixels, fit / MinTilePixels * MinTilePixels);
        return (int)Math.Clamp(tile, 1, Math.Max(1, pixels));
    }

    private static long Grain(long workPerItem) => Math.Max(1, MinWorkPerChunk / Math.Max(1, workPerItem));
}
