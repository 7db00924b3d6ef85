using System.Numerics;
using System.Runtime.Intrinsics;
using Engine.Kernels.Cpu;

namespace Engine.Bench;

/// <summary>
/// Small-batch inference and per-operator cost. "dispatch": tiny operators through Nd (validation, shape rule,
/// allocation from the pool, kernel call, disposal), where the kernel is a few nanoseconds and the rest is the
/// eager machinery: relu on 256 floats, add of two 256-float arrays, and an imperative MLP 784-256-10 at batch 1
/// (no recording). "stream": FullyConnected 784 -> 256 at batch 1 and 4 through <see cref="CpuGemm.Gemm{T}"/> in
/// both weight layouts (x W^T with W stored out x in, x W with W stored in x out), with the weights read from
/// memory: each call takes the next of <see cref="StreamCopies"/> copies (more bytes than the last-level cache
/// holds), so GB/s over the weights' bytes is the memory traffic; and the anchor "stream read", a plain vector sum
/// over the same copies, the machine's read bandwidth in the same run. Ratio = fc GB/s / read GB/s.
/// </summary>
public static class InferSuite
{
    /// <summary>160 copies of 784 x 256 floats: 128 MB, several times any L3 the suite runs on.</summary>
    public const int StreamCopies = 160;

    private const int In = 784, Out = 256;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (var r in Dispatch(ctx)) yield return r;
        foreach (var r in Stream(ctx)) yield return r;
    }

    /// <summary>The dispatch cases, in the order they run.</summary>
    internal static readonly string[] DispatchCases =
        ["dispatch relu 256", "dispatch add 256", "dispatch mlp 784-256-10 b1 infer"];

    private static IEnumerable<BenchResult> Dispatch(BenchContext ctx)
    {
        foreach (string name in DispatchCases)
        {
            if (!ctx.Wants(name)) continue;
            using var body = SetUpDispatch(name);
            yield return Allocations(ctx.Measure(name, body.Run), body.Run);
        }
    }

    /// <summary>One of <see cref="DispatchCases"/>: its operands, and a call whose output is disposed.</summary>
    internal static CaseBody SetUpDispatch(string name)
    {
        switch (name)
        {
            case "dispatch relu 256":
            {
                var a = Nd.RandomNormal(0, 1, new Shape(256));
                return new CaseBody(() => Nd.Relu(a).Dispose(), a);
            }
            case "dispatch add 256":
            {
                var a = Nd.RandomNormal(0, 1, new Shape(256));
                var b = Nd.RandomNormal(0, 1, new Shape(256));
                return new CaseBody(() => Nd.Add(a, b).Dispose(), a, b);
            }
            case "dispatch mlp 784-256-10 b1 infer":
            {
                var model = new Models.MlpModel();
                var x = Nd.RandomNormal(0, 1, new Shape(1, In));
                return new CaseBody(() =>
                {
                    using var scope = NDArray.Scope();
                    model.Forward(x);
                }, model, x);
            }
            default:
                throw new ArgumentException($"InferSuite: no dispatch case '{name}'.", nameof(name));
        }
    }

    /// <summary>Prints the managed bytes one call allocates (after warm-up) to stderr; returns the result.</summary>
    private static BenchResult Allocations(BenchResult result, Action body)
    {
        const int calls = 1000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) body();
        double perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
        Console.Error.WriteLine($"{result.Case}: {perCall:F0} managed bytes allocated per call");
        return result;
    }

    private static IEnumerable<BenchResult> Stream(BenchContext ctx)
    {
        const int size = In * Out;
        var random = new Random(5);
        NativeFloats? weights = null;
        using var x = new NativeFloats(4 * In, random);
        using var y = new NativeFloats(4 * Out);
        double bytes = size * sizeof(float);
        int next = 0;
        Span<float> NextCopy()
        {
            weights ??= new NativeFloats((long)StreamCopies * size, random);
            return weights.Span.Slice(size * (next = (next + 1) % StreamCopies), size);
        }
        try
        {
            float sink = 0;
            if (ctx.Wants("stream read 784x256"))
                yield return ctx.Measure("stream read 784x256", () => sink += ReadAll(NextCopy()), bytes: bytes);
            foreach (int m in new[] { 1, 4 })
            {
                foreach (bool transB in new[] { true, false })
                {
                    string name = $"stream fc b{m} x W{(transB ? "^T" : "")}";
                    if (!ctx.Wants(name)) continue;
                    yield return ctx.Measure(name, () => CpuGemm.Gemm(false, transB, m, Out, In, 1f, x.Span, In,
                        NextCopy(), transB ? In : Out, 0f, y.Span, Out), bytes: bytes);
                }
            }
            if (sink == 12345) Console.Error.WriteLine(sink);
        }
        finally
        {
            weights?.Dispose();
        }
    }

    /// <summary>
    /// Sums a buffer as four sequential streams (its four quarters, side by side), one vector accumulator each:
    /// a plain read at the speed the memory gives one core. One stream alone measured 10-30% below what the
    /// prefetchers sustain over several, which the weight kernels use; the anchor must not flatter them.
    /// </summary>
    internal static unsafe float ReadAll(ReadOnlySpan<float> data)
    {
        int w = Vector<float>.Count, quarter = data.Length / 4 / w * w;
        var s0 = Vector<float>.Zero;
        var s1 = s0;
        var s2 = s0;
        var s3 = s0;
        fixed (float* p = data)
        {
            float* q0 = p, q1 = p + quarter, q2 = p + 2 * quarter, q3 = p + 3 * quarter;
            for (int i = 0; i < quarter; i += w)
            {
                s0 += *(Vector<float>*)(q0 + i);
                s1 += *(Vector<float>*)(q1 + i);
                s2 += *(Vector<float>*)(q2 + i);
                s3 += *(Vector<float>*)(q3 + i);
            }
        }
        float sum = Vector.Sum(s0 + s1 + s2 + s3);
        for (int i = 4 * quarter; i < data.Length; i++) sum += data[i];
        return sum;
    }

    /// <summary>
    /// Sums a buffer that sits in cache at the widest vectors the process runs, eight accumulators (eight loads in
    /// flight cover the add latency at two loads a cycle): the bound for a kernel that reads the same bytes once
    /// from L2. A Vector&lt;float&gt; read with four accumulators would stop at one 32-byte load a cycle.
    /// </summary>
    internal static unsafe float ReadCached(ReadOnlySpan<float> data)
    {
        int w = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        int blocks = data.Length / (8 * w) * 8 * w;
        float sum = 0;
        fixed (float* p = data)
        {
            if (w == 16)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector512<float> s4 = default, s5 = default, s6 = default, s7 = default;
                for (float* q = p; q < p + blocks; q += 8 * 16)
                {
                    s0 += Vector512.Load(q);
                    s1 += Vector512.Load(q + 16);
                    s2 += Vector512.Load(q + 32);
                    s3 += Vector512.Load(q + 48);
                    s4 += Vector512.Load(q + 64);
                    s5 += Vector512.Load(q + 80);
                    s6 += Vector512.Load(q + 96);
                    s7 += Vector512.Load(q + 112);
                }
                sum = Vector512.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
            }
            else if (w == 8)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector256<float> s4 = default, s5 = default, s6 = default, s7 = default;
                for (float* q = p; q < p + blocks; q += 8 * 8)
                {
                    s0 += Vector256.Load(q);
                    s1 += Vector256.Load(q + 8);
                    s2 += Vector256.Load(q + 16);
                    s3 += Vector256.Load(q + 24);
                    s4 += Vector256.Load(q + 32);
                    s5 += Vector256.Load(q + 40);
                    s6 += Vector256.Load(q + 48);
                    s7 += Vector256.Load(q + 56);
                }
                sum = Vector256.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
            }
            else
            {
                Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector128<float> s4 = default, s5 = default, s6 = default, s7 = default;
                for (float* q = p; q < p + blocks; q += 8 * 4)
                {
                    s0 += Vector128.Load(q);
                    s1 += Vector128.Load(q + 4);
                    s2 += Vector128.Load(q + 8);
                    s3 += Vector128.Load(q + 12);
                    s4 += Vector128.Load(q + 16);
                    s5 += Vector128.Load(q + 20);
                    s6 += Vector128.Load(q + 24);
                    s7 += Vector128.Load(q + 28);
                }
                sum = Vector128.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
            }
            for (int i = blocks; i < data.Length; i++) sum += p[i];
        }
        return sum;
    }
}
