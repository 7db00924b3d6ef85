namespace Engine.Kernels;

/// <summary>Which element of gamma and beta scales a value in <see cref="SampleNormDescriptor"/>.</summary>
public enum NormAffine
{
    /// <summary>gamma[j], j the position along the normalised extent (layer norm: gamma has Length values).</summary>
    PerPosition,

    /// <summary>gamma[o % Groups], o the outer index (instance and group norm: one value per channel or
    /// group).</summary>
    PerOuter,
}

/// <summary>
/// Normalisation of each sample's own values (layer, instance and group norm), on contiguous data viewed as
/// (Outer, Length, Inner): every (o, i) pair has its own mean and standard deviation over the Length values
/// x[o, :, i]. Layer norm over axis a is (prod(dims before a), dims[a], prod(dims after a)) with
/// <see cref="NormAffine.PerPosition"/>; instance norm on (N, C, spatial...) is (N * C, prod(spatial), 1) and
/// group norm with G groups is (N * G, C / G * prod(spatial), 1), both <see cref="NormAffine.PerOuter"/>.
/// </summary>
public sealed class SampleNormDescriptor
{
    private readonly double epsilon = 1e-5;

    public SampleNormDescriptor(long outer, long length, long inner, NormAffine affine, int groups = 1)
    {
        if (outer < 0 || length < 0 || inner < 0)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"normalization: sizes must be non-negative, got (outer {outer}, length {length}, inner {inner}).");
        if ((Int128)outer * length * inner > long.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(outer),
                $"normalization: (outer {outer}, length {length}, inner {inner}) has more than 2^63 elements.");
        if (affine == NormAffine.PerOuter && (groups <= 0 || outer % groups != 0))
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"normalization: {groups} affine groups must divide outer {outer} (outer = batch * groups).");
        Outer = outer;
        Length = length;
        Inner = inner;
        Affine = affine;
        Groups = affine == NormAffine.PerOuter ? groups : 1;
    }

    public long Outer { get; }

    /// <summary>Values each statistic is taken over.</summary>
    public long Length { get; }

    public long Inner { get; }

    public NormAffine Affine { get; }

    /// <summary>Values of gamma and beta for <see cref="NormAffine.PerOuter"/>.</summary>
    public int Groups { get; }

    /// <summary>Elements of x and y.</summary>
    public long Count => Outer * Length * Inner;

    /// <summary>Number of (mean, std) pairs: Outer * Inner.</summary>
    public long Statistics => Outer * Inner;

    /// <summary>Values gamma and beta hold.</summary>
    public long AffineCount => Affine == NormAffine.PerPosition ? Length : Groups;

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon
    {
        get => epsilon;
        init
        {
            if (!double.IsFinite(value) || value < 0)
                throw new ArgumentOutOfRangeException(nameof(Epsilon),
                    $"normalization: epsilon must be a finite non-negative number, got {value}; 1e-5 is usual.");
            epsilon = value;
        }
    }

    public override string ToString() =>
        $"(outer {Outer}, length {Length}, inner {Inner}), {Affine}" +
        (Affine == NormAffine.PerOuter ? $" {Groups}" : "") + $", eps {Epsilon}";
}
