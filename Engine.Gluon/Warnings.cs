namespace Engine.Gluon;

/// <summary>
/// Where Gluon's warnings go (MXNet uses Python's warnings module). By default they are written to standard error;
/// tests and applications can listen to <see cref="Raised"/> or collect them with <see cref="Capture"/>.
/// </summary>
public static class Warnings
{
    private static readonly AsyncLocal<List<string>?> captured = new();

    public static event Action<string>? Raised;

    public static void Warn(string message)
    {
        if (captured.Value is { } list)
        {
            list.Add(message);
            return;
        }
        Raised?.Invoke(message);
        if (Raised is null) Console.Error.WriteLine($"warning: {message}");
    }

    /// <summary>Collects the warnings raised inside the scope instead of printing them.</summary>
    public static IDisposable Capture(out List<string> messages)
    {
        var previous = captured.Value;
        var list = new List<string>();
        captured.Value = list;
        messages = list;
        return new Restore(() => captured.Value = previous);
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
