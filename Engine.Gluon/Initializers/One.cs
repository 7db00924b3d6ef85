namespace Engine.Gluon.Initializers;

/// <summary>Fills with 1: MXNet's <c>mx.init.One()</c>, registered as "ones".</summary>
public sealed class One : Initializer
{
    public override string Name => "one";

    protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [];

    protected override void InitializeCore(string name, NDArray array) => array.Fill(1);
}
