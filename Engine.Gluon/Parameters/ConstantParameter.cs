using Engine.Gluon.Initializers;

namespace Engine.Gluon;

/// <summary>
/// A parameter that never changes (grad_req null), MXNet's gluon.Constant; named ConstantParameter so that it does
/// not collide with the initializer <see cref="Initializers.Constant"/> when both namespaces are imported.
/// </summary>
public sealed class ConstantParameter : Parameter
{
    public ConstantParameter(string name, NDArray value)
        : base(name, GradReq.Null, value.Shape, value.DType, init: new CopyInitializer(value), differentiable: false)
    {
        Value = value;
    }

    public NDArray Value { get; }

    /// <summary>Initialises a constant with a copy of its value.</summary>
    private sealed class CopyInitializer(NDArray value) : Initializer
    {
        public override string Name => "constant";

        protected override IReadOnlyList<KeyValuePair<string, object>> Arguments => [];

        protected override void InitializeCore(string name, NDArray array) => array.Assign(value);
    }
}
