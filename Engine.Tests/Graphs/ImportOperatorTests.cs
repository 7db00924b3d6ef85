using Engine.Gluon;
using Engine.Graphs;
using Engine.Tests.Support;

namespace Engine.Tests.Graphs;

/// <summary>
/// Imported MXNet operators that this engine composes from several of its own, each against a loop written from
/// MXNet's definition (reference/mxnet-symbol-ops.md).
/// </summary>
public class ImportOperatorTests
{
    private const int N = 2, C = 3, H = 4, W = 4;

    private static readonly float[] X = TestData.Uniform(new Random(11), N * C * H * W, -2, 2);

    private static float At(int n, int c, int h, int w) => X[((n * C + c) * H + h) * W + w];

    private static float[] Run(Symbol symbol, Dictionary<string, float[]>? parameters = null)
    {
        var block = new SymbolBlock(symbol, Symbol.Var("data"));
        block.Initialize();
        using var x = Nd.Array(X, new Shape(N, C, H, W));
        using (var warm = block.Call(x)) { }
        foreach (var (name, value) in parameters ?? [])
        {
            var p = block.CollectParams()[name];
            using var v = Nd.Array(value, p.Shape);
            p.SetData(v);
        }
        using var y = block.Call(x);
        block.Hybridize();
        using var z = block.Call(x);
        z.ToArray().ShouldBe(y.ToArray(), "hybridized and imperative agree");
        return y.ToArray();
    }

    private static Symbol Op(string op, Dictionary<string, string> attrs, params Symbol[] extra) =>
        Symbol.Create(op, null, attrs, [Symbol.Var("data"), .. extra]);

    private static void Check(float[] actual, Func<int, double> expected)
    {
        var e = Enumerable.Range(0, actual.Length).Select(i => (float)expected(i)).ToArray();
        TensorAssert.AllClose(actual, e, new Tolerance(1e-5, 1e-6), "output");
    }

    [Test]
    public void PreluScalesNegativesPerChannel()
    {
        float[] gamma = [0.1f, 0.5f, 2f];
        var y = Run(Op("LeakyReLU", new() { ["act_type"] = "prelu" }, Symbol.Var("g")), new() { ["g"] = gamma });
        Check(y, i => X[i] > 0 ? X[i] : gamma[i / (H * W) % C] * X[i]);
    }

    [Test]
    public void EluAndSelu()
    {
        Check(Run(Op("LeakyReLU", new() { ["act_type"] = "elu", ["slope"] = "0.7" })),
            i => X[i] > 0 ? X[i] : 0.7 * (Math.Exp(X[i]) - 1));
        Check(Run(Op("LeakyReLU", new() { ["act_type"] = "selu" })),
            i => 1.0507009873554805 * (X[i] > 0 ? X[i] : 1.6732632423543772 * (Math.Exp(X[i]) - 1)));
    }

    [Test]
    public void SumPoolingAndGlobalAveragePoolingAsGluonWritesIt()
    {
        var sum = Run(Op("Pooling", new() { ["kernel"] = "(2, 2)", ["stride"] = "(2, 2)", ["pool_type"] = "sum" }));
        Check(sum, i =>
        {
            int w = i % 2, h = i / 2 % 2, c = i / 4 % C, n = i / (4 * C);
            return At(n, c, 2 * h, 2 * w) + At(n, c, 2 * h, 2 * w + 1) + At(n, c, 2 * h + 1, 2 * w) +
                   At(n, c, 2 * h + 1, 2 * w + 1);
        });
        var global = Run(Op("Pooling", new()
        {
            ["global_pool"] = "True", ["kernel"] = "(1, 1)", ["pad"] = "(0, 0)", ["pool_type"] = "avg",
            ["pooling_convention"] = "full", ["count_include_pad"] = "True", ["layout"] = "NCHW",
        }));
        global.Length.ShouldBe(N * C);
        Check(global, i => X.Skip(i * H * W).Take(H * W).Average());
    }

    [Test]
    public void SplitThenConcatInReverse()
    {
        var data = Symbol.Var("data");
        var parts = Symbol.Create("SliceChannel", "split", new Dictionary<string, string>
        {
            ["num_outputs"] = "3", ["axis"] = "1",
        }, data);
        parts.Count.ShouldBe(3);
        var y = Run(Symbol.Concat(1, "cat", parts[2], parts[1], parts[0]));
        Check(y, i =>
        {
            int hw = i % (H * W), c = i / (H * W) % C, n = i / (H * W * C);
            return At(n, C - 1 - c, hw / W, hw % W);
        });
    }

    [Test]
    public void ReductionWithExcludeAndSliceWithNone()
    {
        var sums = Run(Op("sum", new() { ["axis"] = "1", ["exclude"] = "True" }));
        Check(sums, c => Enumerable.Range(0, N).Sum(n => X.Skip((n * C + c) * H * W).Take(H * W).Sum()));
        var sliced = Run(Op("slice", new() { ["begin"] = "(None, 1)", ["end"] = "(None, None)" }));
        Check(sliced, i =>
        {
            int hw = i % (H * W), c = i / (H * W) % (C - 1), n = i / (H * W * (C - 1));
            return At(n, c + 1, hw / W, hw % W);
        });
    }

    [Test]
    public void LayerNormOverTheLastAxis()
    {
        float[] gamma = [1f, 2f, -1f, 0.5f], beta = [0f, 0.1f, 0.2f, 0.3f];
        var y = Run(Op("LayerNorm", new() { ["eps"] = "1e-05" }, Symbol.Var("g"), Symbol.Var("b")),
            new() { ["g"] = gamma, ["b"] = beta });
        Check(y, i =>
        {
            var row = X.Skip(i / W * W).Take(W).Select(v => (double)v).ToArray();
            double mean = row.Average(), variance = row.Select(v => (v - mean) * (v - mean)).Average();
            return (X[i] - mean) / Math.Sqrt(variance + 1e-5) * gamma[i % W] + beta[i % W];
        });
    }

    [Test]
    public void SoftmaxActivationChannelMode()
    {
        var y = Run(Op("SoftmaxActivation", new() { ["mode"] = "channel" }));
        Check(y, i =>
        {
            int hw = i % (H * W), n = i / (H * W * C);
            double denominator = Enumerable.Range(0, C).Sum(c => Math.Exp(At(n, c, hw / W, hw % W)));
            return Math.Exp(X[i]) / denominator;
        });
    }
}
