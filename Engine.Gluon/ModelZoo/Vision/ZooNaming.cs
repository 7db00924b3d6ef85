namespace Engine.Gluon.Vision;

/// <summary>
/// MXNet names a block when it is created, from the name scope current at that moment (conv0_, conv1_, ... counted
/// per scope, in creation order). Blocks here resolve their names when first read, so reading, say, a VGG's output
/// layer before its features would number the layers differently. While a zoo network is built, this counts as
/// MXNet's _BlockScope does, one counter per scope (the network's, each stage's), and every layer receives its
/// local prefix explicitly, so the names never depend on what is read first. Outside a zoo network (a BasicBlockV1
/// built by hand), <see cref="Next"/> returns null and the usual naming applies.
/// </summary>
internal sealed class ZooNaming
{
    private static readonly AsyncLocal<ZooNaming?> current = new();

    private readonly Dictionary<string, int> counters = new();

    /// <summary>Starts counting for a new scope; dispose to return to the enclosing one.</summary>
    public static IDisposable Enter()
    {
        var previous = current.Value;
        current.Value = new ZooNaming();
        return new Exit(previous);
    }

    /// <summary>The next local prefix for <paramref name="hint"/> (MXNet's alias: conv, batchnorm, relu, pool,
    /// dense, dropout, flatten) in the current scope, or null outside a zoo network.</summary>
    public static string? Next(string hint)
    {
        if (current.Value is not { } scope) return null;
        scope.counters.TryGetValue(hint, out int n);
        scope.counters[hint] = n + 1;
        return $"{hint}{n}_";
    }

    private sealed class Exit(ZooNaming? previous) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            current.Value = previous;
        }
    }
}
