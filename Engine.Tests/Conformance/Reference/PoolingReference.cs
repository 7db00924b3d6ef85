using Engine.Kernels;

namespace Engine.Tests.Conformance.Reference;

/// <summary>
/// Pooling written the obvious way, in double: every output visits every kernel position and classifies it as an
/// input element, padding, or outside the padded input. Reads only the settings of the descriptor (dims, kernel,
/// stride, pad, mode, convention, countIncludePad) and computes the output size itself.
/// </summary>
public static class PoolingReference
{
    /// <summary>MXNet: valid = floor((in + 2p - k) / s) + 1, full = ceil((in + 2p - k) / s) + 1.</summary>
    public static int OutputSize(int size, int kernel, int stride, int pad, PoolingConvention convention)
    {
        double steps = (size + 2.0 * pad - kernel) / stride;
        return (int)(convention == PoolingConvention.Full ? Math.Ceiling(steps) : Math.Floor(steps)) + 1;
    }

    public static double[] Forward(PoolingDescriptor d, double[] x)
    {
        var (outH, outW) = OutSize(d);
        var y = new double[(long)d.N * d.C * outH * outW];
        for (int p = 0; p < d.N * d.C; p++)
        {
            for (int oh = 0; oh < outH; oh++)
            {
                for (int ow = 0; ow < outW; ow++)
                {
                    var win = Window(d, oh, ow);
                    double value;
                    if (win.Inputs.Count == 0)
                        value = 0; // a 'full' window past the input pools nothing
                    else if (d.Mode == PoolingMode.Max)
                        value = x[p * d.H * d.W + FirstMax(x, p * d.H * d.W, win.Inputs)];
                    else
                        value = win.Inputs.Sum(i => x[p * d.H * d.W + i]) / Divisor(d, win);
                    y[(p * outH + oh) * outW + ow] = value;
                }
            }
        }
        return y;
    }

    /// <summary>d(sum(y * dy))/dx.</summary>
    public static double[] Backward(PoolingDescriptor d, double[] x, double[] dy)
    {
        var (outH, outW) = OutSize(d);
        var dx = new double[(long)d.N * d.C * d.H * d.W];
        for (int p = 0; p < d.N * d.C; p++)
        {
            int plane = p * d.H * d.W;
            for (int oh = 0; oh < outH; oh++)
            {
                for (int ow = 0; ow < outW; ow++)
                {
                    var win = Window(d, oh, ow);
                    if (win.Inputs.Count == 0) continue;
                    double g = dy[(p * outH + oh) * outW + ow];
                    if (d.Mode == PoolingMode.Max)
                    {
                        dx[plane + FirstMax(x, plane, win.Inputs)] += g;
                    }
                    else
                    {
                        foreach (int i in win.Inputs) dx[plane + i] += g / Divisor(d, win);
                    }
                }
            }
        }
        return dx;
    }

    private static (int OutH, int OutW) OutSize(PoolingDescriptor d) =>
        (OutputSize(d.H, d.KernelH, d.StrideH, d.PadH, d.Convention),
            OutputSize(d.W, d.KernelW, d.StrideW, d.PadW, d.Convention));

    private sealed record Win(List<int> Inputs, int InsidePadded);

    // Input elements of the window (plane offsets, row-major window order) and how many kernel positions lie
    // inside the padded input.
    private static Win Window(PoolingDescriptor d, int oh, int ow)
    {
        var inputs = new List<int>();
        int insidePadded = 0;
        for (int i = 0; i < d.KernelH; i++)
        {
            for (int j = 0; j < d.KernelW; j++)
            {
                int h = oh * d.StrideH - d.PadH + i, w = ow * d.StrideW - d.PadW + j;
                bool inPadded = h >= -d.PadH && h < d.H + d.PadH && w >= -d.PadW && w < d.W + d.PadW;
                if (inPadded) insidePadded++;
                if (h >= 0 && h < d.H && w >= 0 && w < d.W) inputs.Add(h * d.W + w);
            }
        }
        return new Win(inputs, insidePadded);
    }

    private static double Divisor(PoolingDescriptor d, Win win) =>
        d.CountIncludePad ? win.InsidePadded : win.Inputs.Count;

    private static int FirstMax(double[] x, int plane, List<int> inputs)
    {
        int best = inputs[0];
        foreach (int i in inputs)
        {
            if (x[plane + i] > x[plane + best]) best = i;
        }
        return best;
    }
}
