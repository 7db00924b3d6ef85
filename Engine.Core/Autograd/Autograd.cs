namespace Engine;

/// <summary>
/// Recording and training flags, MXNet's autograd scopes. Recording (build a tape for backward) and training
/// (Dropout drops, BatchNorm uses batch statistics) are independent flags; outside any scope both are off.
/// The flags flow with async code (AsyncLocal) and do not leak across threads.
/// </summary>
public static partial class Autograd
{
    private static readonly AsyncLocal<(bool Recording, bool Training)> state = new();

    public static bool IsRecording => state.Value.Recording;

    public static bool IsTraining => state.Value.Training;

    /// <summary><c>using (Autograd.Record()) { ... }</c>: record operations for backward, in training mode.</summary>
    public static IDisposable Record(bool trainMode = true) => Set(true, trainMode);

    /// <summary>Stops recording inside a recording scope (training off unless asked).</summary>
    public static IDisposable Pause(bool trainMode = false) => Set(false, trainMode);

    /// <summary>Training behaviour on; recording unchanged.</summary>
    public static IDisposable TrainMode() => Set(IsRecording, true);

    /// <summary>Inference behaviour on; recording unchanged.</summary>
    public static IDisposable PredictMode() => Set(IsRecording, false);

    /// <summary>Sets the recording flag and returns the previous value (MXNet's set_recording).</summary>
    public static bool SetRecording(bool recording)
    {
        bool previous = IsRecording;
        state.Value = (recording, IsTraining);
        return previous;
    }

    /// <summary>Sets the training flag and returns the previous value (MXNet's set_training).</summary>
    public static bool SetTraining(bool training)
    {
        bool previous = IsTraining;
        state.Value = (IsRecording, training);
        return previous;
    }

    private static IDisposable Set(bool recording, bool training)
    {
        var previous = state.Value;
        state.Value = (recording, training);
        return new Restore(previous);
    }

    private sealed class Restore((bool, bool) previous) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            state.Value = previous;
        }
    }
}
