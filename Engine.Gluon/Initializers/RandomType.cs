namespace Engine.Gluon.Initializers;

/// <summary>Xavier's distribution: MXNet's <c>rnd_type</c> ("uniform" or "gaussian").</summary>
public enum RandomType
{
    /// <summary>U(-scale, scale).</summary>
    Uniform,

    /// <summary>N(0, scale^2).</summary>
    Gaussian,
}
