using Engine.Gluon.Vision;

namespace Engine.Gluon;

/// <summary>
/// MXNet Gluon 1.x's vision model zoo (mxnet.gluon.model_zoo.vision): ResNet V1 and V2 at 18, 34, 50, 101 and
/// 152 layers and VGG 11, 13, 16 and 19 with and without batch norm, with MXNet's structure and parameter names,
/// so parameters exported from MXNet load by name. Pretrained weights are not downloaded: build the network and
/// load a .params file with <see cref="Block.LoadParameters"/>.
/// </summary>
public static class ModelZoo
{
    private sealed record ResNetSpec(bool Bottleneck, int[] Layers, int[] Channels);

    // MXNet's resnet_spec: block kind, blocks per stage, stem and stage channels.
    private static readonly SortedDictionary<int, ResNetSpec> ResNetSpecs = new()
    {
        [18] = new(false, [2, 2, 2, 2], [64, 64, 128, 256, 512]),
        [34] = new(false, [3, 4, 6, 3], [64, 64, 128, 256, 512]),
        [50] = new(true, [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
        [101] = new(true, [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
        [152] = new(true, [3, 8, 36, 3], [64, 256, 512, 1024, 2048]),
    };

    // MXNet's vgg_spec: convolutions per group and channels per group.
    private static readonly SortedDictionary<int, (int[] Layers, int[] Filters)> VggSpecs = new()
    {
        [11] = ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
        [13] = ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
        [16] = ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
        [19] = ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512]),
    };

    /// <summary>
    /// MXNet's get_resnet: ResNet <paramref name="version"/> (1 or 2) with <paramref name="numLayers"/> layers
    /// (18, 34, 50, 101 or 152). <paramref name="thumbnail"/> replaces the 7x7/2 stem and its pool by one 3x3
    /// convolution, for 32x32 inputs.
    /// </summary>
    public static HybridBlock GetResNet(int version, int numLayers, int classes = 1000, bool thumbnail = false,
        bool pretrained = false, string? prefix = null)
    {
        if (!ResNetSpecs.TryGetValue(numLayers, out var spec))
            throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers,
                $"GetResNet: invalid number of layers: {numLayers}. Options are " +
                $"{string.Join(", ", ResNetSpecs.Keys)}.");
        if (version is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(version), version,
                $"GetResNet: invalid resnet version: {version}. Options are 1 and 2.");
        RefusePretrained(pretrained, $"resnet{numLayers}_v{version}");
        ResidualBlockFactory block = (version, spec.Bottleneck) switch
        {
            (1, false) => (c, s, d, i, p) => new BasicBlockV1(c, s, d, i, p),
            (1, true) => (c, s, d, i, p) => new BottleneckV1(c, s, d, i, p),
            (_, false) => (c, s, d, i, p) => new BasicBlockV2(c, s, d, i, p),
            _ => (c, s, d, i, p) => new BottleneckV2(c, s, d, i, p),
        };
        return version == 1
            ? new ResNetV1(block, spec.Layers, spec.Channels, classes, thumbnail, prefix)
            : new ResNetV2(block, spec.Layers, spec.Channels, classes, thumbnail, prefix);
    }

    public static ResNetV1 ResNet18V1(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV1)GetResNet(1, 18, classes, thumbnail, pretrained);

    public static ResNetV1 ResNet34V1(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV1)GetResNet(1, 34, classes, thumbnail, pretrained);

    public static ResNetV1 ResNet50V1(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV1)GetResNet(1, 50, classes, thumbnail, pretrained);

    public static ResNetV1 ResNet101V1(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV1)GetResNet(1, 101, classes, thumbnail, pretrained);

    public static ResNetV1 ResNet152V1(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV1)GetResNet(1, 152, classes, thumbnail, pretrained);

    public static ResNetV2 ResNet18V2(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV2)GetResNet(2, 18, classes, thumbnail, pretrained);

    public static ResNetV2 ResNet34V2(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV2)GetResNet(2, 34, classes, thumbnail, pretrained);

    public static ResNetV2 ResNet50V2(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV2)GetResNet(2, 50, classes, thumbnail, pretrained);

    public static ResNetV2 ResNet101V2(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV2)GetResNet(2, 101, classes, thumbnail, pretrained);

    public static ResNetV2 ResNet152V2(int classes = 1000, bool thumbnail = false, bool pretrained = false) =>
        (ResNetV2)GetResNet(2, 152, classes, thumbnail, pretrained);

    /// <summary>MXNet's get_vgg: VGG with <paramref name="numLayers"/> layers (11, 13, 16 or 19).</summary>
    public static Vgg GetVgg(int numLayers, int classes = 1000, bool batchNorm = false, bool pretrained = false,
        string? prefix = null)
    {
        if (!VggSpecs.TryGetValue(numLayers, out var spec))
            throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers,
                $"GetVgg: invalid number of layers: {numLayers}. Options are {string.Join(", ", VggSpecs.Keys)}.");
        RefusePretrained(pretrained, $"vgg{numLayers}{(batchNorm ? "_bn" : "")}");
        return new Vgg(spec.Layers, spec.Filters, classes, batchNorm, prefix);
    }

    public static Vgg Vgg11(int classes = 1000, bool pretrained = false) => GetVgg(11, classes, false, pretrained);

    public static Vgg Vgg13(int classes = 1000, bool pretrained = false) => GetVgg(13, classes, false, pretrained);

    public static Vgg Vgg16(int classes = 1000, bool pretrained = false) => GetVgg(16, classes, false, pretrained);

    public static Vgg Vgg19(int classes = 1000, bool pretrained = false) => GetVgg(19, classes, false, pretrained);

    public static Vgg Vgg11Bn(int classes = 1000, bool pretrained = false) => GetVgg(11, classes, true, pretrained);

    public static Vgg Vgg13Bn(int classes = 1000, bool pretrained = false) => GetVgg(13, classes, true, pretrained);

    public static Vgg Vgg16Bn(int classes = 1000, bool pretrained = false) => GetVgg(16, classes, true, pretrained);

    public static Vgg Vgg19Bn(int classes = 1000, bool pretrained = false) => GetVgg(19, classes, true, pretrained);

    /// <summary>
    /// The names <see cref="GetModel"/> accepts, MXNet's: resnet18_v1 ... resnet152_v2, vgg11 ... vgg19_bn.
    /// </summary>
    public static IReadOnlyList<string> ModelNames { get; } =
        ResNetSpecs.Keys.SelectMany(n => new[] { $"resnet{n}_v1", $"resnet{n}_v2" })
            .Concat(VggSpecs.Keys.SelectMany(n => new[] { $"vgg{n}", $"vgg{n}_bn" }))
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// MXNet's get_model: a network by its MXNet name (case-insensitive), e.g. "resnet18_v1" or "vgg16_bn".
    /// <paramref name="thumbnail"/> applies to ResNets only.
    /// </summary>
    public static HybridBlock GetModel(string name, int classes = 1000, bool thumbnail = false,
        bool pretrained = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.ToLowerInvariant();
        if (!ModelNames.Contains(key))
            throw new ArgumentException(
                $"GetModel: model {name} is not supported. Available options are\n\t" +
                string.Join("\n\t", ModelNames), nameof(name));
        if (key.StartsWith("resnet", StringComparison.Ordinal))
        {
            int underscore = key.IndexOf('_');
            return GetResNet(key[^1] - '0', int.Parse(key[6..underscore]), classes, thumbnail, pretrained);
        }
        if (thumbnail)
            throw new ArgumentException($"GetModel: thumbnail applies to ResNets only, not to {name}.",
                nameof(thumbnail));
        bool bn = key.EndsWith("_bn", StringComparison.Ordinal);
        return GetVgg(int.Parse(key[3..(bn ? key.Length - 3 : key.Length)]), classes, bn, pretrained);
    }

    private static void RefusePretrained(bool pretrained, string model)
    {
        if (pretrained)
            throw new NotSupportedException(
                $"ModelZoo: pretrained weights for {model} are not downloaded by this library. Build the network " +
                "with pretrained: false and load the weights from a .params file with LoadParameters (a file saved " +
                "by MXNet's save_parameters, or one exported by MXNet and loaded by parameter name).");
    }
}
