namespace Engine.Ops;

/// <summary>Eager execution: validate, infer, allocate, run the kernel, and record when autograd records.</summary>
public static class Imperative
{
    public static NDArray[] Invoke<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, NDArray[] inputs) where TAttrs : OpAttrs
    {
        ArgumentNullException.ThrowIfNull(attrs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (op.NumInputs >= 0 && inputs.Length != op.NumInputs)
            throw new ArgumentException($"{op.Name}: expected {op.NumInputs} inputs, got {inputs.Length}.");
        var types = new TensorType[inputs.Length];
        Device device = inputs.Length > 0 ? inputs[0].Device : DefaultDevice.Current;
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"{op.Name}: input {i} is null.");
            x.ThrowIfDisposed();
            if (x.Device != device)
                throw new ArgumentException(
                    $"{op.Name}: all inputs must be on one device, but input 0 is on {device} and input {i} on " +
                    $"{x.Device}; move them with CopyTo(device).");
            types[i] = new TensorType(x.Shape, x.DType);
        }
        var outTypes = op.InferType(attrs, types);
        NDArray[] outputs;
        if (op.View is not null)
        {
            outputs = [op.View(attrs, inputs[0], outTypes[0])];
        }
        else
        {
            var kernel = op.KernelFor(device);
            outputs = new NDArray[outTypes.Length];
            for (int i = 0; i < outputs.Length; i++)
                outputs[i] = NDArray.Empty(outTypes[i].Shape, outTypes[i].DType, device);
            long started = Diagnostics.OpProfiler.Begin();
            kernel(attrs, inputs, outputs);
            Diagnostics.OpProfiler.End(op.Name, inputs, started);
        }
        if (Autograd.IsRecording) Autograd.RecordOperation(op, attrs, inputs, outputs);
        return outputs;
    }
}
