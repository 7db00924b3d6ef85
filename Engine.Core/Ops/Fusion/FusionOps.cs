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
    /// shape, one output per register the group must materialise. Made by the fusion pass after the gradient is
    /// built (forward and backward graphs are fused separately), so it has no gradient of its own.
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
            return Enumerable.Repeat(new TensorType(shape, p.DType), p.Outputs.Count).ToArray();
        })
    {
        Saves = SavedValues.Nothing,
        Scratch = static (a, t) => FusedProgramSteps.ScratchBytes(a.Program,
            t.Aggregate(Shape.Scalar, (s, x) => ShapeRules.Broadcast("_fused_elementwise", s, x.Shape))),
    };
}
