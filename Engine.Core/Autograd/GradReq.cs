namespace Engine;

/// <summary>How backward treats a variable's gradient buffer. Values are MXNet's codes.</summary>
public enum GradReq
{
    /// <summary>No gradient is computed or stored.</summary>
    Null = 0,

    /// <summary>Backward overwrites the gradient.</summary>
    Write = 1,

    /// <summary>Backward adds to the gradient; clear it yourself (ZeroGrad) between steps.</summary>
    Add = 3,
}
