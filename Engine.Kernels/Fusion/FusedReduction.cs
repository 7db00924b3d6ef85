using Engine.Kernels.Cpu;

namespace Engine.Kernels.Fusion;

/// <summary>
/// The reduction that ends a fused program: <see cref="Op"/> (sum or mean) of register <see cref="Register"/> over
/// <see cref="Axes"/> of the program's elementwise shape (none: all axes), written as the program's first output.
/// The reduced register is computed line by line just before it is folded, so it is never stored unless the
/// program also lists it among its outputs.
/// </summary>
public sealed class FusedReduction
{
    public FusedReduction(ReduceOp op, int register, IReadOnlyList<int> axes, bool keepDims)
    {
        ArgumentNullException.ThrowIfNull(axes);
        if (op is not (ReduceOp.Sum or ReduceOp.Mean))
            throw new ArgumentException(
                $"fused program: a fused reduction is sum or mean, got {CpuReduce.OpName(op)}; leave other " +
                "reductions out of the group.", nameof(op));
        if (axes.Any(a => a < 0) || axes.Distinct().Count() != axes.Count)
            throw new ArgumentException(
                $"fused program: reduction axes ({string.Join(", ", axes)}) must be distinct and non-negative.",
                nameof(axes));
        Op = op;
        Register = register;
        Axes = axes.OrderBy(a => a).ToArray();
        KeepDims = keepDims;
    }

    public ReduceOp Op { get; }

    /// <summary>The register reduced.</summary>
    public int Register { get; }

    /// <summary>Reduced axes of the elementwise shape, ascending; empty reduces every axis.</summary>
    public IReadOnlyList<int> Axes { get; }

    public bool KeepDims { get; }

    /// <summary>The shape of the result for the program's elementwise shape.</summary>
    public Shape ResultShape(Shape shape) =>
        CpuReduce.ReducedShape(Op, shape, Axes.ToArray(), KeepDims);

    /// <summary>Which axes of <paramref name="shape"/> are reduced.</summary>
    public bool[] Flags(Shape shape)
    {
        var flags = new bool[shape.Rank];
        foreach (int a in Axes)
        {
            if (a >= shape.Rank)
                throw new ArgumentException(
                    $"fused program: reduction axis {a} is out of range for the elementwise shape {shape}.");
            flags[a] = true;
        }
        if (Axes.Count == 0) Array.Fill(flags, true);
        return flags;
    }

    /// <summary><c>sum(%5, axis=(1,), keepdims)</c>; <c>sum(%5)</c> over every axis.</summary>
    public override string ToString() =>
        $"{CpuReduce.OpName(Op)}(%{Register}" +
        (Axes.Count == 0 ? "" : $", axis=({string.Join(", ", Axes)}{(Axes.Count == 1 ? "," : "")})") +
        (KeepDims ? ", keepdims" : "") + ")";
}
