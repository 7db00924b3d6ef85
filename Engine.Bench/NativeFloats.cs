using System.Runtime.InteropServices;

namespace Engine.Bench;

/// <summary>
/// A 64-byte aligned native float buffer for the kernel suites, filled with uniform values in [-1, 1) from a seeded
/// generator (or zeros). Aligned as PyTorch's allocator aligns, so neither side gains from alignment.
/// </summary>
public sealed unsafe class NativeFloats : IDisposable
{
    private float* data;

    public NativeFloats(long length, Random? random = null)
    {
        if (length < 0 || length > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(length),
                $"NativeFloats: length must be between 0 and {int.MaxValue}, got {length}.");
        Length = (int)length;
        data = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length) * sizeof(float), 64);
        var span = Span;
        if (random is null) span.Clear();
        else for (int i = 0; i < span.Length; i++) span[i] = random.NextSingle() * 2 - 1;
    }

    public int Length { get; }

    public Span<float> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(data == null, this);
            return new Span<float>(data, Length);
        }
    }

    public void Dispose()
    {
        if (data == null) return;
        NativeMemory.AlignedFree(data);
        data = null;
        GC.SuppressFinalize(this);
    }

    ~NativeFloats()
    {
        if (data != null) NativeMemory.AlignedFree(data);
    }
}
