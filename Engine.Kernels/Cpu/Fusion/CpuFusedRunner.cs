using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels.Fusion;

namespace Engine.Kernels.Cpu;

/// <summary>Runs a compiled fused program over one row segment of its loop nest.</summary>
internal abstract unsafe class CpuFusedRunner<T> where T : unmanaged
{
    /// <summary>
    /// Computes elements [0, n) of the row the context points at. <paramref name="vector"/> is true when every
    /// input stride is 0 or 1 and every operator has a vector form.
    /// </summary>
    public abstract void RunRow(ref CpuFusedContext<T> context, long n, bool vector);
}

/// <summary>
/// The generic-struct design: the program composed into one store chain type, so this loop is specialised by
/// the JIT into straight-line vector code for the whole group.
/// </summary>
internal sealed unsafe class CpuFusedGenericRunner<TStore, T>(TStore store) : CpuFusedRunner<T>
    where TStore : struct, IFusedStore<T> where T : unmanaged
{
    private readonly TStore store = store;

    // Fully optimised at once, not left to tiering: a fused reduction calls this for every line of up to a few
    // hundred elements, too short a loop for on-stack replacement, and tier-0 code of the composed expression
    // runs several times slower until the background tier-1 compile arrives (later still on a loaded machine).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public override void RunRow(ref CpuFusedContext<T> context, long n, bool vector)
    {
        var s = store;
        long i = 0;
        if (vector)
        {
            int w = Vector512<T>.Count;
            for (; i <= n - w; i += w) s.StoreVector(ref context, i);
        }
        for (; i < n; i++) s.Store(ref context, i);
    }
}
