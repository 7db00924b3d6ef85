using Engine.Ops;

namespace Engine;

/// <summary>
/// The operator namespace, MXNet's <c>mx.nd</c>: array creation here, operators by family in the partial files.
/// Every function validates its inputs and names itself in errors.
/// </summary>
/// <summary>Writes the elements of a new array, row-major, on the host.</summary>
public delegate void HostFill<T>(Span<T> values);

public static partial class Nd
{
    public static NDArray Array(float[] data, Shape shape, Device? device = null) =>
        NDArray.FromSpan<float>(data, shape, device ?? DefaultDevice.Current);

    public static NDArray Array(double[] data, Shape shape, Device? device = null) =>
        NDArray.FromSpan<double>(data, shape, device ?? DefaultDevice.Current);

    public static NDArray Array(int[] data, Shape shape, Device? device = null) =>
        NDArray.FromSpan<int>(data, shape, device ?? DefaultDevice.Current);

    public static NDArray Array(long[] data, Shape shape, Device? device = null) =>
        NDArray.FromSpan<long>(data, shape, device ?? DefaultDevice.Current);

    public static NDArray Array(byte[] data, Shape shape, Device? device = null) =>
        NDArray.FromSpan<byte>(data, shape, device ?? DefaultDevice.Current);

    /// <summary>A 1-D float32 array.</summary>
    public static NDArray Array(params float[] data) => Array(data, new Shape(data.Length));

    /// <summary>A float32 array from a rectangular 2-D C# array.</summary>
    public static NDArray Array(float[,] data, Device? device = null)
    {
        var flat = new float[data.Length];
        System.Buffer.BlockCopy(data, 0, flat, 0, flat.Length * sizeof(float));
        return Array(flat, new Shape(data.GetLength(0), data.GetLength(1)), device);
    }

    /// <summary>A float32 array from nested rows; ragged rows are an error that names the row.</summary>
    public static NDArray Array(float[][] rows, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int cols = rows.Length == 0 ? 0 : rows[0].Length;
        var flat = new float[rows.Length * cols];
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r] is null || rows[r].Length != cols)
                throw new ArgumentException(
                    $"array: ragged data: row 0 has {cols} values but row {r} has {rows[r]?.Length ?? 0}; " +
                    "every row must have the same length.");
            rows[r].CopyTo(flat, r * cols);
        }
        return Array(flat, new Shape(rows.Length, cols), device);
    }

    /// <summary>An array of any element type from host values (copied).</summary>
    public static NDArray Array<T>(ReadOnlySpan<T> data, Shape shape, Device? device = null) where T : unmanaged =>
        NDArray.FromSpan(data, shape, device ?? DefaultDevice.Current);

    /// <summary>A new array whose contents are undefined until written (NumPy's empty).</summary>
    public static NDArray Empty(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        NDArray.Empty(shape, dtype, device ?? DefaultDevice.Current);

    /// <summary>
    /// A new array filled by <paramref name="fill"/>, which writes every element into a host span (row-major).
    /// On the CPU it writes the array's own memory; on other devices a host buffer that is then copied over.
    /// </summary>
    public static NDArray FromHost<T>(Shape shape, HostFill<T> fill, Device? device = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(fill);
        var target = device ?? DefaultDevice.Current;
        if (target.Kind != DeviceKind.Cpu)
        {
            var host = new T[shape.Size];
            fill(host);
            return NDArray.FromSpan<T>(host, shape, target);
        }
        var a = NDArray.Empty(shape, DTypeExtensions.Of<T>(), target);
        fill(a.AsSpan<T>()[..checked((int)shape.Size)]);
        return a;
    }

    public static NDArray Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        Full(shape, 0, dtype, device);

    public static NDArray Ones(Shape shape, DType dtype = DType.Float32, Device? device = null) =>
        Full(shape, 1, dtype, device);

    public static NDArray Zeros(params int[] shape) => Zeros(new Shape(shape));

    public static NDArray Ones(params int[] shape) => Ones(new Shape(shape));

    public static NDArray ZerosLike(NDArray x) => Zeros(x.Shape, x.DType, x.Device);

    public static NDArray OnesLike(NDArray x) => Ones(x.Shape, x.DType, x.Device);

    /// <summary>An array filled with <paramref name="value"/>.</summary>
    public static NDArray Full(Shape shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        using (device is null ? null : DefaultDevice.Use(device.Value))
            return CopyOps.Full.Call(new FullAttrs(shape, value, dtype));
    }

    /// <summary>A scalar (rank 0) array.</summary>
    public static NDArray Scalar(double value, DType dtype = DType.Float32, Device? device = null) =>
        Full(Shape.Scalar, value, dtype, device);

    /// <summary>Evenly spaced values in [start, stop) as float32 (or <paramref name="dtype"/>).</summary>
    public static NDArray Arange(double start, double stop, double step = 1, DType dtype = DType.Float32,
        Device? device = null)
    {
        if (step == 0 || !double.IsFinite(step))
            throw new ArgumentException($"arange: step must be finite and non-zero, got {step}.", nameof(step));
        if (!double.IsFinite(start) || !double.IsFinite(stop))
            throw new ArgumentException(
                $"arange: start and stop must be finite numbers, got start {start} and stop {stop}.",
                double.IsFinite(start) ? nameof(stop) : nameof(start));
        double count = Math.Max(0, Math.Ceiling((stop - start) / step));
        if (count > int.MaxValue)
            throw new ArgumentException(
                $"arange: start {start}, stop {stop} and step {step} give {count} elements, more than one array " +
                $"holds ({int.MaxValue}); use a larger step or a smaller range.");
        long n = (long)count;
        var values = new double[n];
        for (long i = 0; i < n; i++) values[i] = start + i * step;
        using var d = Array(values, new Shape(checked((int)n)), device);
        return dtype == DType.Float64 ? d.Copy() : d.AsType(dtype);
    }

    /// <summary>A contiguous copy of <paramref name="x"/>.</summary>
    public static NDArray Copy(NDArray x) => CopyOps.Copy.Call(NoAttrs.Instance, x);

    /// <summary>
    /// Writes the values of <paramref name="source"/> into <paramref name="destination"/> (same shape).
    /// </summary>
    internal static void CopyInto(NDArray source, NDArray destination)
    {
        if (source.Shape != destination.Shape || source.DType != destination.DType)
            throw new ArgumentException(
                $"copy: cannot copy {source.DType.Name()}{source.Shape} into {destination.DType.Name()}" +
                $"{destination.Shape}; shapes and dtypes must match.");
        Imperative.Invoke(CopyOps.Copy, NoAttrs.Instance, [source], [destination], Kernels.WriteRequest.Write);
    }
}
