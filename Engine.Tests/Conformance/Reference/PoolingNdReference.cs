using Engine.Kernels;

namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Pooling with any number of spatial dimensions, in double, read off MXNet's definition: every output visits every
/// kernel position and classifies it as an input element, padding, or past the padded input. Max takes the first
/// maximal input element (row-major window order); the average divides by the window clipped to the padded input
/// (count_include_pad) or by its input elements; a window with no input element yields 0 and passes no gradient.
/// </summary>
public static class PoolingNdReference
{
    public static int[] OutputShape(int[] xs, int[] kernel, int[] stride, int[] pad, bool full) =>
        [xs[0], xs[1], .. Enumerable.Range(0, xs.Length - 2).Select(a =>
            PoolingReference.OutputSize(xs[2 + a], kernel[a], stride[a], pad[a],
                full ? PoolingConvention.Full : PoolingConvention.Valid))];

    /// <summary>Forward y and the input gradient dx of sum(y * dy).</summary>
    public static (double[] Y, double[] Dx) Run(double[] x, int[] xs, double[] dy, PoolingMode mode, int[] kernel,
        int[] stride, int[] pad, bool full, bool countIncludePad)
    {
        var ys = OutputShape(xs, kernel, stride, pad, full);
        int spatial = xs.Length - 2;
        long volume = xs[2..].Aggregate(1L, (p, v) => p * v), outVolume = ys[2..].Aggregate(1L, (p, v) => p * v);
        var y = new double[xs[0] * xs[1] * outVolume];
        var dx = new double[x.Length];
        for (long plane = 0; plane < (long)xs[0] * xs[1]; plane++)
        {
            long o = 0;
            foreach (var oi in ConvolutionNdReference.Indices(ys[2..]))
            {
                var inputs = new List<long>();
                long divisor = 1;
                for (int a = 0; a < spatial; a++)
                {
                    int start = oi[a] * stride[a] - pad[a];
                    int paddedEnd = Math.Min(start + kernel[a], xs[2 + a] + pad[a]);
                    divisor *= paddedEnd - start;
                }
                foreach (var t in ConvolutionNdReference.Indices(kernel))
                {
                    long flat = 0;
                    bool inside = true;
                    for (int a = 0; a < spatial; a++)
                    {
                        int i = oi[a] * stride[a] - pad[a] + t[a];
                        inside &= i >= 0 && i < xs[2 + a];
                        flat = flat * xs[2 + a] + i;
                    }
                    if (inside) inputs.Add(plane * volume + flat);
                }
                long yi = plane * outVolume + o++;
                if (inputs.Count == 0) continue;
                if (mode == PoolingMode.Max)
                {
                    long best = inputs[0];
                    foreach (long i in inputs)
                    {
                        if (x[i] > x[best]) best = i;
                    }
                    y[yi] = x[best];
                    dx[best] += dy[yi];
                }
                else
                {
                    double count = countIncludePad ? divisor : inputs.Count;
                    y[yi] = inputs.Sum(i => x[i]) / count;
                    foreach (long i in inputs) dx[i] += dy[yi] / count;
                }
            }
        }
        return (y, dx);
    }
}
