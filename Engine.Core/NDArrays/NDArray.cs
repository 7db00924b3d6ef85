using System.Runtime.InteropServices;
using Engine.Kernels;
using Engine.Memory;

namespace Engine;

/// <summary>
/// An n-dimensional array on a device. Arrays are views (shape, strides, offset) over a shared buffer; the
/// buffer returns to its pool when every view is disposed, or from the finalizer as a safety net, so code that
/// never calls Dispose still runs in bounded memory. <c>using var scope = NDArray.Scope()</c> disposes the
/// temporaries of a block.
/// </summary>
public sealed partial class NDArray : IDisposable
{
    private int disposed;

    internal NDArray(Storage storage, Shape shape, DType dtype, long[] strides, long offset, bool track = true)
    {
        this.storage = storage;
        Shape = shape;
        DType = dtype;
        Strides = strides;
        Offset = offset;
        if (track) NDArrayScope.Current?.Track(this);
    }

    private readonly Storage storage;

    internal Storage Storage => storage;

    public Shape Shape { get; }

    public DType DType { get; }

    public Device Device => storage.Device;

    /// <summary>Strides in elements (0 on broadcast dimensions of internal views).</summary>
    internal long[] Strides { get; }

    /// <summary>Element offset of [0, ..., 0] in the buffer.</summary>
    internal long Offset { get; }

    public int Rank => Shape.Rank;

    public long Size => Shape.Size;

    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    public bool IsContiguous => Layout.IsContiguous;

    private TensorLayout? layout;

    internal TensorLayout Layout => layout ??= new TensorLayout(Shape, Strides, Offset);

    /// <summary>What a kernel sees of this array.</summary>
    internal TensorArg Arg
    {
        get
        {
            ThrowIfNoData();
            return new TensorArg(storage.Buffer, Layout, DType);
        }
    }

    /// <summary>Why this array holds no data (a value the tape did not keep), or null when it has data.</summary>
    private string? noData;

    /// <summary>While tracing: the graph value this symbolic array stands for.</summary>
    internal Graphs.NodeOutput? Traced { get; set; }

    /// <summary>Whether this is a symbolic array of a trace (a hybridized block's first call).</summary>
    public bool IsSymbolic => Traced is not null;

    /// <summary>Whether the array has elements to read (false for shape-only stand-ins).</summary>
    public bool HasData => noData is null;

    /// <summary>
    /// An array with a shape, dtype and device but no elements: it stands in for a value the tape did not keep,
    /// so a gradient rule can still read its shape. Reading its data throws with <paramref name="why"/>.
    /// </summary>
    internal static NDArray ShapeOnly(Shape shape, DType dtype, Device device, string why) =>
        new(new Storage(new NoDataBuffer(device)), shape, dtype, shape.ContiguousStrides(), 0, track: false)
        {
            noData = why,
        };

    /// <summary>A scope that disposes every array created inside it unless kept.</summary>
    public static NDArrayScope Scope() => new();

    /// <summary>A new, uninitialised contiguous array.</summary>
    internal static NDArray Empty(Shape shape, DType dtype, Device device)
    {
        int width = dtype.SizeInBytes();
        long bytes = shape.Size > long.MaxValue / width ? long.MaxValue : shape.Size * width;
        Storage storage;
        try
        {
            storage = Storage.Allocate(device, bytes);
        }
        catch (OutOfMemoryException e)
        {
            throw new OutOfMemoryException(
                $"NDArray: cannot allocate an array of shape {shape} and dtype {dtype.Name()} ({bytes} bytes) on " +
                $"{device}: {e.Message}", e);
        }
        return new NDArray(storage, shape, dtype, shape.ContiguousStrides(), 0);
    }

    /// <summary>A view sharing this array's buffer.</summary>
    internal NDArray View(Shape shape, long[] strides, long offset, bool track = true)
    {
        ThrowIfDisposed();
        storage.AddReference();
        return new NDArray(storage, shape, DType, strides, offset, track) { noData = noData, Traced = Traced };
    }

    /// <summary>A view of the same elements that no scope tracks (the tape's saved values).</summary>
    /// <remarks>The alias keeps this array's place in the graph, so gradients computed from saved values with
    /// createGraph still connect to the variables.</remarks>
    internal NDArray UntrackedAlias()
    {
        var alias = View(Shape, Strides, Offset, track: false);
        alias.Node = Node;
        return alias;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        storage.Release();
    }

    /// <summary>Throws unless the array is alive and has elements.</summary>
    internal void ThrowIfNoData()
    {
        if (noData is not null) throw new InvalidOperationException(noData);
        ThrowIfDisposed();
    }

    internal void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(nameof(NDArray),
                $"This NDArray of shape {Shape} was disposed (explicitly or by an NDArray.Scope that ended); " +
                "keep it with scope.Keep(array) or copy it before the scope ends.");
    }

    /// <summary>The elements as a span over CPU memory. The array must be contiguous and on the CPU.</summary>
    internal unsafe Span<T> AsSpan<T>() where T : unmanaged
    {
        ThrowIfNoData();
        CheckElementType<T>();
        var buffer = (CpuBuffer)storage.Buffer;
        return new Span<T>((T*)buffer.Pointer + Offset, checked((int)Math.Max(0, Layout.Extent - Offset)));
    }

    /// <summary>The whole buffer as a span (for kernels that take a layout with an offset).</summary>
    internal unsafe Span<T> BufferAsSpan<T>() where T : unmanaged
    {
        ThrowIfNoData();
        CheckElementType<T>();
        var buffer = (CpuBuffer)storage.Buffer;
        return new Span<T>((void*)buffer.Pointer, checked((int)(buffer.Bytes / sizeof(T))));
    }

    /// <summary>The whole buffer reinterpreted as T (for copies that only move bytes).</summary>
    internal unsafe Span<T> RawBufferAsSpan<T>() where T : unmanaged
    {
        ThrowIfNoData();
        var buffer = (CpuBuffer)storage.Buffer;
        return new Span<T>((void*)buffer.Pointer, checked((int)(buffer.Bytes / sizeof(T))));
    }

    /// <summary>This array's elements (from its offset) reinterpreted as T.</summary>
    internal unsafe Span<T> RawAsSpan<T>() where T : unmanaged
    {
        ThrowIfNoData();
        var buffer = (CpuBuffer)storage.Buffer;
        return new Span<T>((T*)buffer.Pointer + Offset, checked((int)Math.Max(0, Layout.Extent - Offset)));
    }

    private void CheckElementType<T>() where T : unmanaged
    {
        if (DTypeExtensions.Of<T>() != DType)
            throw new InvalidOperationException(
                $"NDArray: the array holds {DType.Name()}, not {DTypeExtensions.Of<T>().Name()}; " +
                $"use AsType(DType.{DTypeExtensions.Of<T>()}) first.");
    }

    /// <summary>Copies the elements, in row-major order, to a new managed array.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        ThrowIfNoData();
        if (DTypeExtensions.Of<T>() != DType)
        {
            using var cast = AsType(DTypeExtensions.Of<T>());
            return cast.ToArray<T>();
        }
        var c = AsContiguousCpu();
        try
        {
            return c.AsSpan<T>()[..checked((int)Size)].ToArray();
        }
        finally
        {
            if (!ReferenceEquals(c, this)) c.Dispose();
        }
    }

    /// <summary>The elements as float32.</summary>
    public float[] ToArray() => ToArray<float>();

    /// <summary>The single element of a size-1 array.</summary>
    public T ToScalar<T>() where T : unmanaged
    {
        if (Size != 1)
            throw new InvalidOperationException(
                $"ToScalar: the array has shape {Shape} ({Size} elements); only a size-1 array converts to a scalar.");
        return ToArray<T>()[0];
    }

    public float ToScalar() => ToScalar<float>();

    /// <summary>This array if contiguous and on the CPU, else a contiguous CPU copy.</summary>
    internal NDArray AsContiguousCpu()
    {
        ThrowIfDisposed();
        if (Device.Kind == DeviceKind.Cpu && IsContiguous) return this;
        using (Autograd.Pause(Autograd.IsTraining)) return CopyTo(new Device(DeviceKind.Cpu,
            Device.Kind == DeviceKind.Cpu ? Device.Ordinal : 0));
    }

    internal static NDArray FromSpan<T>(ReadOnlySpan<T> data, Shape shape, Device device) where T : unmanaged
    {
        if (data.Length != shape.Size)
            throw new ArgumentException(
                $"array: {data.Length} values cannot fill shape {shape}, which needs {shape.Size}.");
        var a = Empty(shape, DTypeExtensions.Of<T>(), device);
        DeviceRuntime.For(device).CopyFromHost(MemoryMarshal.AsBytes(data), a.storage.Buffer, 0);
        return a;
    }
}
