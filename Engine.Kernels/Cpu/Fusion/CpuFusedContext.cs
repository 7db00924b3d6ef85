using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels.Fusion;

namespace Engine.Kernels.Cpu;

/// <summary>
/// The CPU's view of one row of a fused loop nest: a pointer and a stride per input, a mask per input for the
/// vector path (all ones for a contiguous input, zero for a broadcast one, whose pointer then points at a
/// vector of copies of its value) and the output row pointers. The input number is a constant in every
/// specialised expression, so the switches fold away.
/// </summary>
internal unsafe struct CpuFusedContext<T> : IFusedContext<T> where T : unmanaged
{
    public T* P0, P1, P2, P3, P4, P5, P6, P7;
    public long S0, S1, S2, S3, S4, S5, S6, S7;
    public long M0, M1, M2, M3, M4, M5, M6, M7;
    public T** Y;

    public void Set(int input, T* pointer, long stride, long mask)
    {
        switch (input)
        {
            case 0: P0 = pointer; S0 = stride; M0 = mask; break;
            case 1: P1 = pointer; S1 = stride; M1 = mask; break;
            case 2: P2 = pointer; S2 = stride; M2 = mask; break;
            case 3: P3 = pointer; S3 = stride; M3 = mask; break;
            case 4: P4 = pointer; S4 = stride; M4 = mask; break;
            case 5: P5 = pointer; S5 = stride; M5 = mask; break;
            case 6: P6 = pointer; S6 = stride; M6 = mask; break;
            default: P7 = pointer; S7 = stride; M7 = mask; break;
        }
    }

    /// <summary>Input <paramref name="input"/>'s row pointer and stride (the interpreter's chunk set-up).</summary>
    public readonly (IntPtr Pointer, long Stride) Input(int input) => input switch
    {
        0 => ((IntPtr)P0, S0), 1 => ((IntPtr)P1, S1), 2 => ((IntPtr)P2, S2), 3 => ((IntPtr)P3, S3),
        4 => ((IntPtr)P4, S4), 5 => ((IntPtr)P5, S5), 6 => ((IntPtr)P6, S6), _ => ((IntPtr)P7, S7),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T Load(int input, long i) => input switch
    {
        0 => P0[i * S0], 1 => P1[i * S1], 2 => P2[i * S2], 3 => P3[i * S3], 4 => P4[i * S4], 5 => P5[i * S5],
        6 => P6[i * S6], _ => P7[i * S7],
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector512<T> LoadVector(int input, long i) => input switch
    {
        0 => Vector512.Load(P0 + (i & M0)), 1 => Vector512.Load(P1 + (i & M1)), 2 => Vector512.Load(P2 + (i & M2)),
        3 => Vector512.Load(P3 + (i & M3)), 4 => Vector512.Load(P4 + (i & M4)), 5 => Vector512.Load(P5 + (i & M5)),
        6 => Vector512.Load(P6 + (i & M6)), _ => Vector512.Load(P7 + (i & M7)),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int output, long i, T value) => Y[output][i] = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreVector(int output, long i, Vector512<T> value) => Vector512.Store(value, Y[output] + i);
}
