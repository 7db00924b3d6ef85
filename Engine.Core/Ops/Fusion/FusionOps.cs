using Engine.Kernels.Fusion;

namespace Engine.Ops;

/// <summary>
/// The attributes of a fused-elementwise node: the program, and the names of the graph nodes it replaced (for
/// Explain). Two nodes are equal only when they hold the same program object.
/// </summary>
public sealed record FusedElementwiseAttrs(FusedProgram Program, string Members) : OpAttrs
{
    public override IReadOnlyDictionary<string, string> ToDictionary() =>
        new Dictionary<string, string> { ["program"] = Program.ToString() };
}

/// <summary>Operators the graph compiler introduces: a fused group of elementwise operators.</summary>
[OpTable]
public static class FusionOps
{
    /// <summary>
    /// A group of elementwise and broadcast operators of one dtype run as one program: inputs broadcast to one
    /// shape, one output per register the group must materialise; a program that ends with a reduction (sum or
    /// mean) gives the reduction's result first. Made by the fusion pass after the gradient is built (forward and
    /// backward graphs are fused separately), so it has no gradient of its own.
    /// </summary>
    public static readonly OpDef<FusedElementwiseAttrs> FusedElementwise = new("_fused_elementwise", -1, -1,
        static (a, t) =>
        {
            var p = a.Program;
            if (t.Length != p.NumInputs)
                throw new ArgumentException(
                    $"_fused_elementwise: the program takes {p.NumInputs} inputs, got {t.Length}.");
            var shape = Shape.Scalar;
            foreach (var x in t)
            {
                if (x.DType != p.DType)
                    throw new ArgumentException(
                        $"_fused_elementwise: the program runs on {p.DType.Name()} but an input is {x.DType.Name()}.");
                shape = ShapeRules.Broadcast("_fused_elementwise", shape, x.Shape);
            }
            var types = Enumerable.Repeat(new TensorType(shape, p.DType), p.Outputs.Count);
            if (p.Reduction is { } r)
            {
                if (r.Axes.Any(axis => axis >= shape.Rank))
                    throw new ArgumentException(
                        $"_fused_elementwise: the program reduces axes ({string.Join(", ", r.Axes)}) of shape " +
                        $"{shape}, which has rank {shape.Rank}.");
                types = types.Prepend(new TensorType(r.ResultShape(shape), p.DType));
            }
            return types.ToArray();
        })
    {
        Saves = SavedValues.Nothing,
        Scratch = static (a, t) => FusedProgramSteps.ScratchBytes(a.Program,
            t.Aggregate(Shape.Scalar, (s, x) => ShapeRules.Broadcast("_fused_elementwise", s, x.Shape))),
    };

    /// <summary>
    /// The shape a fused program's inputs broadcast to: its outputs' shape, or for a program that ends with a
    /// reduction, the broadcast of its inputs' shapes.
    /// </summary>
    public static Shape ElementwiseShape(FusedProgram program, IReadOnlyList<Shape> inputs,
        IReadOnlyList<Shape> outputs)
    {
        if (program.Reduction is null) return outputs[0];
        if (outputs.Count > 1) return outputs[1];
        return inputs.Aggregate(Shape.Scalar, (s, x) => ShapeRules.Broadcast("_fused_elementwise", s, x));
    }
}
