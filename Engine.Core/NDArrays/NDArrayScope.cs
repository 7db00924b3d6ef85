namespace Engine;

/// <summary>
/// Disposes every NDArray created inside it, except those passed to <see cref="Keep"/>. Scopes nest and flow
/// with the ExecutionContext (AsyncLocal): arrays created after an await, in Task.Run, Parallel.For or a thread
/// started inside the scope are captured too, and capture is thread-safe. Threads that were already running
/// when the scope began do not see it. Arrays created after the scope ended are not captured.
/// </summary>
public sealed class NDArrayScope : IDisposable
{
    private static readonly AsyncLocal<NDArrayScope?> current = new();
    private readonly NDArrayScope? parent;
    // Guards created, kept and disposed: work started inside the scope may create arrays on several threads.
    private readonly Lock gate = new();
    private readonly List<NDArray> created = new();
    private readonly HashSet<NDArray> kept = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal NDArrayScope()
    {
        parent = current.Value;
        current.Value = this;
    }

    internal static NDArrayScope? Current => current.Value;

    /// <summary>
    /// Takes an array out of every enclosing scope of this flow: something long-lived (a parameter, a dataset, an
    /// optimizer's state) owns it now and disposes it itself.
    /// </summary>
    public static NDArray Release(NDArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        Current?.Untrack(array);
        return array;
    }

    /// <summary>
    /// Hands an array made elsewhere (on another thread) to the innermost scope of this flow, which disposes it
    /// as if it had been made here. Nothing happens outside a scope.
    /// </summary>
    public static NDArray Capture(NDArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        Current?.Track(array);
        return array;
    }

    /// <summary>Keeps arrays alive past this scope (they join the enclosing scope, if any).</summary>
    public NDArray Keep(NDArray array)
    {
        lock (gate) kept.Add(array);
        return array;
    }

    /// <summary>Stops tracking an array that something long-lived (a gradient buffer) now owns.</summary>
    internal void Untrack(NDArray array)
    {
        for (var scope = this; scope is not null; scope = scope.parent)
            lock (scope.gate) scope.created.Remove(array);
    }

    internal void Track(NDArray array)
    {
        lock (gate)
        {
            if (!disposed) created.Add(array);
        }
    }

    public void Dispose()
    {
        NDArray[] toRelease;
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            toRelease = created.ToArray();
            created.Clear();
        }
        current.Value = parent;
        foreach (var a in toRelease)
        {
            bool keep;
            lock (gate) keep = kept.Contains(a);
            if (keep) parent?.Track(a);
            else a.Dispose();
        }
    }
}
