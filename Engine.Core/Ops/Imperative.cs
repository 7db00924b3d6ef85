using Engine.Kernels;

namespace Engine.Ops;

/// <summary>
/// Eager execution: validate, infer, allocate (or take the caller's outputs), run the device's kernel, declare the
/// writes, and record when autograd records. Every write to an array's elements goes through here, so tracing,
/// devices and autograd's in-place checks see all of them.
/// </summary>
public static class Imperative
{
    /// <summary>Runs <paramref name="op"/> into new arrays.</summary>
    public static NDArray[] Invoke<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, NDArray[] inputs) where TAttrs : OpAttrs =>
        Invoke(op, attrs, inputs, null, WriteRequest.Write);

    /// <summary>
    /// Runs <paramref name="op"/> writing into <paramref name="outputs"/> (MXNet's <c>out=</c>), overwriting them or,
    /// with <see cref="WriteRequest.AddTo"/>, adding to them. An output may be one of the inputs when the op declares
    /// that pair in place; any other overlap, and outputs the kernel cannot take (strided views, AddTo on an op
    /// without it), go through a temporary.
    /// </summary>
    public static NDArray[] Invoke<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, NDArray[] inputs, NDArray[]? outputs,
        WriteRequest request) where TAttrs : OpAttrs
    {
        ArgumentNullException.ThrowIfNull(attrs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (op.NumInputs >= 0 && inputs.Length != op.NumInputs)
            throw new ArgumentException($"{op.Name}: expected {op.NumInputs} inputs, got {inputs.Length}.");
        if (Graphs.Tracer.Current is { } tracer) return tracer.Record(op, attrs, inputs, outputs);
        // Read once: nothing below changes it, and each read of the flow-local state costs a lookup.
        bool recording = Autograd.IsRecording;
        var types = new TensorType[inputs.Length];
        Device device = inputs.Length > 0 ? inputs[0].Device : outputs is { Length: > 0 } ? outputs[0].Device
            : DefaultDevice.Current;
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"{op.Name}: input {i} is null.");
            x.ThrowIfNoData();
            if (x.Device != device)
                throw new ArgumentException(
                    $"{op.Name}: all inputs must be on one device, but input 0 is on {device} and input {i} on " +
                    $"{x.Device}; move them with CopyTo(device).");
            types[i] = new TensorType(x.Shape, x.DType);
        }
        var outTypes = op.InferType(attrs, types);
        if (op.View is not null)
        {
            if (outputs is not null)
                throw new ArgumentException($"{op.Name}: returns a view of its input and writes into no output.");
            var view = op.View(attrs, inputs[0], outTypes[0]);
            if (recording) Autograd.RecordOperation(op, attrs, inputs, [view]);
            return [view];
        }
        var kernel = op.KernelFor(device);
        foreach (int m in op.Mutates)
        {
            if (!inputs[m].IsContiguous)
                throw new ArgumentException(
                    $"{op.Name}: input {m} (shape {inputs[m].Shape}) is updated in place and must be contiguous; " +
                    "pass a dense array (a copy would not receive the update).");
        }
        if (outputs is null)
        {
            outputs = new NDArray[outTypes.Length];
            for (int i = 0; i < outputs.Length; i++)
                outputs[i] = NDArray.Empty(outTypes[i].Shape, outTypes[i].DType, device);
            Run(op, attrs, kernel, device, inputs, outputs, null);
            if (recording) Autograd.RecordOperation(op, attrs, inputs, outputs);
            return outputs;
        }

        CheckOutputs(op, outTypes, outputs, device, recording);
        var requests = new WriteRequest[outputs.Length];
        for (int o = 0; o < outputs.Length; o++)
        {
            var r = Plan(op, inputs, outputs[o], o, request);
            if (r is null) return ThroughTemporary(op, attrs, inputs, outputs, request);
            requests[o] = r.Value;
        }
        Run(op, attrs, kernel, device, inputs, outputs, requests);
        foreach (var y in outputs) y.Storage.Version++;
        if (recording) Autograd.RecordOperation(op, attrs, inputs, outputs);
        return outputs;
    }

    private static void Run<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, Kernel<TAttrs> kernel, Device device,
        NDArray[] inputs, NDArray[] outputs, WriteRequest[]? requests) where TAttrs : OpAttrs
    {
        var calls = CallState.Take();
        var args = calls.Arguments(inputs.Length, outputs: false);
        var outArgs = calls.Arguments(outputs.Length, outputs: true);
        var runtime = device == Device.Cpu ? CpuRuntime.Instance : DeviceRuntime.For(device);
        var context = calls.Context(runtime, op.Name, requests);
        try
        {
            for (int i = 0; i < args.Length; i++) args[i] = inputs[i].Arg;
            for (int i = 0; i < outArgs.Length; i++) outArgs[i] = outputs[i].Arg;
            long started = Diagnostics.OpProfiler.Begin();
            kernel(attrs, context, args, outArgs);
            Diagnostics.OpProfiler.End(op.Name, inputs, started);
            if (context.ScratchBytes > 0) CheckScratch(op, attrs, inputs, context.ScratchBytes);
        }
        finally
        {
            context.Dispose();
            calls.Return(args, outArgs, context);
        }
        foreach (int m in op.Mutates) inputs[m].Storage.Version++;
    }

    /// <summary>
    /// What one eager call needs besides its arrays, kept per thread and reused: the argument arrays a kernel
    /// receives and its context. A tiny operator (a relu on 256 floats) is mostly this bookkeeping, so allocating
    /// it anew each call was a measurable part of its cost. A call made while another on the same thread is
    /// running (none today: kernels do not call operators) finds the cache taken and allocates its own.
    /// </summary>
    private sealed class CallState
    {
        [ThreadStatic] private static CallState? cached;

        private const int Cached = 8;
        private readonly TensorArg[]?[] inputArrays = new TensorArg[]?[Cached];
        private readonly TensorArg[]?[] outputArrays = new TensorArg[]?[Cached];
        private KernelContext? context;

        public static CallState Take()
        {
            var state = cached ?? new CallState();
            cached = null;
            return state;
        }

        public TensorArg[] Arguments(int count, bool outputs)
        {
            var arrays = outputs ? outputArrays : inputArrays;
            if (count >= Cached) return new TensorArg[count];
            var a = arrays[count] ?? new TensorArg[count];
            arrays[count] = null;
            return a;
        }

        public KernelContext Context(DeviceRuntime runtime, string op, WriteRequest[]? requests)
        {
            if (context is null) return new KernelContext(runtime, op, requests);
            var c = context;
            context = null;
            c.Reset(runtime, op, requests);
            return c;
        }

        public void Return(TensorArg[] inputs, TensorArg[] outputs, KernelContext used)
        {
            // Cleared so that the cache keeps no buffer reachable after the call.
            Array.Clear(inputs);
            Array.Clear(outputs);
            if (inputs.Length < Cached) inputArrays[inputs.Length] = inputs;
            if (outputs.Length < Cached) outputArrays[outputs.Length] = outputs;
            context = used;
            cached = this;
        }
    }

    /// <summary>Keeps the Scratch declarations honest: a kernel may not take more than its op declares.</summary>
    private static void CheckScratch(OpDef op, OpAttrs attrs, NDArray[] inputs, long used)
    {
        long declared = op.ScratchBytes(attrs, inputs.Select(x => new TensorType(x.Shape, x.DType)).ToArray());
        if (used > declared)
            throw new InvalidOperationException(
                $"{op.Name}: the {inputs.FirstOrDefault()?.Device.ToString() ?? "device"} kernel took {used} bytes " +
                $"of scratch memory but the operator declares at most {declared}; fix its Scratch rule.");
    }

    private static void CheckOutputs(OpDef op, TensorType[] expected, NDArray[] outputs, Device device,
        bool recording)
    {
        if (outputs.Length != expected.Length)
            throw new ArgumentException($"{op.Name}: writes {expected.Length} outputs, {outputs.Length} given.");
        for (int o = 0; o < outputs.Length; o++)
        {
            var y = outputs[o] ?? throw new ArgumentNullException(nameof(outputs), $"{op.Name}: output {o} is null.");
            y.ThrowIfNoData();
            if (y.Shape != expected[o].Shape || y.DType != expected[o].DType)
                throw new ArgumentException(
                    $"{op.Name}: output {o} must be {expected[o]}, but the array given is {y.DType.Name()}{y.Shape}.");
            if (y.Device != device)
                throw new ArgumentException(
                    $"{op.Name}: output {o} is on {y.Device} but the op runs on {device}; move it with CopyTo.");
            if (recording && y.Node is not null)
                throw new InvalidOperationException(
                    $"{op.Name}: output {o} (shape {y.Shape}) is already in a computational graph; writing into it " +
                    "inside Autograd.Record() would make its gradients wrong. Write into a new array instead.");
        }
    }

    /// <summary>The request the kernel can take for output <paramref name="o"/> as it is, or null when not.</summary>
    private static WriteRequest? Plan(OpDef op, NDArray[] inputs, NDArray y, int o, WriteRequest request)
    {
        if (request == WriteRequest.AddTo && !op.AddTo) return null;
        if (!op.StridedOutputs && !y.IsContiguous) return null;
        var result = request == WriteRequest.AddTo ? WriteRequest.AddTo : WriteRequest.Write;
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            if (!ReferenceEquals(x.Storage, y.Storage)) continue;
            bool samePlace = x.Offset == y.Offset && x.Shape == y.Shape && x.Strides.AsSpan().SequenceEqual(y.Strides);
            if (!samePlace || !op.InPlace.Contains((i, o)) || request == WriteRequest.AddTo) return null;
            result = WriteRequest.InPlace;
        }
        return result;
    }

    /// <summary>Computes into fresh arrays, then copies (or adds) them into the caller's outputs.</summary>
    private static NDArray[] ThroughTemporary<TAttrs>(OpDef<TAttrs> op, TAttrs attrs, NDArray[] inputs,
        NDArray[] outputs, WriteRequest request) where TAttrs : OpAttrs
    {
        var fresh = Invoke(op, attrs, inputs);
        try
        {
            for (int o = 0; o < outputs.Length; o++)
            {
                if (request == WriteRequest.AddTo)
                {
                    Invoke(ElementwiseOps.Add, NoAttrs.Instance, [outputs[o], fresh[o]], [outputs[o]],
                        WriteRequest.Write);
                }
                else
                {
                    Invoke(CopyOps.Copy, NoAttrs.Instance, [fresh[o]], [outputs[o]], WriteRequest.Write);
                }
            }
        }
        finally
        {
            foreach (var f in fresh) f.Dispose();
        }
        return outputs;
    }
}
