namespace Engine.Kernels;

/// <summary>
/// What a reduction computes over the reduced axes. The result has the input's element type; Mean, Norm and
/// NormL1 are defined for floating-point types only.
/// </summary>
public enum ReduceOp
{
    /// <summary>Sum of the elements; 0 for an empty reduction. Integer sums wrap around, as MXNet's do.</summary>
    Sum,

    /// <summary>Sum divided by the number of reduced elements; NaN for an empty reduction.</summary>
    Mean,

    /// <summary>Largest element; NaN if any element is NaN. An empty reduction is an error.</summary>
    Max,

    /// <summary>Smallest element; NaN if any element is NaN. An empty reduction is an error.</summary>
    Min,

    /// <summary>Product of the elements; 1 for an empty reduction.</summary>
    Prod,

    /// <summary>L2 norm, sqrt(sum(x * x)); 0 for an empty reduction.</summary>
    Norm,

    /// <summary>L1 norm, sum(|x|); 0 for an empty reduction.</summary>
    NormL1,
}
