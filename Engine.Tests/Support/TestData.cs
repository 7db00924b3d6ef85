namespace Engine.Tests.Support;

/// <summary>Seeded random inputs for the suites.</summary>
public static class TestData
{
    public static float[] Uniform(Random rng, long count, float low = -1f, float high = 1f)
    {
        var a = new float[count];
        for (long i = 0; i < count; i++) a[i] = low + (high - low) * rng.NextSingle();
        return a;
    }

    public static double[] UniformDouble(Random rng, long count, double low = -1, double high = 1)
    {
        var a = new double[count];
        for (long i = 0; i < count; i++) a[i] = low + (high - low) * rng.NextDouble();
        return a;
    }

    /// <summary>Random dims in [1, max], with size-1 and non-multiple-of-vector-width sizes likely.</summary>
    public static int[] RandomDims(Random rng, int rank, int max = 7)
    {
        var d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = rng.Next(4) == 0 ? 1 : rng.Next(1, max + 1);
        return d;
    }
}
