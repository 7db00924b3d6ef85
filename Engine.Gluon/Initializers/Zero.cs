namespace Engine.Gluon.Initializers;

/// <summary>Fills with 0: MXNet's <c>mx.init.Zero()</c>, registered as "zeros".</summary>
public sealed class Zero : Initializer
{
    public override string Name => "zero";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [];

    protected override void InitializeCore(string name, NDArray array) => array.Fill(0);
}
