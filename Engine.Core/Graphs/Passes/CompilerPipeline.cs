using Engine.Kernels.Fusion;

namespace Engine.Graphs.Passes;

/// <summary>What the graph compiler does to a traced graph; optimisations can be switched off for A/B runs.</summary>
public sealed record CompilerOptions
{
    /// <summary>Elementwise fusion, epilogue fusion and BatchNorm folding (all of them).</summary>
    public bool Fusion { get; init; } = true;

    /// <summary>How the CPU runs fused elementwise programs.</summary>
    public FusionDesign Design { get; init; } = FusionDesign.GenericStruct;
}

/// <summary>
/// The passes a hybridized block's graphs go through: for inference calls, common subexpressions and dead code,
/// BatchNorm folding (batch norms with fixed statistics only), epilogue fusion, then elementwise fusion; for
/// training calls, TrainingGraph runs the gradient, common subexpression and dead-code passes, then
/// <see cref="AfterGradient"/>: epilogue fusion, relu backwards folded into pooling backwards, max-pool backwards
/// from saved arg-max indices, and elementwise fusion (never BatchNorm folding).
/// </summary>
public static class CompilerPipeline
{
    /// <summary>The graph an inference (or not recorded) call runs.</summary>
    public static Graph Inference(Graph traced, CompilerOptions options)
    {
        ArgumentNullException.ThrowIfNull(traced);
        ArgumentNullException.ThrowIfNull(options);
        IGraphPass[] passes = options.Fusion
            ?
            [
                new CommonSubexpressionPass(), new DeadCodePass(), new BatchNormFoldPass(), new EpilogueFusionPass(),
                new FusionPass(new FusionOptions { Design = options.Design }),
            ]
            : [new CommonSubexpressionPass(), new DeadCodePass()];
        return new PassPipeline(passes).Run(traced);
    }

    /// <summary>Passes for a graph joined with its gradient whose first <paramref name="forwardOutputs"/> outputs
    /// are the forward outputs.</summary>
    public static IReadOnlyList<IGraphPass> AfterGradient(int forwardOutputs, CompilerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Fusion) return [];
        return
        [
            new EpilogueFusionPass(), new ReluPoolingBackwardPass(), new PoolingArgMaxPass(),
            new FusionPass(new FusionOptions { Design = options.Design, ForwardOutputs = forwardOutputs }),
        ];
    }
}
