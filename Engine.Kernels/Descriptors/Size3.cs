namespace Engine.Kernels;

/// <summary>Three spatial extents (depth, height, width) of a volumetric kernel, stride, padding or image.</summary>
public readonly record struct Size3(int D, int H, int W)
{
    /// <summary>The same value on all three axes.</summary>
    public static Size3 All(int value) => new(value, value, value);

    /// <summary>From one value per axis, or one value for all three.</summary>
    public static Size3 From(ReadOnlySpan<int> values, int fallback, string op, string name)
    {
        if (values.Length == 0) return All(fallback);
        if (values.Length == 1) return All(values[0]);
        if (values.Length != 3)
            throw new ArgumentException(
                $"{op}: {name} has {values.Length} values ({string.Join(", ", values.ToArray())}) but a 3-D " +
                "operation takes 3 (or 1 for every dimension).", name);
        return new Size3(values[0], values[1], values[2]);
    }

    /// <summary>D * H * W.</summary>
    public long Volume => (long)D * H * W;

    public int this[int axis] => axis switch
    {
        0 => D,
        1 => H,
        2 => W,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), $"a 3-D size has axes 0 to 2, not {axis}."),
    };

    public bool Any(Func<int, bool> predicate) => predicate(D) || predicate(H) || predicate(W);

    /// <summary>(D, H, W), as the messages print it.</summary>
    public override string ToString() => $"({D}, {H}, {W})";
}
