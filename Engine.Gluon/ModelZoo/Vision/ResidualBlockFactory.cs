namespace Engine.Gluon.Vision;

/// <summary>
/// Builds one residual block of a ResNet stage: MXNet passes the block class (BasicBlockV1, BottleneckV1, ...)
/// and calls it as <c>block(channels, stride, downsample, in_channels=..., prefix='')</c>. For example
/// <c>(c, s, d, i, p) =&gt; new BasicBlockV1(c, s, d, i, p)</c>.
/// </summary>
public delegate HybridBlock ResidualBlockFactory(int channels, int stride, bool downsample, int inChannels,
    string prefix);
