namespace Engine.Ops;

/// <summary>Helpers for writing gradient rules with NDArray operations.</summary>
public static class Gradients
{
    /// <summary>
    /// Runs an expression and disposes its temporaries, keeping only the result. Under createGraph (recording)
    /// nothing is disposed, since the tape holds the intermediates.
    /// </summary>
    public static NDArray Scoped(Func<NDArray> expression)
    {
        if (Autograd.IsRecording) return expression();
        using var scope = NDArray.Scope();
        return scope.Keep(expression());
    }

    /// <summary>
    /// Sums a broadcast gradient back to the shape of the input that was broadcast (the reverse of NumPy
    /// broadcasting): leading axes are summed away, axes where the input had size 1 are summed with keepdims.
    /// </summary>
    public static NDArray SumTo(NDArray g, Shape shape, bool dispose = false)
    {
        if (g.Shape == shape) return g;
        int lead = g.Rank - shape.Rank;
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
        {
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
        }
        var result = Scoped(() => Nd.Sum(g, axes.ToArray(), keepDims: true).Reshape(shape));
        if (dispose && !Autograd.IsRecording) g.Dispose();
        return result;
    }

    public static NDArray SumToNegated(NDArray g, Shape shape) => SumTo(-g, shape, dispose: true);
}
