using Engine.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Autograd;

/// <summary>Finite-difference cases for the layer, instance and group norms and the LeakyReLU-family activations
/// (ELU, SELU, GELU, PReLU); <see cref="GradientCheckTests.Cases"/> includes them.</summary>
public static class LayerGradientCases
{
    private static NDArray Rand(Random rng, double low, double high, params int[] shape) =>
        Nd.Array(TestData.UniformDouble(rng, new Shape(shape).Size, low, high), new Shape(shape));

    /// <summary>Values at least 0.2 from 0, either sign: central differences never straddle a kink.</summary>
    private static NDArray AwayFromZero(Random rng, params int[] shape)
    {
        var v = TestData.UniformDouble(rng, new Shape(shape).Size, 0.2, 2);
        for (int i = 0; i < v.Length; i++) if (rng.Next(2) == 0) v[i] = -v[i];
        return Nd.Array(v, new Shape(shape));
    }

    public static IEnumerable<GradientCase> Cases()
    {
        yield return new GradientCase("elu", new EluAttrs(), r => [AwayFromZero(r, 4, 5)], "alpha 1");
        yield return new GradientCase("elu", new EluAttrs(0.3), r => [AwayFromZero(r, 3, 4)], "alpha 0.3");
        yield return new GradientCase("selu", NoAttrs.Instance, r => [AwayFromZero(r, 4, 5)]);
        yield return new GradientCase("gelu", NoAttrs.Instance, r => [Rand(r, -4, 4, 4, 6)]);
        yield return new GradientCase("prelu", NoAttrs.Instance,
            r => [AwayFromZero(r, 2, 3, 4), Rand(r, 0.05, 0.5, 3)], "per channel");
        yield return new GradientCase("prelu", NoAttrs.Instance,
            r => [AwayFromZero(r, 3, 5), Rand(r, 0.05, 0.5, 1)], "one slope");
        NDArray[] Affine(Random r, int[] x, int n) => [Rand(r, -2, 3, x), Rand(r, 0.5, 1.5, n), Rand(r, -0.5, 0.5, n)];
        yield return new GradientCase("layer_norm", new LayerNormAttrs(), r => Affine(r, [3, 5], 5), "last axis",
            DifferentiableOutputs: 1);
        yield return new GradientCase("layer_norm", new LayerNormAttrs(1, 1e-3), r => Affine(r, [2, 4, 3], 4),
            "axis 1", DifferentiableOutputs: 1);
        yield return new GradientCase("instance_norm", new InstanceNormAttrs(1e-5), r => Affine(r, [2, 3, 2, 3], 3),
            DifferentiableOutputs: 1);
        yield return new GradientCase("group_norm", new GroupNormAttrs(2), r => Affine(r, [2, 4, 3], 2),
            DifferentiableOutputs: 1);
    }

    /// <summary>Forward cases of the operators without a gradient of their own, for the contract table.</summary>
    public static IEnumerable<GradientCase> BackwardForwardCases()
    {
        yield return new GradientCase("_backward_gelu", NoAttrs.Instance,
            r => [Rand(r, -3, 3, 3, 4), Rand(r, -1, 1, 3, 4)]);
        NDArray[] Inputs(Random r, int[] x, int n, int[] stat) =>
        [
            Rand(r, -2, 2, x), Rand(r, -1, 1, x), Rand(r, 0.5, 1.5, n), Rand(r, -0.5, 0.5, stat),
            Rand(r, 0.5, 1.5, stat),
        ];
        yield return new GradientCase("_backward_layer_norm", new LayerNormAttrs(),
            r => Inputs(r, [3, 5], 5, [3, 1]));
        yield return new GradientCase("_backward_instance_norm", new InstanceNormAttrs(),
            r => Inputs(r, [2, 3, 4], 3, [2, 3]));
        yield return new GradientCase("_backward_group_norm", new GroupNormAttrs(2),
            r => Inputs(r, [2, 4, 3], 2, [2, 2]));
    }
}
