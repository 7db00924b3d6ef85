using Engine.Memory;

namespace Engine.Kernels;

/// <summary>
/// Everything a kernel may use besides its tensors: the device runtime (memory, copies, the stream work is ordered
/// on), the write request of each output, and scratch memory. Scratch comes only from here, so the bytes an
/// operator needs are visible to whoever runs it: the eager path returns them to the device pool when the kernel
/// ends, a planned graph can hand out a slice of its arena instead.
/// </summary>
public sealed class KernelContext : IDisposable
{
    private List<DeviceBuffer>? scratch;
    private WriteRequest[] requests;

    public KernelContext(DeviceRuntime runtime, string op, WriteRequest[]? requests = null)
    {
        Runtime = runtime;
        Op = op;
        this.requests = requests ?? [];
    }

    public DeviceRuntime Runtime { get; private set; }

    public Device Device => Runtime.Device;

    /// <summary>The operator being run, for error messages.</summary>
    public string Op { get; private set; }

    /// <summary>Bytes of scratch memory handed out since the context was created.</summary>
    public long ScratchBytes { get; private set; }

    /// <summary>
    /// The write request of output <paramref name="output"/>; Write unless the caller said otherwise.
    /// </summary>
    public WriteRequest Request(int output) => output < requests.Length ? requests[output] : WriteRequest.Write;

    /// <summary>
    /// Makes a disposed context new again for another call (the eager path keeps one per thread rather than
    /// allocating one per operator).
    /// </summary>
    internal void Reset(DeviceRuntime runtime, string op, WriteRequest[]? requests)
    {
        if (scratch is not null)
            throw new InvalidOperationException($"{Op}: a context must be disposed before it is reused.");
        Runtime = runtime;
        Op = op;
        this.requests = requests ?? [];
        ScratchBytes = 0;
    }

    /// <summary>Re-targets the context at another operator call (the executor reuses one context).</summary>
    public void SetRequests(WriteRequest[] value) => requests = value;

    /// <summary>A scratch buffer of at least <paramref name="bytes"/> bytes, valid until the kernel returns.</summary>
    public DeviceBuffer Scratch(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var buffer = Runtime.Allocate(bytes);
        (scratch ??= []).Add(buffer);
        ScratchBytes += bytes;
        return buffer;
    }

    /// <summary>
    /// The argument itself when its elements are contiguous, else a contiguous copy in scratch memory: for kernels
    /// that only take dense operands.
    /// </summary>
    public TensorArg Contiguous(in TensorArg x)
    {
        if (x.IsContiguous) return x;
        var copy = new TensorArg(Scratch(x.Size * x.DType.SizeInBytes()), TensorLayout.Contiguous(x.Shape),
            x.DType);
        Runtime.Copy(x, copy);
        return copy;
    }

    /// <summary>
    /// Returns the scratch memory and zeroes the count, so that the context serves the next kernel (a compiled
    /// graph keeps one context per call instead of making one per kernel).
    /// </summary>
    public void Reset()
    {
        Dispose();
        ScratchBytes = 0;
    }

    /// <summary>Returns the scratch memory to the device pool.</summary>
    public void Dispose()
    {
        if (scratch is null) return;
        foreach (var b in scratch) b.Dispose();
        scratch = null;
    }
}
