namespace Engine.Gluon.Initializers;

public abstract class Initializer
{
    public abstract void Initialize(string name, NDArray array);
}

public sealed class Uniform(double scale = 0.07) : Initializer
{
    public override void Initialize(string name, NDArray array)
    {
        using var r = Nd.RandomUniform(-scale, scale, array.Shape, array.DType);
        array.Assign(r);
    }
}

public sealed class Zero : Initializer
{
    public override void Initialize(string name, NDArray array) => array.Fill(0);
}

public sealed class One : Initializer
{
    public override void Initialize(string name, NDArray array) => array.Fill(1);
}

public sealed class Constant(NDArray value) : Initializer
{
    public override void Initialize(string name, NDArray array) => array.Assign(value);
}
