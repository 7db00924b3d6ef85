namespace Engine.Kernels;

/// <summary>How pad fills the new border (MXNet's pad modes; NumPy's constant, edge and reflect).</summary>
public enum PadMode
{
    /// <summary>Fills with a constant value.</summary>
    Constant,

    /// <summary>Repeats the edge element (PyTorch's "replicate").</summary>
    Edge,

    /// <summary>
    /// Mirrors the array about its edge element, without repeating it: [a b c] padded by 2 on the left reads
    /// [c b a b c]. Needs the padding on each side to be smaller than the axis size.
    /// </summary>
    Reflect,
}
