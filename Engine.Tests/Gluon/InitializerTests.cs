using Engine.Gluon.Initializers;

namespace Engine.Tests.Gluon;

/// <summary>
/// MXNet's initializers (reference section 1.5, python/mxnet/initializer.py): the statistics of each rule against
/// its formula on large arrays, Xavier's fans, errors, the dumps form and determinism under RandomState.Seed.
/// </summary>
public class InitializerTests
{
    [SetUp]
    public void Seed() => RandomState.Seed(1234);

    [Test]
    public void UniformFillsWithinPlusMinusScaleWithTheUniformMeanAndStd()
    {
        var (values, stats) = Fill(new Uniform(), new Shape(1000, 1000));
        double scale = 0.07, bound = (float)scale; // float32 draws: the bound is 0.07 rounded to float
        stats.Min.ShouldBeGreaterThanOrEqualTo(-bound);
        stats.Max.ShouldBeLessThanOrEqualTo(bound);
        stats.Min.ShouldBeLessThan(-scale * 0.999);
        stats.Max.ShouldBeGreaterThan(scale * 0.999);
        ShouldMatchMoments(stats, values.Length, mean: 0, std: scale / Math.Sqrt(3));
    }

    [Test]
    public void NormalHasMeanZeroAndStdSigma()
    {
        var (values, stats) = Fill(new Normal(0.5), new Shape(1000, 1000));
        ShouldMatchMoments(stats, values.Length, mean: 0, std: 0.5);
        // About 68.27% of a normal lies within one sigma.
        double within = values.Count(v => Math.Abs(v) <= 0.5) / (double)values.Length;
        within.ShouldBe(0.6827, 0.003);
    }

    [TestCase(new[] { 64, 32, 3, 3 }, 288.0, 576.0)]
    [TestCase(new[] { 10, 5 }, 5.0, 10.0)]
    [TestCase(new[] { 16, 8, 5 }, 40.0, 80.0)]
    [TestCase(new[] { 6, 1, 5, 5, 2 }, 50.0, 300.0)]
    public void XavierFansFollowMXNet(int[] dims, double fanIn, double fanOut)
    {
        // fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:])
        Xavier.ComputeFans(new Shape(dims)).ShouldBe((fanIn, fanOut));
    }

    [TestCase(RandomType.Uniform, FactorType.Avg, 3.0)]
    [TestCase(RandomType.Uniform, FactorType.In, 3.0)]
    [TestCase(RandomType.Gaussian, FactorType.Out, 2.0)]
    [TestCase(RandomType.Gaussian, FactorType.Avg, 1.0)]
    public void XavierOnAConvWeightUsesScaleSqrtMagnitudeOverFactor(RandomType rnd, FactorType factor, double mag)
    {
        var shape = new Shape(128, 64, 3, 3);
        double fanIn = 64 * 9, fanOut = 128 * 9;
        double f = factor switch { FactorType.Avg => (fanIn + fanOut) / 2, FactorType.In => fanIn, _ => fanOut };
        double scale = Math.Sqrt(mag / f);
        var xavier = new Xavier(rnd, factor, mag);
        xavier.ScaleFor(shape).ShouldBe(scale, 1e-15);

        var (values, stats) = Fill(xavier, shape);
        if (rnd == RandomType.Uniform)
        {
            stats.Min.ShouldBeGreaterThanOrEqualTo(-scale * (1 + 1e-6));
            stats.Max.ShouldBeLessThanOrEqualTo(scale * (1 + 1e-6));
            stats.Max.ShouldBeGreaterThan(scale * 0.99);
            ShouldMatchMoments(stats, values.Length, 0, scale / Math.Sqrt(3));
        }
        else
        {
            ShouldMatchMoments(stats, values.Length, 0, scale);
            stats.Max.ShouldBeGreaterThan(3 * scale); // unbounded, unlike the uniform form
        }
    }

    [Test]
    public void MSRAPreluIsGaussianXavierWithMagnitudeTwoOverOnePlusSlopeSquared()
    {
        var init = new MSRAPrelu(slope: 0.25);
        init.Magnitude.ShouldBe(2 / (1 + 0.0625), 1e-15);
        init.RndType.ShouldBe(RandomType.Gaussian);
        var shape = new Shape(256, 128, 3, 3);
        double avg = (128 * 9 + 256 * 9) / 2.0;
        var (values, stats) = Fill(init, shape);
        ShouldMatchMoments(stats, values.Length, 0, Math.Sqrt(2 / 1.0625 / avg));

        var msraIn = new MSRAPrelu(FactorType.In, slope: 0);
        msraIn.ScaleFor(shape).ShouldBe(Math.Sqrt(2.0 / (128 * 9)), 1e-15); // He et al.: sqrt(2 / fan_in)
    }

    [Test]
    public void XavierRefusesArraysUnderTwoDimensionsNamingTheParameter()
    {
        using var bias = Nd.Zeros(10);
        var e = Should.Throw<ArgumentException>(() => new Xavier().Initialize("dense0_bias", bias));
        e.Message.ShouldContain("dense0_bias");
        e.Message.ShouldContain("at least 2D");
        e.Message.ShouldContain("(10,)");
        using var scalar = Nd.Scalar(0);
        Should.Throw<ArgumentException>(() => new MSRAPrelu().Initialize("s", scalar)).Message
            .ShouldContain("MSRAPrelu");
        Should.Throw<ArgumentException>(() => Xavier.ComputeFans(new Shape(3)));
    }

    [Test]
    public void TheWeightRuleAppliesWhateverTheNameSuffix()
    {
        // Gluon passes __init__ for every parameter, so a Uniform default fills a bias too (section 1.5).
        using var bias = Nd.Zeros(1000);
        new Uniform().Initialize("dense0_bias", bias);
        var v = bias.ToArray();
        v.Count(x => x == 0).ShouldBeLessThan(5);
        v.All(x => Math.Abs(x) <= 0.07f).ShouldBeTrue();
        using var gamma = Nd.Zeros(5);
        new Normal(1).Initialize("batchnorm0_gamma", gamma);
        gamma.ToArray().ShouldNotBe(new float[5]);
    }

    [Test]
    public void ZeroOneAndConstantFillAnyDType()
    {
        using var f = Nd.Full(new Shape(2, 3), 9);
        new Zero().Initialize("b", f);
        f.ToArray().ShouldAllBe(x => x == 0);
        using var i = Nd.Zeros(new Shape(4), DType.Int32);
        new One().Initialize("gamma", i);
        i.ToArray<int>().ShouldBe([1, 1, 1, 1]);
        using var d = Nd.Zeros(new Shape(3), DType.Float64);
        new Constant(-2.5).Initialize("c", d);
        d.ToArray<double>().ShouldBe([-2.5, -2.5, -2.5]);
    }

    [Test]
    public void RandomInitializersFillFloat16AndFloat64AndRefuseIntegers()
    {
        using var h = Nd.Zeros(new Shape(100, 100), DType.Float16);
        new Uniform(0.5).Initialize("h", h);
        var hv = h.ToArray();
        hv.All(x => Math.Abs(x) <= 0.5f).ShouldBeTrue();
        hv.Max().ShouldBeGreaterThan(0.49f);

        using var d = Nd.Zeros(new Shape(200, 300), DType.Float64);
        new Xavier(RandomType.Gaussian).Initialize("d", d);
        var dv = d.ToArray<double>();
        ShouldMatchMoments(Stats.Of(dv), dv.Length, 0, Math.Sqrt(3 / 250.0));

        using var n = Nd.Zeros(new Shape(3, 3), DType.Int32);
        var e = Should.Throw<ArgumentException>(() => new Uniform().Initialize("idx", n));
        e.Message.ShouldContain("'idx' is int32");
        e.Message.ShouldContain("Uniform");
    }

    [Test]
    public void FillsNonContiguousViewsInPlaceOnly()
    {
        using var parent = Nd.Zeros(4, 5);
        using (var rows = parent[1..3])
            new Uniform(1).Initialize("rows", rows);
        using (var cols = parent.T)
        {
            using var last = cols[4..];
            new Constant(7).Initialize("t", last);
        }
        var v = parent.ToArray();
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 5; c++)
            {
                float x = v[r * 5 + c];
                if (c == 4) x.ShouldBe(7f);
                else if (r is 1 or 2) x.ShouldNotBe(0f);
                else x.ShouldBe(0f);
            }
        }
    }

    [Test]
    public void SeedingMakesInitializationRepeatable()
    {
        var shape = new Shape(16, 8, 3, 3);
        Initializer[] inits = [new Uniform(), new Normal(), new Xavier(), new MSRAPrelu()];
        foreach (var init in inits)
        {
            RandomState.Seed(42);
            var a = Fill(init, shape).Values;
            var b = Fill(init, shape).Values;
            RandomState.Seed(42);
            var c = Fill(init, shape).Values;
            c.ShouldBe(a, init.Name);
            b.ShouldNotBe(a, init.Name);
        }
    }

    [Test]
    public void InitializationInsideRecordIsNotRecordedAndDoesNotThrow()
    {
        using var w = Nd.Zeros(3, 4);
        w.AttachGrad();
        using (Engine.Autograd.Record())
        {
            new Xavier().Initialize("w", w);
            Engine.Autograd.IsRecording.ShouldBeTrue();
        }
        w.ToArray().ShouldNotBe(new float[12]);
    }

    [Test]
    public void EmptyArraysAreLeftAlone()
    {
        using var e = Nd.Zeros(new Shape(0, 4));
        new Xavier().Initialize("e", e);
        new Uniform().Initialize("e", e);
        new Normal().Initialize("e", e);
        new One().Initialize("e", e);
    }

    [Test]
    public void DumpsMatchesMXNetsJsonForm()
    {
        // Strings from Python: json.dumps([cls.__name__.lower(), kwargs]) for each default construction.
        new Uniform().Dumps().ShouldBe("[\"uniform\", {\"scale\": 0.07}]");
        new Normal().Dumps().ShouldBe("[\"normal\", {\"sigma\": 0.01}]");
        new Xavier().Dumps().ShouldBe(
            "[\"xavier\", {\"rnd_type\": \"uniform\", \"factor_type\": \"avg\", \"magnitude\": 3}]");
        new Xavier(RandomType.Gaussian, FactorType.In, 2.5).ToString().ShouldBe(
            "[\"xavier\", {\"rnd_type\": \"gaussian\", \"factor_type\": \"in\", \"magnitude\": 2.5}]");
        new MSRAPrelu().Dumps().ShouldBe("[\"msraprelu\", {\"factor_type\": \"avg\", \"slope\": 0.25}]");
        new Zero().Dumps().ShouldBe("[\"zero\", {}]");
        new One().Dumps().ShouldBe("[\"one\", {}]");
        new Constant(1).Dumps().ShouldBe("[\"constant\", {\"value\": 1.0}]");
        new Uniform(1e-5).Dumps().ShouldBe("[\"uniform\", {\"scale\": 1e-05}]");
    }

    // Expected strings are Python's repr (and json.dumps) of the same doubles.
    [TestCase(0.07, "0.07")]
    [TestCase(1.0, "1.0")]
    [TestCase(1e-05, "1e-05")]
    [TestCase(0.0001, "0.0001")]
    [TestCase(1e16, "1e+16")]
    [TestCase(1e15, "1000000000000000.0")]
    [TestCase(123.456, "123.456")]
    [TestCase(-2.5, "-2.5")]
    [TestCase(2.5e-10, "2.5e-10")]
    [TestCase(0.1 + 0.2, "0.30000000000000004")]
    [TestCase(5e-324, "5e-324")]
    [TestCase(1.7976931348623157e308, "1.7976931348623157e+308")]
    [TestCase(-0.0, "-0.0")]
    [TestCase(100.0, "100.0")]
    [TestCase(12345678901234567.0, "1.2345678901234568e+16")]
    public void FloatsAreWrittenAsPythonWritesThem(double value, string python)
    {
        InitializerJson.PythonFloat(value).ShouldBe(python);
    }

    [Test]
    public void CreateKnowsMXNetsNamesAndReadsDumpsBack()
    {
        Initializer.Create("zeros").ShouldBeOfType<Zero>();
        Initializer.Create("ones").ShouldBeOfType<One>();
        Initializer.Create("zero").ShouldBeOfType<Zero>();
        Initializer.Create("Xavier").ShouldBeOfType<Xavier>().Magnitude.ShouldBe(3);
        Initializer.Create("uniform").ShouldBeOfType<Uniform>().Scale.ShouldBe(0.07);
        Initializer.Create("normal").ShouldBeOfType<Normal>().Sigma.ShouldBe(0.01);
        Initializer.Create("msraprelu").ShouldBeOfType<MSRAPrelu>().Slope.ShouldBe(0.25);

        Initializer[] all =
        [
            new Uniform(0.3), new Normal(2), new Xavier(RandomType.Gaussian, FactorType.Out, 2), new MSRAPrelu(
                FactorType.In, 0.1), new Zero(), new One(), new Constant(-1.5),
        ];
        foreach (var init in all)
        {
            var back = Initializer.Create(init.Dumps());
            back.GetType().ShouldBe(init.GetType());
            back.Dumps().ShouldBe(init.Dumps());
        }
        var x = Initializer.Create("[\"xavier\", {\"rnd_type\": \"gaussian\", \"magnitude\": 2}]")
            .ShouldBeOfType<Xavier>();
        x.RndType.ShouldBe(RandomType.Gaussian);
        x.FactorType.ShouldBe(FactorType.Avg);
        x.Magnitude.ShouldBe(2);
    }

    [TestCase("glorot", "unknown initializer 'glorot'")]
    [TestCase("[\"uniform\", {\"sigma\": 1}]", "takes no argument 'sigma'")]
    [TestCase("[\"uniform\", {\"scale\": \"big\"}]", "must be a number")]
    [TestCase("[\"xavier\", {\"rnd_type\": \"cauchy\"}]", "\"uniform\", \"gaussian\"")]
    [TestCase("[\"constant\", {}]", "needs the argument 'value'")]
    [TestCase("[\"uniform\", {\"scale\": 0.1}", "not valid JSON")]
    [TestCase("{\"uniform\": 1}", "not an initializer's JSON form")]
    [TestCase("[1, {}]", "not an initializer's JSON form")]
    public void CreateExplainsBadInput(string text, string message)
    {
        Should.Throw<ArgumentException>(() => Initializer.Create(text)).Message.ShouldContain(message);
    }

    [Test]
    public void ConstructorsAndInitializeValidateArguments()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new Uniform(-1)).Message.ShouldContain("scale");
        Should.Throw<ArgumentOutOfRangeException>(() => new Normal(double.NaN)).Message.ShouldContain("sigma");
        Should.Throw<ArgumentOutOfRangeException>(() => new Xavier(magnitude: -3)).Message.ShouldContain("magnitude");
        Should.Throw<ArgumentOutOfRangeException>(() => new Xavier((RandomType)7));
        Should.Throw<ArgumentOutOfRangeException>(() => new MSRAPrelu(slope: double.PositiveInfinity));
        Should.Throw<ArgumentNullException>(() => new Zero().Initialize("w", null!));
        var gone = Nd.Zeros(2);
        gone.Dispose();
        Should.Throw<ObjectDisposedException>(() => new Zero().Initialize("w", gone)).Message.ShouldContain("'w'");
        using var zeroScale = Nd.Ones(3);
        new Uniform(0).Initialize("z", zeroScale);
        zeroScale.ToArray().ShouldBe([0f, 0, 0]);
    }

    private static (float[] Values, Stats Stats) Fill(Initializer init, Shape shape)
    {
        using var a = Nd.Zeros(shape);
        init.Initialize("weight", a);
        var v = a.ToArray();
        return (v, Stats.Of(v.Select(x => (double)x).ToArray()));
    }

    /// <summary>Mean within 5 standard errors; std within 1% (the arrays hold at least 6e4 values).</summary>
    private static void ShouldMatchMoments(Stats s, long n, double mean, double std)
    {
        s.Mean.ShouldBe(mean, 5 * std / Math.Sqrt(n));
        s.Std.ShouldBe(std, std * Math.Max(0.01, 6 / Math.Sqrt(2.0 * n)));
    }

    private readonly record struct Stats(double Mean, double Std, double Min, double Max)
    {
        public static Stats Of(IReadOnlyList<double> v)
        {
            double mean = v.Average();
            double var = v.Sum(x => (x - mean) * (x - mean)) / v.Count;
            return new Stats(mean, Math.Sqrt(var), v.Min(), v.Max());
        }
    }
}
