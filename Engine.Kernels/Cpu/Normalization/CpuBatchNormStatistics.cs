using System.Numerics;

namespace Engine.Kernels.Cpu;

/// <summary>The statistics an inference-mode batch norm saves for its gradient.</summary>
public static class CpuBatchNormStatistics
{
    /// <summary>savedMean = runningMean; savedInvStd = 1 / sqrt(runningVar + eps), per channel.</summary>
    public static void FromRunning<T>(int channels, double epsilon, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, Span<T> savedMean, Span<T> savedInvStd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        runningMean[..channels].CopyTo(savedMean);
        var eps = T.CreateTruncating(epsilon);
        for (int c = 0; c < channels; c++) savedInvStd[c] = T.One / T.Sqrt(runningVar[c] + eps);
    }
}
