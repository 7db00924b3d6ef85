using System.Runtime.Intrinsics;
using Engine.Kernels.Fusion;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The GPU's view of a fused program's operands: a buffer and a strided index per input (up to 8), a dense view
/// per output (up to 4). Scalar fields, not arrays (ILGPU keeps indexed arrays in local memory); the input and
/// output numbers are constants in every specialised expression, so the switches fold away. The vector forms are
/// never reached on the GPU.
/// </summary>
public struct GpuFusedContext<T> : IFusedContext<T> where T : unmanaged
{
    /// <summary>Most outputs a one-kernel GPU program writes; programs with more run step by step.</summary>
    public const int MaxOutputs = 4;

    public ArrayView<T> V0, V1, V2, V3, V4, V5, V6, V7;
    public StridedIndex I0, I1, I2, I3, I4, I5, I6, I7;
    public ArrayView<T> Y0, Y1, Y2, Y3;

    internal void SetInput(int input, ArrayView<T> view, StridedIndex index)
    {
        switch (input)
        {
            case 0: V0 = view; I0 = index; break;
            case 1: V1 = view; I1 = index; break;
            case 2: V2 = view; I2 = index; break;
            case 3: V3 = view; I3 = index; break;
            case 4: V4 = view; I4 = index; break;
            case 5: V5 = view; I5 = index; break;
            case 6: V6 = view; I6 = index; break;
            default: V7 = view; I7 = index; break;
        }
    }

    internal void SetOutput(int output, ArrayView<T> view)
    {
        switch (output)
        {
            case 0: Y0 = view; break;
            case 1: Y1 = view; break;
            case 2: Y2 = view; break;
            default: Y3 = view; break;
        }
    }

    public readonly T Load(int input, long index)
    {
        int i = (int)index;
        return input switch
        {
            0 => V0[I0.At(i)], 1 => V1[I1.At(i)], 2 => V2[I2.At(i)], 3 => V3[I3.At(i)], 4 => V4[I4.At(i)],
            5 => V5[I5.At(i)], 6 => V6[I6.At(i)], _ => V7[I7.At(i)],
        };
    }

    public readonly Vector512<T> LoadVector(int input, long index) => default;

    public readonly void Store(int output, long index, T value)
    {
        int i = (int)index;
        switch (output)
        {
            case 0: Y0[i] = value; break;
            case 1: Y1[i] = value; break;
            case 2: Y2[i] = value; break;
            default: Y3[i] = value; break;
        }
    }

    public readonly void StoreVector(int output, long index, Vector512<T> value) { }
}
