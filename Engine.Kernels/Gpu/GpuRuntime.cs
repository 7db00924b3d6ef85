using Engine.Memory;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The runtime of one GPU-backend device (CUDA, OpenCL or the simulator), the GPU's <see cref="CpuRuntime"/>: a
/// caching memory pool, one stream that every kernel and copy of the device is ordered on, pinned staging for host
/// copies, and the device's compiled kernels. Work is asynchronous; the host waits only where it reads
/// (<see cref="CopyToHost"/>, <see cref="Synchronize"/>).
/// </summary>
public sealed class GpuRuntime : DeviceRuntime
{
    /// <summary>Size of the pinned staging buffer host copies go through, in chunks of this size.</summary>
    private const int StagingBytes = 4 << 20;

    private readonly object copyGate = new();
    private PageLockedArray1D<byte>? staging;
    private bool stagingBusy;

    internal GpuRuntime(Device device, Accelerator accelerator)
    {
        Device = device;
        Accelerator = accelerator;
        Stream = accelerator.CreateStream();
        Pool = new GpuMemoryPool(device, accelerator);
        Kernels = new GpuKernelCache(this);
        IsSimulator = accelerator is CPUAccelerator;
        // Grid-stride loops: enough groups to fill the device; on the simulator one group (each simulated thread is
        // an OS thread, so fewer are faster there).
        ElementwiseGroups = IsSimulator ? 1 : Math.Max(1, accelerator.NumMultiprocessors) * 8;
        GroupSize = IsSimulator ? 32 : 256;
    }

    /// <summary>The runtime of a GPU-backend device; throws with the GPU support report when it is unavailable.
    /// </summary>
    public static GpuRuntime Get(Device device) => GpuDevices.RuntimeFor(device);

    public override Device Device { get; }

    internal Accelerator Accelerator { get; }

    /// <summary>The stream all of this device's work is ordered on.</summary>
    internal AcceleratorStream Stream { get; }

    public GpuMemoryPool Pool { get; }

    internal GpuKernelCache Kernels { get; }

    /// <summary>Whether this is ILGPU's CPU accelerator (the simulated GPU).</summary>
    public bool IsSimulator { get; }

    /// <summary>The accelerator's name, e.g. "NVIDIA H100 80GB HBM3" or "CPUAccelerator".</summary>
    public string Name => Accelerator.Name;

    /// <summary>Groups of a grid-stride launch.</summary>
    internal int ElementwiseGroups { get; }

    /// <summary>Threads per group of grid-stride and row kernels (a multiple of the warp size, at most 256).</summary>
    internal int GroupSize { get; }

    /// <summary>
    /// Operators that ran their CPU kernel on host copies of the arguments on this device (the backend's fallback
    /// for paths without a GPU kernel), with how many times: tests check that an operator no longer takes it.
    /// </summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<string, int> HostFallbacks { get; } = new();

    /// <summary>Kernels compiled so far on this device, and the time their compilation took.</summary>
    public (int Count, TimeSpan CompileTime) CompiledKernels => (Kernels.Count, Kernels.CompileTime);

    public override MemoryStats MemoryStats => Pool.Stats;

    public override DeviceBuffer Allocate(long bytes) => Pool.Rent(bytes);

    /// <summary>A launch of a grid-stride kernel over <paramref name="count"/> items.</summary>
    internal KernelConfig GridStride(long count)
    {
        long groups = Math.Clamp((count + GroupSize - 1) / GroupSize, 1, ElementwiseGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    /// <summary>One group of <see cref="GroupSize"/> threads per item (rows, channels).</summary>
    internal KernelConfig GroupPerItem(long items) =>
        new KernelConfig((int)Math.Max(1, items), GroupSize);

    public override void CopyFromHost(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationOffset)
    {
        var dst = Own(destination, "copy");
        if (destinationOffset < 0 || destinationOffset + source.Length > dst.Bytes)
            throw new ArgumentOutOfRangeException(nameof(destinationOffset),
                $"copy: {source.Length} bytes at offset {destinationOffset} do not fit a buffer of {dst.Bytes} bytes.");
        var view = dst.View<byte>();
        lock (copyGate)
        {
            var pinned = Staging();
            for (int done = 0; done < source.Length; done += StagingBytes)
            {
                int n = Math.Min(StagingBytes, source.Length - done);
                // The staging buffer may still feed the previous asynchronous copy.
                if (stagingBusy) Stream.Synchronize();
                source.Slice(done, n).CopyTo(pinned.Span);
                view.SubView(destinationOffset + done, n).CopyFromCPUUnsafeAsync(Stream, ref pinned.Span[0], n);
                stagingBusy = true;
            }
        }
    }

    public override void CopyToHost(DeviceBuffer source, long sourceOffset, Span<byte> destination)
    {
        var src = Own(source, "copy");
        if (sourceOffset < 0 || sourceOffset + destination.Length > src.Bytes)
            throw new ArgumentOutOfRangeException(nameof(sourceOffset),
                $"copy: {destination.Length} bytes at offset {sourceOffset} exceed a buffer of {src.Bytes} bytes.");
        var view = src.View<byte>();
        lock (copyGate)
        {
            var pinned = Staging();
            for (int done = 0; done < destination.Length; done += StagingBytes)
            {
                int n = Math.Min(StagingBytes, destination.Length - done);
                view.SubView(sourceOffset + done, n).CopyToCPUUnsafeAsync(Stream, ref pinned.Span[0], n);
                Stream.Synchronize();
                pinned.Span[..n].CopyTo(destination.Slice(done, n));
            }
            stagingBusy = false;
        }
    }

    public override void Synchronize() => Stream.Synchronize();

    protected override void CopyCore(in TensorArg source, in TensorArg destination) =>
        GpuLayout.Copy(this, source, destination);

    /// <summary>The argument's buffer as this device's GPU buffer, or an error naming the operator.</summary>
    internal GpuBuffer Own(DeviceBuffer buffer, string op)
    {
        if (buffer is not GpuBuffer g || g.Device != Device)
            throw new InvalidOperationException(
                $"{op}: a buffer on {buffer.Device} was handed to a kernel of {Device}; copy it to {Device} first.");
        ObjectDisposedException.ThrowIf(g.IsDisposed, g);
        return g;
    }

    private PageLockedArray1D<byte> Staging() => staging ??= Accelerator.AllocatePageLocked1D<byte>(StagingBytes);

    public override string ToString() => $"{Device} ({Name})";
}
