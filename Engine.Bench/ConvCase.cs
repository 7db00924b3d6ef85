using Engine.Kernels;

namespace Engine.Bench;

/// <summary>A convolution layer (groups 1); the case is "name c->k rxs sS @hxw nN pass".</summary>
public sealed record ConvCase(string Name, int N, int C, int H, int W, int K, int R, int S, int Stride, int Pad,
    bool Bias)
{
    public string Case(string pass) => $"{Name} {C}->{K} {R}x{S} s{Stride} @{H}x{W} n{N} {pass}";

    public ConvolutionDescriptor Describe() => new(N, C, H, W, K, R, S, Stride, Stride, Pad, Pad);

    /// <summary>
    /// 2 * N * K * C * R * S * OH * OW: the multiply-adds of every pass (forward and both gradients).
    /// </summary>
    public double Flops
    {
        get
        {
            var d = Describe();
            return 2.0 * N * K * C * R * S * d.OutHeight * d.OutWidth;
        }
    }
}
