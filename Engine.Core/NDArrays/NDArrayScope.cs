namespace Engine;

/// <summary>
/// Disposes every NDArray created inside it, except those passed to <see cref="Keep"/>. Scopes nest and flow
/// with async code (AsyncLocal); arrays created on other threads are not captured.
/// </summary>
public sealed class NDArrayScope : IDisposable
{
    private static readonly AsyncLocal<NDArrayScope?> current = new();
    private readonly NDArrayScope? parent;
    private readonly List<NDArray> created = new();
    private readonly HashSet<NDArray> kept = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal NDArrayScope()
    {
        parent = current.Value;
        current.Value = this;
    }

    internal static NDArrayScope? Current => current.Value;

    /// <summary>Keeps arrays alive past this scope (they join the enclosing scope, if any).</summary>
    public NDArray Keep(NDArray array)
    {
        kept.Add(array);
        return array;
    }

    /// <summary>Stops tracking an array that something long-lived (a gradient buffer) now owns.</summary>
    internal void Untrack(NDArray array)
    {
        for (var scope = this; scope is not null; scope = scope.parent) scope.created.Remove(array);
    }

    internal void Track(NDArray array)
    {
        if (!disposed) created.Add(array);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        current.Value = parent;
        foreach (var a in created)
        {
            if (kept.Contains(a)) parent?.Track(a);
            else a.Dispose();
        }
        created.Clear();
    }
}
