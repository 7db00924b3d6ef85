using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Random numbers on the GPU from the CPU's Philox4x32-10 streams (<see cref="Cpu.Philox"/>): element 4q + j of a
/// 32-bit stream is word j of Philox(seed, offset + q), so a mask made here is bit for bit the CPU's mask, whatever
/// the launch shape; float64 streams read element 2q + j from the word pair (X[2j], X[2j + 1]) of
/// Philox(seed, offset + q), as the CPU's. Uniform values (float32 and float64) and Bernoulli and dropout masks are
/// bit-identical to the CPU's (integer arithmetic, exact scalings and a fused multiply-add); normal values use the
/// device's double log, sin and cos, so on a GPU they agree to rounding only (float32 almost always bit for bit,
/// float64 to about 1e-15 relative); on the simulated GPU, which runs .NET's, they are identical.
/// </summary>
public static class GpuRandom
{
    private const float Unit24 = 1f / (1 << 24);
    private const double Unit53 = 1.0 / (1L << 53);
    private const double TwoPi = 2 * Math.PI;

    /// <summary>Fills <paramref name="dst"/> with uniform float32 values in [low, high).</summary>
    public static void Uniform(GpuRuntime runtime, ulong seed, ulong offset, float low, float high,
        in TensorArg dst)
    {
        if (!float.IsFinite(low) || !float.IsFinite(high) || low > high || !float.IsFinite(high - low))
            throw new ArgumentOutOfRangeException(nameof(low),
                $"uniform: bounds must be finite with low <= high, got low {low} and high {high}.");
        var v = dst.Elements<float>(runtime, "uniform");
        int n = (int)dst.Size;
        if (n == 0) return;
        int counters = (n + 3) / 4;
        runtime.Kernels.Load<ArrayView<float>, ulong, ulong, float, float, int, int>(UniformKernel)(runtime.Stream,
            runtime.GridStride(counters), v, seed, offset, low, high - low, n, counters);
    }

    /// <summary>Fills <paramref name="dst"/> with uniform float64 values in [low, high).</summary>
    public static void Uniform(GpuRuntime runtime, ulong seed, ulong offset, double low, double high,
        in TensorArg dst)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || low > high || !double.IsFinite(high - low))
            throw new ArgumentOutOfRangeException(nameof(low),
                $"uniform: bounds must be finite with low <= high, got low {low} and high {high}.");
        var v = dst.Elements<double>(runtime, "uniform");
        int n = (int)dst.Size;
        if (n == 0) return;
        int counters = (n + 1) / 2;
        runtime.Kernels.Load<ArrayView<double>, ulong, ulong, double, double, int, int>(UniformKernel64)(
            runtime.Stream, runtime.GridStride(counters), v, seed, offset, low, high - low, n, counters);
    }

    /// <summary>Fills <paramref name="dst"/> with normal float64 values.</summary>
    public static void Normal(GpuRuntime runtime, ulong seed, ulong offset, double mean, double std,
        in TensorArg dst)
    {
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std < 0)
            throw new ArgumentOutOfRangeException(nameof(std),
                $"normal: mean {mean} and standard deviation {std} must be finite, with std >= 0.");
        var v = dst.Elements<double>(runtime, "normal");
        int n = (int)dst.Size;
        if (n == 0) return;
        int counters = (n + 1) / 2;
        runtime.Kernels.Load<ArrayView<double>, ulong, ulong, double, double, int, int>(NormalKernel64)(
            runtime.Stream, runtime.GridStride(counters), v, seed, offset, mean, std, n, counters);
    }

    /// <summary>Fills <paramref name="dst"/> with normal float32 values.</summary>
    public static void Normal(GpuRuntime runtime, ulong seed, ulong offset, float mean, float std, in TensorArg dst)
    {
        if (!float.IsFinite(mean) || !float.IsFinite(std) || std < 0)
            throw new ArgumentOutOfRangeException(nameof(std),
                $"normal: mean {mean} and standard deviation {std} must be finite, with std >= 0.");
        var v = dst.Elements<float>(runtime, "normal");
        int n = (int)dst.Size;
        if (n == 0) return;
        int counters = (n + 3) / 4;
        runtime.Kernels.Load<ArrayView<float>, ulong, ulong, float, float, int, int>(NormalKernel)(runtime.Stream,
            runtime.GridStride(counters), v, seed, offset, mean, std, n, counters);
    }

    /// <summary>Fills <paramref name="dst"/> with 1 (probability p) or 0.</summary>
    public static void Bernoulli<T>(GpuRuntime runtime, ulong seed, ulong offset, double p, T one, in TensorArg dst)
        where T : unmanaged
    {
        CheckProbability("bernoulli", "probability", p);
        Mask(runtime, "bernoulli", seed, offset, p, one, dst);
    }

    /// <summary>The dropout mask: 1 / keepProb with probability keepProb, else 0 (float32 or float64).</summary>
    public static void DropoutMask(GpuRuntime runtime, ulong seed, ulong offset, double keepProb, in TensorArg mask)
    {
        CheckProbability("dropout", "keep probability", keepProb);
        double scale = keepProb > 0 ? 1.0 / keepProb : 0.0;
        if (mask.DType == DType.Float64) Mask(runtime, "dropout", seed, offset, keepProb, scale, mask);
        else Mask(runtime, "dropout", seed, offset, keepProb, (float)scale, mask);
    }

    private static void Mask<T>(GpuRuntime runtime, string op, ulong seed, ulong offset, double p, T kept,
        in TensorArg dst) where T : unmanaged
    {
        var v = dst.Elements<T>(runtime, op);
        int n = (int)dst.Size;
        if (n == 0) return;
        int counters = (n + 3) / 4;
        // The CPU keeps an element when its word's top 24 bits fall below p * 2^24.
        runtime.Kernels.Load<ArrayView<T>, ulong, ulong, double, T, int, int>(MaskKernel<T>)(runtime.Stream,
            runtime.GridStride(counters), v, seed, offset, p * (1 << 24), kept, n, counters);
    }

    private static void CheckProbability(string op, string what, double p)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), $"{op}: {what} {p} is outside [0, 1].");
    }

    /// <summary>Philox4x32-10 as <see cref="Cpu.Philox.Generate(ulong, ulong)"/>: key = seed, counter = (c, 0).
    /// </summary>
    public struct PhiloxBlock
    {
        public uint X0, X1, X2, X3;

        public static PhiloxBlock Generate(ulong seed, ulong counter)
        {
            uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
            uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
            for (int round = 0; round < Cpu.Philox.Rounds; round++)
            {
                if (round > 0)
                {
                    k0 += Cpu.Philox.W0;
                    k1 += Cpu.Philox.W1;
                }
                ulong p0 = (ulong)Cpu.Philox.M0 * c0;
                ulong p1 = (ulong)Cpu.Philox.M1 * c2;
                uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
                c1 = (uint)p1;
                c3 = (uint)p0;
                c0 = n0;
                c2 = n2;
            }
            return new PhiloxBlock { X0 = c0, X1 = c1, X2 = c2, X3 = c3 };
        }
    }

    private static void UniformKernel(ArrayView<float> dst, ulong seed, ulong offset, float low, float width, int n,
        int counters)
    {
        for (int q = Grid.GlobalIndex.X; q < counters; q += Grid.DimX * Group.DimX)
        {
            var b = PhiloxBlock.Generate(seed, offset + (ulong)q);
            int i = q * 4;
            dst[i] = MathF.FusedMultiplyAdd(width, (b.X0 >> 8) * Unit24, low);
            if (i + 1 < n) dst[i + 1] = MathF.FusedMultiplyAdd(width, (b.X1 >> 8) * Unit24, low);
            if (i + 2 < n) dst[i + 2] = MathF.FusedMultiplyAdd(width, (b.X2 >> 8) * Unit24, low);
            if (i + 3 < n) dst[i + 3] = MathF.FusedMultiplyAdd(width, (b.X3 >> 8) * Unit24, low);
        }
    }

    private static void NormalKernel(ArrayView<float> dst, ulong seed, ulong offset, float mean, float std, int n,
        int counters)
    {
        for (int q = Grid.GlobalIndex.X; q < counters; q += Grid.DimX * Group.DimX)
        {
            var b = PhiloxBlock.Generate(seed, offset + (ulong)q);
            // Box-Muller on (u1 in (0, 1], u2 in [0, 1)) pairs, as the CPU does.
            double r0 = Math.Sqrt(-2.0 * Math.Log(((b.X0 >> 8) + 1) * (double)Unit24));
            double t0 = TwoPi * ((b.X1 >> 8) * (double)Unit24);
            double r1 = Math.Sqrt(-2.0 * Math.Log(((b.X2 >> 8) + 1) * (double)Unit24));
            double t1 = TwoPi * ((b.X3 >> 8) * (double)Unit24);
            int i = q * 4;
            dst[i] = (float)Math.FusedMultiplyAdd(std, r0 * Math.Cos(t0), mean);
            if (i + 1 < n) dst[i + 1] = (float)Math.FusedMultiplyAdd(std, r0 * Math.Sin(t0), mean);
            if (i + 2 < n) dst[i + 2] = (float)Math.FusedMultiplyAdd(std, r1 * Math.Cos(t1), mean);
            if (i + 3 < n) dst[i + 3] = (float)Math.FusedMultiplyAdd(std, r1 * Math.Sin(t1), mean);
        }
    }

    /// <summary>u53(a, b) = (((a &lt;&lt; 32) | b) &gt;&gt; 11) * 2^-53, exact.</summary>
    private static double U53(uint high, uint low) => ((((ulong)high << 32) | low) >> 11) * Unit53;

    private static void UniformKernel64(ArrayView<double> dst, ulong seed, ulong offset, double low, double width,
        int n, int counters)
    {
        for (int q = Grid.GlobalIndex.X; q < counters; q += Grid.DimX * Group.DimX)
        {
            var b = PhiloxBlock.Generate(seed, offset + (ulong)q);
            int i = q * 2;
            dst[i] = Math.FusedMultiplyAdd(width, U53(b.X0, b.X1), low);
            if (i + 1 < n) dst[i + 1] = Math.FusedMultiplyAdd(width, U53(b.X2, b.X3), low);
        }
    }

    private static void NormalKernel64(ArrayView<double> dst, ulong seed, ulong offset, double mean, double std,
        int n, int counters)
    {
        for (int q = Grid.GlobalIndex.X; q < counters; q += Grid.DimX * Group.DimX)
        {
            var b = PhiloxBlock.Generate(seed, offset + (ulong)q);
            // Box-Muller on u1 = u53 + 2^-53 in (0, 1] and u2 = u53 in [0, 1), as the CPU does.
            double r = Math.Sqrt(-2.0 * Math.Log(U53(b.X0, b.X1) + Unit53));
            double t = TwoPi * U53(b.X2, b.X3);
            int i = q * 2;
            dst[i] = Math.FusedMultiplyAdd(std, r * Math.Cos(t), mean);
            if (i + 1 < n) dst[i + 1] = Math.FusedMultiplyAdd(std, r * Math.Sin(t), mean);
        }
    }

    private static void MaskKernel<T>(ArrayView<T> dst, ulong seed, ulong offset, double threshold, T kept, int n,
        int counters) where T : unmanaged
    {
        for (int q = Grid.GlobalIndex.X; q < counters; q += Grid.DimX * Group.DimX)
        {
            var b = PhiloxBlock.Generate(seed, offset + (ulong)q);
            int i = q * 4;
            dst[i] = (b.X0 >> 8) < threshold ? kept : default;
            if (i + 1 < n) dst[i + 1] = (b.X1 >> 8) < threshold ? kept : default;
            if (i + 2 < n) dst[i + 2] = (b.X2 >> 8) < threshold ? kept : default;
            if (i + 3 < n) dst[i + 3] = (b.X3 >> 8) < threshold ? kept : default;
        }
    }
}
