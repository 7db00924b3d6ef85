namespace Engine.Tests.Support;

public static class TensorAssert
{
    /// <summary>Fails with the first mismatching index, both values and the tolerance.</summary>
    public static void AllClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, Tolerance tol, string what)
    {
        if (actual.Length != expected.Length)
            NUnit.Framework.Assert.Fail($"{what}: length {actual.Length} != expected {expected.Length}");
        int bad = 0, first = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!tol.Accepts(actual[i], expected[i]))
            {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad > 0)
            NUnit.Framework.Assert.Fail(
                $"{what}: {bad} of {actual.Length} elements differ; first at [{first}]: " +
                $"actual {actual[first]:R}, expected {expected[first]:R} (rtol {tol.Rtol}, atol {tol.Atol})");
    }

    public static void AllClose(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, Tolerance tol, string what)
    {
        if (actual.Length != expected.Length)
            NUnit.Framework.Assert.Fail($"{what}: length {actual.Length} != expected {expected.Length}");
        for (int i = 0; i < actual.Length; i++)
        {
            if (!tol.Accepts(actual[i], expected[i]))
                NUnit.Framework.Assert.Fail(
                    $"{what}: element [{i}] actual {actual[i]:R}, expected {expected[i]:R} " +
                    $"(rtol {tol.Rtol}, atol {tol.Atol})");
        }
    }

    public static void Equal<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what) where T : IEquatable<T>
    {
        if (actual.Length != expected.Length)
            NUnit.Framework.Assert.Fail($"{what}: length {actual.Length} != expected {expected.Length}");
        for (int i = 0; i < actual.Length; i++)
        {
            if (!actual[i].Equals(expected[i]))
                NUnit.Framework.Assert.Fail($"{what}: element [{i}] actual {actual[i]}, expected {expected[i]}");
        }
    }
}
