namespace Engine.Gluon.NN;

/// <summary>
/// Pads the two spatial axes of NCHW input by reflection (MXNet's nn.ReflectionPad2D, op Pad mode='reflect'):
/// [a b c] padded by 2 on the left reads [c b a b c]. <c>padding</c> is one width for all four sides, or MXNet's
/// pad_width 8-tuple (before, after) per axis with zeros for N and C.
/// </summary>
public class ReflectionPad2D : HybridBlock
{
    public ReflectionPad2D(int padding = 0, string? prefix = null) : this([0, 0, 0, 0, padding, padding, padding,
        padding], prefix) { }

    public ReflectionPad2D(int[] padding, string? prefix = null) : base(prefix)
    {
        ArgumentNullException.ThrowIfNull(padding);
        if (padding.Length != 8 || padding[0] != 0 || padding[1] != 0 || padding[2] != 0 || padding[3] != 0 ||
            padding.Any(p => p < 0))
            throw new ArgumentException(
                $"ReflectionPad2D: padding must be one non-negative width or MXNet's 8-tuple (0, 0, 0, 0, top, " +
                $"bottom, left, right), got ({string.Join(", ", padding)}).", nameof(padding));
        Padding = (int[])padding.Clone();
    }

    /// <summary>MXNet's pad_width: (before, after) for N, C, H and W.</summary>
    public IReadOnlyList<int> Padding { get; }

    public override NDArray Forward(NDArray x)
    {
        if (x.Rank != 4)
            throw new ArgumentException(
                $"ReflectionPad2D '{Name}': input {x.Shape} must be 4-D (batch, channels, height, width).");
        for (int k = 2; k < 4; k++)
        {
            if (Padding[2 * k] >= x.Shape[k] || Padding[2 * k + 1] >= x.Shape[k])
                throw new ArgumentException(
                    $"ReflectionPad2D '{Name}': padding ({Padding[2 * k]}, {Padding[2 * k + 1]}) on axis {k} must " +
                    $"be smaller than its size {x.Shape[k]} (input {x.Shape}); use a smaller padding.");
        }
        var before = Enumerable.Range(0, 4).Select(k => Padding[2 * k]).ToArray();
        var after = Enumerable.Range(0, 4).Select(k => Padding[2 * k + 1]).ToArray();
        return Nd.Pad(x, before, after, Kernels.PadMode.Reflect);
    }

    public override string ToString() => $"ReflectionPad2D(({string.Join(", ", Padding)}))";
}
