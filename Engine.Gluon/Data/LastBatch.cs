namespace Engine.Gluon.Data;

/// <summary>What <see cref="DataLoader"/> does with a last batch smaller than the batch size (MXNet's
/// <c>last_batch</c>).</summary>
public enum LastBatch
{
    /// <summary>Yield it as a smaller batch.</summary>
    Keep,

    /// <summary>Drop it.</summary>
    Discard,

    /// <summary>Carry its samples over to the start of the next epoch, ahead of that epoch's samples.</summary>
    Rollover,
}
