namespace Engine.Gluon.Optimizers;

/// <summary>When an update can run as one fused CPU kernel, and how it marks the arrays it wrote.</summary>
internal static class FusedUpdate
{
    /// <summary>float32, contiguous, on the CPU: the case the fused kernels handle.</summary>
    public static bool CanRun(NDArray weight, NDArray grad, IReadOnlyList<NDArray> state) =>
        weight.DType == DType.Float32 && grad.DType == DType.Float32 && weight.Device.Kind == DeviceKind.Cpu &&
        grad.Device.Kind == DeviceKind.Cpu && weight.IsContiguous && grad.IsContiguous &&
        state.All(s => s.DType == DType.Float32 && s.IsContiguous && s.Device.Kind == DeviceKind.Cpu);

    /// <summary>Runs the kernel and bumps the written arrays' versions, as Assign would.</summary>
    public static void Run(NDArray weight, IReadOnlyList<NDArray> state, Action kernel)
    {
        kernel();
        weight.Storage.Version++;
        foreach (var s in state) s.Storage.Version++;
    }
}
