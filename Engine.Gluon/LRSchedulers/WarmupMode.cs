namespace Engine.Gluon.LRSchedulers;

/// <summary>How a scheduler moves the learning rate during its warmup steps (MXNet's <c>warmup_mode</c>).</summary>
public enum WarmupMode
{
    /// <summary>From WarmupBeginLR up to BaseLR in equal increments.</summary>
    Linear,

    /// <summary>WarmupBeginLR for every warmup step.</summary>
    Constant,
}
