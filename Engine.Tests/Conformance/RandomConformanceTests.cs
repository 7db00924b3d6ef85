using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public class RandomConformanceTests(Device device) : DeviceFixture(device)
{
    private const int Samples = 100_000;

    /// <summary>
    /// Bounds for sample statistics: 5 standard errors, so a correct generator fails about once in 1.7 million
    /// runs (and, the seeds being fixed, the test is deterministic anyway).
    /// </summary>
    private const double Sigmas = 5;

    // Random123 tests/kat_vectors, "philox4x32 10" lines: counter words, key words, expected output words.
    private static readonly object[] KnownAnswers =
    [
        new object[] { new uint[] { 0, 0, 0, 0 }, new uint[] { 0, 0 },
            new uint[] { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
        new object[] { new uint[] { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
            new uint[] { 0xffffffff, 0xffffffff },
            new uint[] { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
        new object[] { new uint[] { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 },
            new uint[] { 0xa4093822, 0x299f31d0 },
            new uint[] { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
    ];

    [TestCaseSource(nameof(KnownAnswers))]
    public void PhiloxMatchesRandom123KnownAnswers(uint[] counter, uint[] key, uint[] expected)
    {
        var b = Philox.Generate(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
        new[] { b.X0, b.X1, b.X2, b.X3 }.ShouldBe(expected, $"kernel block {b}");
        RandomReference.Philox(counter, key).ShouldBe(expected, "reference");
    }

    [Test]
    public void PhiloxStreamMapsSeedAndCounterToKeyAndCounterWords()
    {
        var rng = new Random(1);
        for (int i = 0; i < 100; i++)
        {
            ulong seed = (ulong)rng.NextInt64(), counter = (ulong)rng.NextInt64();
            var b = Philox.Generate(seed, counter);
            new[] { b.X0, b.X1, b.X2, b.X3 }.ShouldBe(RandomReference.Block(seed, counter));
            b[2].ShouldBe(b.X2);
        }
    }

    // ---------------------------------------------------------------- exact streams

    [Test]
    public void StreamsFollowTheDocumentedMapping([Values(0, 1, 3, 4, 5, 1001)] int n)
    {
        ulong seed = 0x0123456789abcdefUL, offset = 77;
        var uf = new float[n];
        CpuRandom.Uniform(seed, offset, -2f, 3f, uf);
        var ud = new double[n];
        CpuRandom.Uniform(seed, offset, -2.0, 3.0, ud);
        var nf = new float[n];
        CpuRandom.Normal(seed, offset, 0.5f, 2f, nf);
        var nd = new double[n];
        CpuRandom.Normal(seed, offset, 0.5, 2.0, nd);
        var mask = new double[n];
        CpuRandom.DropoutMask(seed, offset, 0.8, mask);
        var bern = new float[n];
        CpuRandom.Bernoulli(seed, offset, 0.3, bern);
        for (int i = 0; i < n; i++)
        {
            uf[i].ShouldBe(RandomReference.UniformFloat(seed, offset, i, -2f, 3f), $"uniform float [{i}]");
            ud[i].ShouldBe(RandomReference.UniformDouble(seed, offset, i, -2.0, 3.0), $"uniform double [{i}]");
            nf[i].ShouldBe(RandomReference.NormalFloat(seed, offset, i, 0.5f, 2f), $"normal float [{i}]");
            nd[i].ShouldBe(RandomReference.NormalDouble(seed, offset, i, 0.5, 2.0), $"normal double [{i}]");
            mask[i].ShouldBe(RandomReference.Keep(seed, offset, i, 0.8) ? 1 / 0.8 : 0, $"mask [{i}]");
            bern[i].ShouldBe(RandomReference.Keep(seed, offset, i, 0.3) ? 1f : 0f, $"bernoulli [{i}]");
        }
    }

    [Test]
    public void SameSeedGivesSameStreamAndOffsetsContinueIt()
    {
        var a = new float[1000];
        var b = new float[1000];
        CpuRandom.Uniform(42, 0, 0f, 1f, a);
        CpuRandom.Uniform(42, 0, 0f, 1f, b);
        b.ShouldBe(a);

        // The second half of a stream is the stream started CountersUsed32(500) counters later.
        var tail = new float[500];
        CpuRandom.Uniform(42, CpuRandom.CountersUsed32(500), 0f, 1f, tail);
        tail.ShouldBe(a[500..]);
        var d = new double[10];
        var dTail = new double[4];
        CpuRandom.Normal(42, 0, 0.0, 1.0, d);
        CpuRandom.Normal(42, CpuRandom.CountersUsed64(6), 0.0, 1.0, dTail);
        dTail.ShouldBe(d[6..]);

        CpuRandom.Uniform(43, 0, 0f, 1f, b);
        b.Count((v) => a.Contains(v)).ShouldBeLessThan(20, "another seed gives another stream");
        CpuRandom.Uniform(42 + (1UL << 32), 0, 0f, 1f, b);
        b.SequenceEqual(a).ShouldBeFalse("the seed's high word is part of the key");
    }

    [Test]
    public void StreamsAreTheSameOnOneThreadAndMany()
    {
        const int n = 300_001;
        float[] Run(int threads, Action<float[]> fill)
        {
            var result = new float[n];
            int saved = CpuParallel.MaxThreads;
            CpuParallel.MaxThreads = threads;
            try
            {
                fill(result);
            }
            finally
            {
                CpuParallel.MaxThreads = saved;
            }
            return result;
        }
        Run(4, d => CpuRandom.Normal(9, 3, 0f, 1f, d)).ShouldBe(Run(1, d => CpuRandom.Normal(9, 3, 0f, 1f, d)));
        Run(4, d => CpuRandom.DropoutMask(9, 3, 0.5, d.AsSpan()))
            .ShouldBe(Run(1, d => CpuRandom.DropoutMask(9, 3, 0.5, d.AsSpan())));
    }

    // ---------------------------------------------------------------- distributions

    [Test]
    public void UniformHasTheMomentsOfItsRange()
    {
        var f = new float[Samples];
        CpuRandom.Uniform(1, 0, -1f, 3f, f);
        f.ShouldAllBe(v => v >= -1f && v < 3f);
        CheckMoments(f.Select(v => (double)v).ToArray(), mean: 1, std: 4 / Math.Sqrt(12), "uniform float");

        var d = new double[Samples];
        CpuRandom.Uniform(2, 5, 10.0, 10.5, d);
        d.ShouldAllBe(v => v >= 10.0 && v <= 10.5);
        CheckMoments(d, mean: 10.25, std: 0.5 / Math.Sqrt(12), "uniform double");
    }

    [Test]
    public void NormalHasItsMeanAndStandardDeviation()
    {
        var f = new float[Samples];
        CpuRandom.Normal(3, 0, 2f, 0.5f, f);
        f.ShouldAllBe(v => float.IsFinite(v));
        CheckMoments(f.Select(v => (double)v).ToArray(), mean: 2, std: 0.5, "normal float");
        // Within one standard deviation: 68.27%; binomial standard error of that fraction on 1e5 samples: 0.0015.
        double within = f.Count(v => Math.Abs(v - 2) < 0.5) / (double)Samples;
        within.ShouldBeInRange(0.6827 - 0.0075, 0.6827 + 0.0075);

        var d = new double[Samples];
        CpuRandom.Normal(4, 0, -1.0, 3.0, d);
        CheckMoments(d, mean: -1, std: 3, "normal double");
    }

    [Test]
    public void DropoutKeepsTheRightFractionAndScales()
    {
        const double keep = 0.7;
        var mask = new float[Samples];
        CpuRandom.DropoutMask(5, 0, keep, mask);
        float scale = (float)(1 / keep);
        mask.ShouldAllBe(v => v == 0f || v == scale);
        double kept = mask.Count(v => v != 0) / (double)Samples;
        double bound = Sigmas * Math.Sqrt(keep * (1 - keep) / Samples);
        kept.ShouldBeInRange(keep - bound, keep + bound);
        mask.Average(v => (double)v).ShouldBeInRange(1 - 3 * bound, 1 + 3 * bound);

        var x = TestData.Uniform(new Random(6), Samples);
        var y = new float[Samples];
        CpuRandom.Dropout<float>(x, mask, y);
        var dx = new float[Samples];
        CpuRandom.DropoutBackward<float>(x, mask, dx);
        for (int i = 0; i < Samples; i++)
        {
            y[i].ShouldBe(x[i] * mask[i]);
            dx[i].ShouldBe(x[i] * mask[i]);
        }

        var none = new double[100];
        CpuRandom.DropoutMask(5, 0, 0.0, none);
        none.ShouldAllBe(v => v == 0);
        var all = new double[100];
        CpuRandom.DropoutMask(5, 0, 1.0, all);
        all.ShouldAllBe(v => v == 1);
        var dy = TestData.UniformDouble(new Random(7), 37);
        var dxd = new double[37];
        CpuRandom.DropoutBackward<double>(dy, all.AsSpan(0, 37), dxd);
        dxd.ShouldBe(dy);
    }

    [Test]
    public void RandomKernelsRejectBadArguments()
    {
        ShouldThrowNaming<ArgumentException>(() => CpuRandom.Uniform(0, 0, 2f, 1f, new float[1]),
            "uniform: low 2 is greater than high 1");
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuRandom.Uniform(0, 0, 0.0, double.NaN, new double[1]),
            "uniform: bounds must be finite");
        ShouldThrowNaming<ArgumentException>(
            () => CpuRandom.Uniform(0, 0, -float.MaxValue, float.MaxValue, new float[1]), "uniform: the range");
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuRandom.Normal(0, 0, 0f, -1f, new float[1]),
            "normal: mean 0 and standard deviation -1");
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuRandom.DropoutMask(0, 0, 1.5, new float[1].AsSpan()),
            "dropout: keep probability 1.5 is outside [0, 1]");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuRandom.Bernoulli(0, 0, double.NaN, new float[1].AsSpan()), "bernoulli: probability NaN");
        ShouldThrowNaming<ArgumentException>(() => CpuRandom.Dropout<float>(new float[3], new float[2], new float[3]),
            "dropout: input has 3 elements, mask 2 and result 3");
        ShouldThrowNaming<ArgumentException>(
            () => CpuRandom.DropoutBackward<float>(new float[3], new float[3], new float[2]), "dropout backward:");
    }

    private static void CheckMoments(double[] x, double mean, double std, string what)
    {
        double m = x.Average();
        double s = Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
        // Standard errors: of the mean std / sqrt(n); of the standard deviation about std / sqrt(2n) (exact for a
        // normal; the uniform's is smaller, so the bound is loose there).
        m.ShouldBeInRange(mean - Sigmas * std / Math.Sqrt(x.Length), mean + Sigmas * std / Math.Sqrt(x.Length),
            what + " mean");
        double relative = Sigmas / Math.Sqrt(2.0 * x.Length);
        s.ShouldBeInRange(std * (1 - relative), std * (1 + relative), what + " std");
    }

    private static void ShouldThrowNaming<TException>(Action action, string messagePart) where TException : Exception
    {
        var e = Should.Throw<TException>(action);
        e.Message.ShouldContain(messagePart);
    }
}
