namespace Engine.Kernels.Cpu;

/// <summary>MXNet's Dropout forward: the mask (0 or 1/keep) on the Philox stream, and y = x * mask.</summary>
public static class CpuDropout
{
    /// <summary>
    /// When not <paramref name="active"/> (inference, or p = 0), y is x and the mask is ones, and no random numbers
    /// are drawn; otherwise the mask comes from counters [offset, ...) of <paramref name="seed"/>'s stream.
    /// </summary>
    public static void Forward<T>(bool active, ulong seed, ulong offset, double keep, ReadOnlySpan<T> x, Span<T> mask,
        Span<T> y) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (!active)
        {
            x.CopyTo(y);
            mask.Fill(T.One);
            return;
        }
        CpuRandom.DropoutMask(seed, offset, keep, mask);
        CpuRandom.Dropout(x, mask, y);
    }
}
