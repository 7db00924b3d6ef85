namespace Engine.Ops;

/// <summary>Helpers for gradient rules.</summary>
public static class Gradients
{
    /// <summary>
    /// Sums a broadcast gradient back to the shape of the input that was broadcast (the reverse of NumPy
    /// broadcasting): leading axes are summed away, axes where the input had size 1 are summed with keepdims.
    /// </summary>
    public static NDArray SumTo(NDArray g, Shape shape)
    {
        if (g.Shape == shape) return g;
        int lead = g.Rank - shape.Rank;
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
        {
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
        }
        return Nd.Sum(g, axes.ToArray(), keepDims: true).Reshape(shape);
    }
}
