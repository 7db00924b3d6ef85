namespace Engine;

/// <summary>
/// The engine's random stream: a seed and a running Philox counter. Every random operator takes the next
/// counters, so a program that sets <see cref="Seed"/> gets the same numbers on every run (and, by the
/// counter-based design, on every device).
/// </summary>
public static class RandomState
{
    private static ulong seed = 0x5EED;
    private static long counter;

    /// <summary>Resets the stream: MXNet's mx.random.seed.</summary>
    public static void Seed(long value)
    {
        Interlocked.Exchange(ref seed, unchecked((ulong)value));
        Interlocked.Exchange(ref counter, 0);
    }

    public static ulong CurrentSeed => Volatile.Read(ref seed);

    /// <summary>
    /// Reserves <paramref name="blocks"/> Philox counters of the stream and returns the seed and the first counter:
    /// code that draws its own random numbers (a shuffle) stays reproducible under <see cref="Seed"/>.
    /// </summary>
    public static (ulong Seed, ulong Offset) Take(ulong blocks) =>
        (Volatile.Read(ref seed), unchecked((ulong)Interlocked.Add(ref counter, (long)blocks) - blocks));
}
