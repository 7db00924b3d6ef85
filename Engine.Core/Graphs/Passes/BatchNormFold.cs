namespace Engine.Graphs;

/// <summary>
/// A parameter node whose value is computed from other parameters' values (a folded weight) rather than bound
/// directly: whoever binds the graph's parameters passes its binder, and gets the computed value.
/// </summary>
public interface IComputedBinding
{
    NDArray Value(Func<Node, NDArray> bind);
}

/// <summary>
/// The folded weight and bias of a convolution followed by an inference BatchNorm, kept between calls and
/// recomputed only when a source parameter changed: a different array (SetData, loading) or a new version of
/// the same array (every write, a Trainer step's update included, bumps it).
/// </summary>
public sealed class BatchNormFold
{
    private readonly Node weight;
    private readonly Node? bias;
    private readonly Node gamma, beta, mean, variance;
    private readonly double epsilon;
    private readonly bool fixGamma;
    private readonly Lock gate = new();
    private (NDArray Array, int Version)[]? key;
    private NDArray? foldedWeight, foldedBias;

    public BatchNormFold(Node weight, Node? bias, Node gamma, Node beta, Node mean, Node variance, double epsilon,
        bool fixGamma)
    {
        this.weight = weight;
        this.bias = bias;
        this.gamma = gamma;
        this.beta = beta;
        this.mean = mean;
        this.variance = variance;
        this.epsilon = epsilon;
        this.fixGamma = fixGamma;
        WeightBinding = new Part(this, true);
        BiasBinding = new Part(this, false);
    }

    /// <summary>How many times the folded values were computed (tests check the cache).</summary>
    public int Computations { get; private set; }

    public IComputedBinding WeightBinding { get; }

    public IComputedBinding BiasBinding { get; }

    private (NDArray Weight, NDArray Bias) Values(Func<Node, NDArray> bind)
    {
        var sources = new[] { weight, bias, gamma, beta, mean, variance };
        var current = sources.Select(n => n is null ? (null!, 0) : (bind(n), 0)).ToArray();
        for (int k = 0; k < current.Length; k++)
        {
            if (current[k].Item1 is { } a) current[k].Item2 = a.Storage.Version;
        }
        lock (gate)
        {
            if (key is not null && key.Zip(current).All(p => ReferenceEquals(p.First.Array, p.Second.Item1) &&
                                                           p.First.Version == p.Second.Item2))
                return (foldedWeight!, foldedBias!);
            foldedWeight?.Dispose();
            foldedBias?.Dispose();
            (foldedWeight, foldedBias) = Compute(current[0].Item1, current[1].Item1, current[2].Item1,
                current[3].Item1, current[4].Item1, current[5].Item1);
            key = current.Select(c => (c.Item1, c.Item2)).ToArray();
            Computations++;
            return (foldedWeight, foldedBias);
        }
    }

    private (NDArray, NDArray) Compute(NDArray w, NDArray? b, NDArray g, NDArray beta, NDArray m, NDArray v)
    {
        using var pause = Autograd.Pause();
        using var scope = NDArray.Scope();
        // s = gamma / sqrt(var + eps); W' = W * s per output channel; b' = (b - mean) * s + beta.
        var s = (fixGamma ? Nd.OnesLike(g) : g) / Nd.Sqrt(v + epsilon);
        var shape = Enumerable.Repeat(1, w.Rank).ToArray();
        shape[0] = w.Shape[0];
        var folded = w * s.Reshape(shape);
        var offset = (b is null ? -m : b - m) * s + beta;
        return (NDArrayScope.Release(folded), NDArrayScope.Release(offset));
    }

    private sealed class Part(BatchNormFold fold, bool isWeight) : IComputedBinding
    {
        public NDArray Value(Func<Node, NDArray> bind)
        {
            var (w, b) = fold.Values(bind);
            return isWeight ? w : b;
        }
    }
}
