using Engine.Kernels;
using Engine.Kernels.Cpu;

namespace Engine.Backends.Cpu;

/// <summary>
/// The CPU backend: the C# SIMD kernels of Engine.Kernels/Cpu bound to the operators. One partial file per
/// operator family turns kernel arguments into the spans and descriptors those kernels take; the operators'
/// meaning stays in their definitions (Engine.Core/Ops).
/// </summary>
internal sealed partial class CpuBackend : Backend
{
    public override string Name => "cpu";

    public override IReadOnlyList<DeviceKind> DeviceKinds { get; } = [DeviceKind.Cpu];

    protected internal override void RegisterKernels()
    {
        RegisterElementwise(CpuElementwiseDriver.Instance);
        RegisterCopyKernels();
        RegisterCopy();
        RegisterLinearAlgebra();
        RegisterConvolution();
        RegisterPooling();
        RegisterNormalization();
        RegisterSampleNorm();
        RegisterActivations();
        RegisterRandom();
        RegisterLayout();
        RegisterReduction();
        RegisterOptimizers();
        RegisterLoss();
        RegisterFusion();
        RegisterRecurrent();
    }

    /// <summary>Index values of any numeric dtype as longs (MXNet passes indices as float32).</summary>
    private static long[] Indices(KernelContext context, in TensorArg indices, string op)
    {
        var x = context.Contiguous(indices);
        var result = new long[x.Size];
        switch (x.DType)
        {
            case DType.Int64: x.Elements<long>().CopyTo(result); break;
            case DType.Int32: Widen(x.Elements<int>(), result); break;
            case DType.UInt8: Widen(x.Elements<byte>(), result); break;
            case DType.Int8: Widen(x.Elements<sbyte>(), result); break;
            case DType.Float32: Whole(x.Elements<float>(), result, op); break;
            case DType.Float64: Whole(x.Elements<double>(), result, op); break;
            default: throw new ArgumentException($"{op}: indices of dtype {x.DType.Name()} are not supported.");
        }
        return result;
    }

    private static void Widen<T>(ReadOnlySpan<T> values, long[] result)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        for (int k = 0; k < values.Length; k++) result[k] = long.CreateTruncating(values[k]);
    }

    private static void Whole<T>(ReadOnlySpan<T> values, long[] result, string op)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        for (int k = 0; k < values.Length; k++)
        {
            var v = values[k];
            if (T.IsNaN(v) || v != T.Floor(v))
                throw new ArgumentException($"{op}: index {v} at position {k} is not an integer.");
            result[k] = long.CreateTruncating(v);
        }
    }
}
