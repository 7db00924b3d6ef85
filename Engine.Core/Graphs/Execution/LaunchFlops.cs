using Engine.Ops;

namespace Engine.Graphs;

/// <summary>
/// Floating-point operations of the launches whose work is a product (GEMM and convolution), counted as two per
/// multiply-add: what a step cannot do with less, so their sum over a launch list divided by the processor's GEMM
/// rate is the step's floor. Other operators count zero (their time is memory traffic, not arithmetic).
/// </summary>
internal static class LaunchFlops
{
    /// <summary>Twice the multiply-adds of <paramref name="node"/> for its input and output types; 0 if none.</summary>
    public static double Of(Node node)
    {
        if (node.Op is null || node.Attrs is null) return 0;
        var inputs = node.Inputs.Select(i => i.Type.Shape).ToArray();
        var output = node.OutputTypes[0].Shape;
        switch (node.Attrs)
        {
            case FullyConnectedAttrs fc:
                var (rows, inUnits) = LinearAlgebraOps.FlattenedDims(fc, inputs[0]);
                return 2.0 * rows * inUnits * fc.NumHidden;
            case DotAttrs dot when node.Op.Name == "dot" && inputs[0].Rank == 2:
                // C (m, n) from k products each: 2 m n k = 2 |C| k.
                return 2.0 * output.Size * (dot.TransposeA ? inputs[0][0] : inputs[0][1]);
            case DotAttrs dot when node.Op.Name == "batch_dot" && inputs[0].Rank == 3:
                return 2.0 * output.Size * (dot.TransposeA ? inputs[0][1] : inputs[0][2]);
            case ConvolutionAttrs when node.Op.Name == "convolution" && inputs.Length >= 2:
                // Each output element sums C / groups x R x S products: the weight's size per output channel.
                return 2.0 * output.Size * (inputs[1].Size / Math.Max(1, inputs[1][0]));
            case ConvolutionBackwardAttrs when node.Op.Name == "_backward_convolution_data":
                // Inputs dy and w: the forward's products, run backwards.
                return 2.0 * inputs[0].Size * (inputs[1].Size / Math.Max(1, inputs[1][0]));
            case ConvolutionBackwardAttrs when node.Op.Name == "_backward_convolution_weight":
                // Inputs x and dy, output dw (K, C / groups, R, S).
                return 2.0 * inputs[1].Size * (output.Size / Math.Max(1, output[0]));
        }
        return 0;
    }
}
