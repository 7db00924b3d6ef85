using System.Reflection;
using Engine.Kernels;
using Engine.Kernels.Gpu;
using Engine.Ops;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// The fused RNN op and the CTC loss on the device against the CPU backend: the operators called with the same
/// attributes and inputs on both (float32 and float64), every output compared, the reserve too (the dropout masks
/// in it bit for bit), and the backward op run from each device's own forward. Each case must load the GPU
/// kernels (not the CPU kernel on host copies), and every instantiation is compiled to PTX for sm_90.
/// </summary>
public sealed class RecurrentKernelTests : GpuFixture
{
    private static readonly (Type Type, string Kernel, Type[] Arguments)[] Instantiations =
        new[] { typeof(float), typeof(double) }.SelectMany(t => new (Type, string, Type[])[]
        {
            (typeof(GpuRnn), "ForwardCellKernel", [t]), (typeof(GpuRnn), "BackwardCellKernel", [t]),
            (typeof(GpuRnn), "AddBiasKernel", [t]), (typeof(GpuRnn), "DropKernel", [t]),
            (typeof(GpuRnn), "ColumnSumsKernel", [t]),
            (typeof(GpuCtc), "Kernel", [t, t == typeof(float) ? typeof(FloatReal) : typeof(DoubleReal)]),
        }).ToArray();

    public static IEnumerable<TestCaseData> Kernels() =>
        Instantiations.Select(k => new TestCaseData(k.Type, k.Kernel, k.Arguments)
            .SetArgDisplayNames($"{k.Type.Name}.{k.Kernel}[{k.Arguments[0].Name}]"));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtxForSm90(Type type, string name, Type[] arguments)
    {
        var kernel = type.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(arguments);
        GpuPtxCheck.Verify(kernel);
        GpuPtxCheck.Compiled.Keys.ShouldContain(GpuPtxCheck.Describe(kernel));
    }

    /// <summary>A case of the op; with <see cref="Train"/> off, dropout p &gt; 0 keeps everything (mask of ones).
    /// </summary>
    public sealed record RnnCase(RnnMode Mode, int Layers, bool Bidirectional, int SeqLen, int Batch, int Input,
        int Hidden, double P, DType DType, bool Train = true)
    {
        public bool Dropping => P > 0 && Train;

        public override string ToString() =>
            $"{RnnAttrs.ModeName(Mode)} L{Layers}{(Bidirectional ? " bi" : "")} T{SeqLen} N{Batch} I{Input} " +
            $"H{Hidden}{(P > 0 ? $" p{P}" : "")}{(Train ? "" : " inference")} {DType.Name()}";
    }

    public static IEnumerable<RnnCase> RnnCases() =>
    [
        new(RnnMode.RnnRelu, 1, false, 4, 3, 5, 6, 0, DType.Float32),
        new(RnnMode.RnnTanh, 2, true, 4, 2, 3, 5, 0, DType.Float64),
        new(RnnMode.Lstm, 2, true, 3, 3, 4, 5, 0, DType.Float32),
        new(RnnMode.Lstm, 1, false, 5, 2, 3, 7, 0, DType.Float64),
        new(RnnMode.Gru, 2, false, 4, 3, 4, 6, 0.4, DType.Float32),
        new(RnnMode.Gru, 1, true, 1, 2, 3, 4, 0, DType.Float64),
        new(RnnMode.Lstm, 3, true, 2, 2, 3, 4, 0.5, DType.Float64),
        new(RnnMode.RnnTanh, 2, false, 3, 2, 3, 4, 0.3, DType.Float32, Train: false),
    ];

    [TestCaseSource(nameof(RnnCases))]
    public void RnnForwardAndBackwardMatchTheCpuBackend(RnnCase k)
    {
        using var scope = NDArray.Scope();
        bool lstm = k.Mode == RnnMode.Lstm;
        var attrs = new RnnAttrs(k.Mode, k.Hidden, k.Layers, k.Bidirectional, k.P, StateOutputs: true,
            Training: k.Dropping, Seed: 0x1234, Offset: 77);
        var d = attrs.Describe(new Shape(k.SeqLen, k.Batch, k.Input));
        var state = new Shape(k.Layers * d.Directions, k.Batch, k.Hidden);
        var rng = new Random(5);
        var x = Values(rng, new Shape(k.SeqLen, k.Batch, k.Input), 1, k.DType);
        var w = Values(rng, new Shape((int)d.ParameterCount), 0.6, k.DType);
        var hx = Values(rng, state, 1, k.DType);
        var cx = Values(rng, state, 1, k.DType);
        var dy = Values(rng, new Shape(k.SeqLen, k.Batch, d.Directions * k.Hidden), 1, k.DType);
        var dhy = Values(rng, state, 1, k.DType);
        var dcy = Values(rng, state, 1, k.DType);
        NDArray[] inputs = lstm ? [x, w, hx, cx] : [x, w, hx];
        var cpu = RecurrentOps.Rnn.Invoke(attrs, inputs);
        var gpu = RecurrentOps.Rnn.Invoke(attrs, inputs.Select(a => a.CopyTo(TestDevice)).ToArray());
        bool single = k.DType == DType.Float32;
        double rtol = single ? 2e-4 : 1e-10, atol = single ? 2e-5 : 1e-12;
        string[] names = ["y", "hy", "cy", "reserve"];
        for (int o = 0; o < cpu.Length; o++)
        {
            gpu[o].Device.ShouldBe(TestDevice);
            Close(gpu[o], cpu[o], rtol, atol, $"{k} {names[o]}");
        }
        if (k.P > 0) Masks(gpu[3], cpu[3], d, k);

        NDArray[] Backward(NDArray[] args, NDArray[] forward) => RecurrentOps.RnnBackward.Invoke(attrs,
            lstm ? [args[0], args[1], args[2], args[3], forward[0], forward[3], dy, dhy, dcy]
                : [args[0], args[1], args[2], forward[0], forward[3], dy, dhy]);
        var cpuGrads = Backward(inputs, cpu);
        NDArray[] gpuGrads;
        using (DefaultDevice.Use(TestDevice))
        {
            dy = dy.CopyTo(TestDevice);
            dhy = dhy.CopyTo(TestDevice);
            dcy = dcy.CopyTo(TestDevice);
            gpuGrads = Backward(inputs.Select(a => a.CopyTo(TestDevice)).ToArray(), gpu);
        }
        string[] gradNames = ["dx", "dw", "dhx", "dcx"];
        for (int o = 0; o < cpuGrads.Length; o++) Close(gpuGrads[o], cpuGrads[o], rtol, atol, $"{k} {gradNames[o]}");
        Loaded("GpuRnn.ForwardCellKernel", "GpuRnn.BackwardCellKernel", "GpuRnn.ColumnSumsKernel");
    }

    /// <summary>The dropout masks in the reserve are the CPU's bit for bit (the same Philox counters).</summary>
    private static void Masks(NDArray gpuReserve, NDArray cpuReserve, RnnDescriptor d, RnnCase k)
    {
        var g = gpuReserve.ToArray<double>();
        var c = cpuReserve.ToArray<double>();
        long size = d.Rows * d.Directions * d.Hidden;
        for (int l = 0; l < k.Layers - 1; l++)
        {
            long at = d.MaskOffset(l);
            int dropped = 0;
            for (long e = at; e < at + size; e++)
            {
                g[e].ShouldBe(c[e], $"{k} mask of layer {l} at {e - at}");
                if (c[e] == 0) dropped++;
            }
            if (k.Dropping) dropped.ShouldBeGreaterThan(0, "some units are dropped");
            else dropped.ShouldBe(0, "nothing is dropped outside training");
        }
    }

    public sealed record CtcCase(CtcBlank Blank, bool DataLengths, bool LabelLengths, DType DType, DType LabelType)
    {
        public override string ToString() =>
            $"blank {Blank}{(DataLengths ? " data lengths" : "")}{(LabelLengths ? " label lengths" : "")} " +
            $"{DType.Name()} labels {LabelType.Name()}";
    }

    public static IEnumerable<CtcCase> CtcCases() =>
    [
        new(CtcBlank.First, false, false, DType.Float64, DType.Int64),
        new(CtcBlank.Last, true, true, DType.Float32, DType.Float32),
        new(CtcBlank.Last, true, false, DType.Float64, DType.Int32),
        new(CtcBlank.First, false, true, DType.Float32, DType.Int64),
    ];

    [TestCaseSource(nameof(CtcCases))]
    public void CtcLossAndGradientMatchTheCpuBackend(CtcCase k)
    {
        using var scope = NDArray.Scope();
        const int time = 7, batch = 6, classes = 5, width = 4;
        int blank = k.Blank == CtcBlank.First ? 0 : classes - 1, pad = k.Blank == CtcBlank.First ? 0 : -1;
        // Symbols 1..3 with blank first, 0..2 with blank last; repeats, an empty label, a label too long for its
        // length (infinite loss, zero gradient) and an empty sequence.
        int s = k.Blank == CtcBlank.First ? 1 : 0;
        int[][] rows =
        [
            [s, s + 1, s + 2], [s + 1, s + 1, s], [], [s + 2, s + 2, s + 2, s + 2], [s, s + 1, s, s + 1], [s + 2],
        ];
        var labels = new double[batch * width];
        for (int n = 0; n < batch; n++)
        for (int j = 0; j < width; j++) labels[n * width + j] = j < rows[n].Length ? rows[n][j] : pad;
        double[] dataLengths = k.DataLengths ? [7, 6, 3, 5, 7, 0] : [];
        // Label 3 (four repeats) needs 7 frames: with 5 it is impossible; given lengths, label 4 stops at 3.
        double[] labelLengths = [3, 3, 0, 4, 3, 1];
        var rng = new Random(3);
        var data = Values(rng, new Shape(time, batch, classes), 2, k.DType);
        var dloss = Values(rng, new Shape(batch), 1, k.DType);
        var attrs = new CtcAttrs(k.DataLengths, k.LabelLengths, k.Blank);
        var inputs = new List<NDArray> { data, Nd.Array(labels, new Shape(batch, width)).AsType(k.LabelType) };
        if (k.DataLengths) inputs.Add(Nd.Array(dataLengths, new Shape(batch)).AsType(k.LabelType));
        if (k.LabelLengths) inputs.Add(Nd.Array(labelLengths, new Shape(batch)).AsType(k.LabelType));
        var gpuInputs = inputs.Select(a => a.CopyTo(TestDevice)).ToList();
        var cpuLoss = LossOps.CtcLoss.Call(attrs, [.. inputs]);
        var gpuLoss = LossOps.CtcLoss.Call(attrs, [.. gpuInputs]);
        bool single = k.DType == DType.Float32;
        double rtol = single ? 1e-6 : 1e-12, atol = single ? 1e-6 : 1e-13;
        Close(gpuLoss, cpuLoss, rtol, atol, $"{k} loss");
        if (k.DataLengths) cpuLoss.ToArray<double>()[3].ShouldBe(double.PositiveInfinity);
        var cpuGrad = LossOps.CtcLossBackward.Call(attrs, [.. inputs, dloss]);
        var gpuGrad = LossOps.CtcLossBackward.Call(attrs, [.. gpuInputs, dloss.CopyTo(TestDevice)]);
        gpuGrad.Device.ShouldBe(TestDevice);
        Close(gpuGrad, cpuGrad, rtol, atol, $"{k} gradient");
        Loaded("GpuCtc.Kernel");
    }

    [Test]
    public void CtcChecksLabelsOnTheHostWithTheCpuMessage()
    {
        using var scope = NDArray.Scope();
        var data = Nd.Zeros(new Shape(3, 1, 4), DType.Float32, TestDevice);
        var label = Nd.Array(new float[] { 1, 0, 2 }, new Shape(1, 3), TestDevice);
        var e = Should.Throw<ArgumentException>(() =>
            LossOps.CtcLoss.Call(new CtcAttrs(UseLabelLengths: true), [data, label,
                Nd.Array(new float[] { 3 }, new Shape(1), TestDevice)]));
        e.Message.ShouldContain("label 0 at (sample 0, position 1) is not a symbol");
    }

    private static NDArray Values(Random rng, Shape shape, double scale, DType dtype)
    {
        var v = new double[shape.Size];
        for (int i = 0; i < v.Length; i++) v[i] = (rng.NextDouble() * 2 - 1) * scale;
        var a = Nd.Array(v, shape);
        return dtype == DType.Float64 ? a : a.AsType(dtype);
    }

    private static void Loaded(params string[] kernels)
    {
        var loaded = Gpu.Kernels.Log.Select(k => k.Kernel).ToHashSet();
        foreach (string k in kernels) loaded.ShouldContain(name => name.StartsWith(k, StringComparison.Ordinal));
    }

    private static void Close(NDArray actual, NDArray expected, double rtol, double atol, string what)
    {
        actual.Shape.ShouldBe(expected.Shape, what);
        actual.DType.ShouldBe(expected.DType, what);
        var a = actual.ToArray<double>();
        var e = expected.ToArray<double>();
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == e[i] || double.IsNaN(a[i]) && double.IsNaN(e[i])) continue;
            if (!(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i])))
                Assert.Fail($"{what}: element {i} is {a[i]} on the GPU, {e[i]} on the CPU.");
        }
    }
}
