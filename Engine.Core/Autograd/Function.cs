using Engine.Ops;

namespace Engine;

public static partial class Autograd
{
    /// <summary>
    /// A user-defined differentiable operation (MXNet's autograd.Function): override Forward and Backward.
    /// Forward runs without recording; when recording, the call is one tape entry whose gradient is Backward.
    /// Each instance may be called once, as in MXNet.
    /// </summary>
    public abstract class Function
    {
        private bool called;
        private NDArray[] saved = [];

        /// <summary>Computes the outputs; arrays needed by Backward go to <see cref="SaveForBackward"/>.</summary>
        protected abstract NDArray[] Forward(NDArray[] inputs);

        /// <summary>Returns one gradient per input, given one gradient per output.</summary>
        protected abstract NDArray[] Backward(NDArray[] outputGradients);

        protected void SaveForBackward(params NDArray[] arrays) => saved = arrays;

        protected IReadOnlyList<NDArray> SavedTensors => saved;

        public NDArray[] Call(params NDArray[] inputs)
        {
            ArgumentNullException.ThrowIfNull(inputs);
            if (called)
                throw new InvalidOperationException(
                    $"{GetType().Name}: each Function instance can be called only once; create a new instance for " +
                    "each call.");
            called = true;
            NDArray[] outputs;
            using (Pause(IsTraining)) outputs = Forward(inputs);
            if (IsRecording) RecordOperation(CustomFunctionOp, new FunctionAttrs(this), inputs, outputs);
            return outputs;
        }

        internal NDArray?[] RunBackward(NDArray[] outputGradients, int inputCount)
        {
            var grads = Backward(outputGradients);
            if (grads.Length != inputCount)
                throw new InvalidOperationException(
                    $"{GetType().Name}.Backward returned {grads.Length} gradients for {inputCount} inputs; return " +
                    "one per input.");
            return grads;
        }
    }

    internal sealed record FunctionAttrs(Function Function) : OpAttrs;

    private static readonly OpDef<FunctionAttrs> CustomFunctionOp = new("_custom_function", -1, -1,
        (_, _) => throw new InvalidOperationException("custom functions run through Function.Call"),
        FusionClass.Opaque, static (a, i, _, g, _) => a.Function.RunBackward(g, i.Length))
    {
        // The function keeps what its Backward needs itself (SaveForBackward).
        Saves = SavedValues.Nothing,
    };
}
