namespace Engine.Bench;

/// <summary>
/// Memory-bound elementwise operators through Nd on 1M and 16M floats, and a transposed copy of a 1024 and a 4096
/// square matrix: reports GB/s moved.
/// </summary>
public static class ElementwiseSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        foreach (int n in new[] { 1 << 20, 1 << 24 })
        {
            using var a = Nd.Ones(n);
            using var b = Nd.Ones(n);
            foreach (var (name, op) in new (string, Func<NDArray>)[]
                     {
                         ("add", () => Nd.Add(a, b)), ("exp", () => Nd.Exp(a)), ("relu", () => Nd.Relu(a)),
                     })
            {
                string caseName = $"{name}_{n}";
                if (!ctx.Wants(caseName)) continue;
                double bytes = (name == "add" ? 3.0 : 2.0) * n * sizeof(float);
                yield return ctx.Measure(caseName, () => op().Dispose(), bytes: bytes);
            }
        }
        // A matrix copied transposed (the last two axes swapped into a new contiguous array).
        foreach (int side in new[] { 1024, 4096 })
        {
            string caseName = $"transpose_{side}x{side}";
            if (!ctx.Wants(caseName)) continue;
            using var m = Nd.Ones(side, side);
            yield return ctx.Measure(caseName, () =>
            {
                using var view = m.T;
                view.Copy().Dispose();
            }, bytes: 2.0 * side * side * sizeof(float));
        }
    }
}
