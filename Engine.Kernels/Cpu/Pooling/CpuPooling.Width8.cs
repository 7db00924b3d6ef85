using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Cpu;

public static partial class CpuPooling
{
    /// <summary>
    /// The 2x2 stride-2 max-pool backward of 8-wide planes (LeNet's second pool: four windows a row), with AVX2: the
    /// planes' row pairs, 16 floats each, follow each other in memory, so two of them (32 floats, eight windows) are
    /// one step of a flat loop, with no per-row slicing or calls. The two top rows' even and odd elements come out of
    /// one in-lane shuffle each, window order (pair 0: 0 1, pair 1: 0 1 | pair 0: 2 3, pair 1: 2 3); dy's eight
    /// values are put in that order by one 64-bit permute, and the in-lane unpacks that interleave the gradients
    /// give back the rows in memory order. The selections are <see cref="MaxPool2x2BackwardRow8"/>'s
    /// (<see cref="WindowGradients8"/>), so the gradient is the same: the first maximum of each window, every element
    /// of dx written. Steps holding a NaN, and an odd last row pair, go through <see cref="MaxPool2x2Backward"/>.
    /// </summary>
    private static unsafe void MaxPool2x2BackwardWidth8(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx,
        int rowPairs)
    {
        int pairs = rowPairs / 2 * 2;
        fixed (float* px = x, pg = dy, pd = dx)
        {
            for (int p = 0; p < pairs; p += 2)
            {
                float* s = px + 16 * p, d = pd + 16 * p;
                var top0 = Avx.LoadVector256(s);
                var bottom0 = Avx.LoadVector256(s + 8);
                var top1 = Avx.LoadVector256(s + 16);
                var bottom1 = Avx.LoadVector256(s + 24);
                var nan = ~(Avx.CompareEqual(top0, top0) & Avx.CompareEqual(bottom0, bottom0) &
                            Avx.CompareEqual(top1, top1) & Avx.CompareEqual(bottom1, bottom1));
                if (!Avx.TestZ(nan, nan))
                {
                    MaxPool2x2Backward(x.Slice(16 * p, 32), dy.Slice(4 * p, 8), dx.Slice(16 * p, 32), 8, 4, 2, 4);
                    continue;
                }
                var a = Avx.Shuffle(top0, top1, 0x88);
                var b = Avx.Shuffle(top0, top1, 0xDD);
                var e = Avx.Shuffle(bottom0, bottom1, 0x88);
                var f = Avx.Shuffle(bottom0, bottom1, 0xDD);
                var grad = Avx2.Permute4x64(Avx.LoadVector256(pg + 4 * p).AsDouble(), 0xD8).AsSingle();
                var (ga, gb, ge, gf) = WindowGradients8(a, b, e, f, grad);
                Avx.Store(d, Avx.UnpackLow(ga, gb));
                Avx.Store(d + 8, Avx.UnpackLow(ge, gf));
                Avx.Store(d + 16, Avx.UnpackHigh(ga, gb));
                Avx.Store(d + 24, Avx.UnpackHigh(ge, gf));
            }
        }
        if (pairs < rowPairs)
            MaxPool2x2Backward(x.Slice(16 * pairs), dy.Slice(4 * pairs), dx.Slice(16 * pairs), 8, 4, 1, 4);
    }
}
