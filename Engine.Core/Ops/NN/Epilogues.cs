using Engine.Kernels;

namespace Engine.Ops;

/// <summary>Checks shared by the operators that take a fused <see cref="EpilogueActivation"/>.</summary>
internal static class Epilogues
{
    /// <summary>
    /// The gradient rules of FullyConnected and Convolution differentiate the plain product: a node with a fused
    /// activation comes only from the fusion pass, which runs after the gradient is built.
    /// </summary>
    public static void RequireNone(string op, EpilogueActivation activation)
    {
        if (activation != EpilogueActivation.None)
            throw new InvalidOperationException(
                $"{op}: a node with a fused {activation.ToString().ToLowerInvariant()} epilogue has no gradient; " +
                "the fusion pass makes such nodes after the gradient graph is built, so differentiate the graph " +
                "before fusing (HybridBlock does).");
    }
}
