namespace Engine.Kernels;

/// <summary>
/// How a kernel must treat one of its outputs (MXNet's OpReqType). The kernel context carries one per output.
/// </summary>
public enum WriteRequest
{
    /// <summary>Overwrite the output; it does not share memory with any input.</summary>
    Write,

    /// <summary>
    /// Overwrite the output, which is the same buffer and layout as an input the op declares in place.
    /// </summary>
    InPlace,

    /// <summary>Add the result to what the output holds (gradient accumulation, grad_req add).</summary>
    AddTo,
}
