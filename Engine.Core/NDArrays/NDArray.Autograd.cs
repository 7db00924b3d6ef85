namespace Engine;

public sealed partial class NDArray
{
    internal AutogradNode? Node { get; set; }

    /// <summary>
    /// Marks this array as a variable that receives a gradient in backward, and allocates a zero gradient
    /// (MXNet's attach_grad). Calling it again replaces the gradient buffer and detaches the array from any graph.
    /// </summary>
    public void AttachGrad(GradReq gradReq = GradReq.Write)
    {
        ThrowIfDisposed();
        var previous = Node;
        previous?.Grad?.Dispose();
        NDArray? grad = null;
        if (gradReq != GradReq.Null)
        {
            using (Graphs.Tracer.Suspend())
            using (Autograd.Pause()) grad = Nd.Zeros(Shape, DType, Device);
            NDArrayScope.Current?.Untrack(grad);
        }
        Node = AutogradNode.Variable(gradReq, grad);
    }

    /// <summary>
    /// Whether backward wrote this variable's gradient since an optimizer last used it (MXNet's fresh_grad): set
    /// by backward, cleared by the optimizer step. False for arrays that are not variables.
    /// </summary>
    public bool IsGradFresh
    {
        get => Node is { IsVariable: true } n && n.FreshGrad;
        set
        {
            if (Node is { IsVariable: true } n) n.FreshGrad = value;
        }
    }

    /// <summary>
    /// Whether the array is a variable or the result of a recorded operation (gradients can reach it).
    /// </summary>
    public bool IsInGraph => Node is not null;

    /// <summary>The gradient buffer after AttachGrad (null before, or with GradReq.Null).</summary>
    public NDArray? Grad => Node is { IsVariable: true } n ? n.Grad : null;

    public GradReq GradReq => Node is { IsVariable: true } n ? n.GradReq : GradReq.Null;

    /// <summary>A view of the same values cut off from the recorded graph: no gradient flows through it.</summary>
    public NDArray Detach() => View(Shape, Strides, Offset);

    /// <summary>Another view of the same values that stays in the same place of the graph.</summary>
    internal NDArray AliasInGraph()
    {
        var alias = View(Shape, Strides, Offset);
        alias.Node = Node;
        return alias;
    }

    /// <summary>Backpropagates from this array; the head gradient defaults to ones (MXNet's backward).</summary>
    public void Backward(NDArray? headGradient = null, bool retainGraph = false) =>
        Autograd.Backward([this], headGradient is null ? null : [headGradient], retainGraph);
}
