namespace Engine.Gluon.Initializers;

/// <summary>Xavier's scaling factor: MXNet's <c>factor_type</c> ("avg", "in" or "out").</summary>
public enum FactorType
{
    /// <summary>(fan_in + fan_out) / 2.</summary>
    Avg,

    /// <summary>fan_in = shape[1] * prod(shape[2:]).</summary>
    In,

    /// <summary>fan_out = shape[0] * prod(shape[2:]).</summary>
    Out,
}
