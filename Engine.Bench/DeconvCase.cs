using Engine.Kernels;

namespace Engine.Bench;

/// <summary>
/// A transposed-convolution layer (groups 1, no bias): input (N, C, H, W), weight (C, K, R, S), output
/// (N, K, (H - 1) * stride - 2 * pad + R, ...). The case is "name c->k rxs sS pP @hxw nN pass".
/// </summary>
public sealed record DeconvCase(string Name, int N, int C, int H, int W, int K, int R, int S, int Stride, int Pad)
{
    public string Case(string pass) => $"{Name} {C}->{K} {R}x{S} s{Stride} p{Pad} @{H}x{W} n{N} {pass}";

    public int OutHeight => (H - 1) * Stride - 2 * Pad + R;

    public int OutWidth => (W - 1) * Stride - 2 * Pad + S;

    /// <summary>
    /// The convolution this layer is the data gradient of: its input is the layer's output (N, K, OH, OW) and its
    /// output the layer's input (N, C, H, W), with the same weight (C, K, R, S).
    /// </summary>
    public ConvolutionDescriptor Describe() =>
        new(N, K, OutHeight, OutWidth, C, R, S, Stride, Stride, Pad, Pad);

    /// <summary>2 * N * C * K * R * S * H * W: the multiply-adds of one pass.</summary>
    public double Flops => 2.0 * N * C * K * R * S * H * W;
}
