using Engine.Kernels;

namespace Engine.Ops;

/// <summary>
/// An operator's kernel for one device with typed attributes, resolved once: what a compiled graph launches. The
/// attributes change only for operators whose attributes a call draws afresh (dropout's random counters).
/// </summary>
internal abstract class BoundKernel
{
    public abstract OpDef Op { get; }

    public abstract void Run(KernelContext context, TensorArg[] inputs, TensorArg[] outputs);

    /// <summary>Runs with other attributes of the same type (a call's own random counters).</summary>
    public abstract void RunWith(OpAttrs attrs, KernelContext context, TensorArg[] inputs, TensorArg[] outputs);

    public abstract OpAttrs Attrs { get; }
}

internal sealed class BoundKernel<TAttrs>(OpDef<TAttrs> op, Kernel<TAttrs> kernel, TAttrs attrs) : BoundKernel
    where TAttrs : OpAttrs
{
    public override OpDef Op => op;

    public override OpAttrs Attrs => attrs;

    public override void Run(KernelContext context, TensorArg[] inputs, TensorArg[] outputs) =>
        kernel(attrs, context, inputs, outputs);

    public override void RunWith(OpAttrs other, KernelContext context, TensorArg[] inputs, TensorArg[] outputs) =>
        kernel((TAttrs)other, context, inputs, outputs);
}
