using System.Numerics;
using System.Text.Json;
using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

[Category("Conformance")]
public partial class LayoutConformanceTests(Device device) : DeviceFixture(device)
{
    // ---------------------------------------------------------------- copy

    [Test]
    public void CopyMatchesReferenceBetweenRandomLayouts([Range(0, 5)] int rank)
    {
        var rng = new Random(100 + rank);
        for (int trial = 0; trial < 30; trial++)
        {
            int[] dims = TestData.RandomDims(rng, rank, 6);
            if (trial == 0 && rank > 0) dims[rng.Next(rank)] = 0;
            CheckCopy(rng, dims, r => r.NextSingle());
            CheckCopy(rng, dims, r => r.NextDouble());
            CheckCopy(rng, dims, r => r.Next());
            CheckCopy(rng, dims, r => r.NextInt64());
            CheckCopy(rng, dims, r => (byte)r.Next(256));
        }
    }

    [Test]
    public void CopyMatchesReferenceOnLargeTransposesBroadcastsAndStridedViews()
    {
        var rng = new Random(7);
        // Last two axes swapped (the tiled path), big enough to run on several threads.
        CheckCopy(rng, new Shape(3, 300, 257), Permuted(new Shape(3, 257, 300), [0, 2, 1]));
        // A rotation of axes, which merges into a 2-D transpose.
        CheckCopy(rng, new Shape(60, 40, 50), Permuted(new Shape(40, 50, 60), [2, 0, 1]));
        // Contiguous to contiguous: one memcpy split across threads.
        CheckCopy(rng, new Shape(1 << 18), TensorLayout.Contiguous(new Shape(1 << 18)));
        // Broadcast rows and columns.
        CheckCopy(rng, new Shape(1000, 300), new TensorLayout(new Shape(1000, 300), [0, 1]));
        CheckCopy(rng, new Shape(1000, 300), new TensorLayout(new Shape(1000, 300), [1, 0]));
        // Every other element of a larger buffer: the strided inner loop.
        CheckCopy(rng, new Shape(300, 400), new TensorLayout(new Shape(300, 400), [801, 2], 5));
    }

    [Test]
    public void CopyIsTheSameOnOneThreadAndMany()
    {
        var src = TestData.Uniform(new Random(3), 200 * 300);
        var layout = Permuted(new Shape(200, 300), [1, 0]);
        var one = new float[src.Length];
        var many = new float[src.Length];
        RunOnThreads(1, () => CpuLayout.Copy<float>(src, layout, one, TensorLayout.Contiguous(layout.Shape)));
        RunOnThreads(4, () => CpuLayout.Copy<float>(src, layout, many, TensorLayout.Contiguous(layout.Shape)));
        TensorAssert.Equal<float>(many, one, "copy on 4 threads vs 1");
    }

    [Test]
    public void CopyRejectsBadLayouts()
    {
        var buffer = new float[24];
        var c23 = TensorLayout.Contiguous(new Shape(2, 3));
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Copy<float>(buffer, c23, buffer.AsSpan(12), TensorLayout.Contiguous(new Shape(3, 2))),
            "copy: source shape (2, 3) and destination shape (3, 2) differ");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Copy<float>(buffer.AsSpan(0, 5), c23, new float[6], c23), "copy: layout (2, 3)");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Copy<float>(buffer, new TensorLayout(new Shape(2, 3), [-3, 1], 2), new float[6], c23),
            "before the start of the buffer");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Copy<float>(buffer, c23, new float[6], new TensorLayout(new Shape(2, 3), [0, 1])),
            "copy: the destination layout");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Copy<float>(buffer, new TensorLayout(new Shape(2, 3), [3, 1], 1), buffer, c23),
            "copy: the source and destination memory overlap");
        ShouldThrowNaming<ArgumentNullException>(() => CpuLayout.Copy<float>(buffer, null!, buffer, c23), "");
        // A view copied onto itself changes nothing and is allowed.
        CpuLayout.Copy<float>(buffer, c23, buffer, c23);
    }

    // ---------------------------------------------------------------- cast

    [Test]
    public void CastTruncatesTowardZeroAndWrapsIntegersAsNumPy()
    {
        Cast<float, int>([2.7f, -2.7f, 0.5f, -0.5f, 100.99f, -0f]).ShouldBe([2, -2, 0, 0, 100, 0]);
        Cast<double, long>([1e12 + 0.9, -3.999]).ShouldBe([1_000_000_000_000L, -3]);
        Cast<float, byte>([0.9f, 254.99f, 17.5f]).ShouldBe([(byte)0, (byte)254, (byte)17]);
        Cast<int, byte>([300, -1, 255]).ShouldBe([(byte)44, (byte)255, (byte)255]);
        Cast<long, int>([(1L << 32) + 5, -1]).ShouldBe([5, -1]);
        Cast<byte, float>([200, 0]).ShouldBe([200f, 0f]);
        Cast<double, float>([0.1, 1e-50]).ShouldBe([0.1f, 0f]);
        Cast<int, double>([-7, int.MaxValue]).ShouldBe([-7.0, int.MaxValue]);
        Cast<long, float>([(1L << 24) + 1]).ShouldBe([16777216f]);
    }

    [Test]
    public void CastMatchesReferenceBetweenEveryPair()
    {
        Type[] types = [typeof(float), typeof(double), typeof(int), typeof(long), typeof(byte)];
        var method = typeof(LayoutConformanceTests).GetMethod(nameof(CheckCast),
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        foreach (var from in types)
        {
            foreach (var to in types)
            {
                foreach (int length in (int[])[0, 1, 37, 1 << 17])
                    method.MakeGenericMethod(from, to).Invoke(null, [length]);
            }
        }
    }

    [Test]
    public void CastRejectsBadInput()
    {
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.Cast<float, int>(new float[3], new int[4]),
            "cast: source has 3 elements but destination has 4");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.Cast<Half, float>(new Half[1], new float[1]),
            "cast: source element type Half is not supported");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.Cast<float, sbyte>(new float[1], new sbyte[1]),
            "cast: destination element type SByte");
    }

    // ---------------------------------------------------------------- concat and split

    [Test]
    public void ConcatAndSplitRoundTripOnEveryAxis([Range(1, 4)] int rank)
    {
        var rng = new Random(200 + rank);
        for (int axis = 0; axis < rank; axis++)
        {
            for (int trial = 0; trial < 6; trial++)
            {
                int[] dims = TestData.RandomDims(rng, rank, 5);
                int parts = rng.Next(1, 5);
                var shapes = new List<Shape>();
                var inputs = new List<float[]>();
                for (int k = 0; k < parts; k++)
                {
                    dims[axis] = rng.Next(0, 4);
                    shapes.Add(new Shape(dims));
                    inputs.Add(TestData.Uniform(rng, shapes[k].Size));
                }
                float[] expected = LayoutReference.Concat(inputs, shapes, axis);
                Shape whole = CpuLayout.ConcatShape(shapes, axis - (trial % 2) * rank);
                whole.Size.ShouldBe(expected.Length);

                var joined = new float[whole.Size];
                CpuLayout.Concat(inputs.Select(a => (ReadOnlyMemory<float>)a).ToList(), shapes, axis, joined);
                TensorAssert.Equal<float>(joined, expected, $"concat of {string.Join(" ", shapes)} on axis {axis}");

                Shape[] partShapes = CpuLayout.SplitShapes(whole, axis, shapes.Select(s => s[axis]).ToArray());
                partShapes.ShouldBe(shapes.ToArray());
                var outputs = partShapes.Select(s => new float[s.Size]).ToList();
                CpuLayout.Split(joined, whole, axis, outputs.Select(a => (Memory<float>)a).ToList(), partShapes);
                for (int k = 0; k < parts; k++)
                    TensorAssert.Equal<float>(outputs[k], inputs[k], $"split part {k} of {whole} on axis {axis}");
            }
        }
    }

    [Test]
    public void SplitIntoEqualSectionsMatchesSlicing()
    {
        var shape = new Shape(4, 6, 3);
        var x = TestData.UniformDouble(new Random(5), shape.Size);
        Shape[] parts = CpuLayout.SplitShapes(shape, -2, 3);
        parts.ShouldAllBe(s => s == new Shape(4, 2, 3));
        for (int k = 0; k < 3; k++)
        {
            var part = new double[parts[k].Size];
            CpuLayout.Split<double>(x, shape, 1, 2 * k, part, parts[k]);
            var expected = LayoutReference.Slice(x, shape, [null, 2 * k], [null, 2 * k + 2], [], out _);
            TensorAssert.Equal<double>(part, expected, $"section {k}");
        }
    }

    [Test]
    public void ConcatAndSplitRejectBadInput()
    {
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.ConcatShape([new Shape(2, 3), new Shape(3, 3)], 1),
            "concat: input 1 has shape (3, 3) but input 0 has shape (2, 3)");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.ConcatShape([], 0), "concat: no inputs");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.ConcatShape([new Shape(2, 3)], 2), "concat: axis 2 is out of range");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.Concat<float>(new float[6], new Shape(2, 3), 1, new float[10], new Shape(2, 5), 3),
            "concat: offset 3 along axis 1");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Concat<float>(new float[6], new Shape(2, 3), 0, new float[10], new Shape(2, 5), 0),
            "concat: input shape (2, 3) does not fit output shape (2, 5) along axis 0");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Concat<float>(new float[5], new Shape(2, 3), 1, new float[10], new Shape(2, 5), 0),
            "concat: input has 5 elements but shape (2, 3) needs 6");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.SplitShapes(new Shape(2, 7), 1, 3), "split: axis 1 of size 7 (shape (2, 7)) cannot");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.SplitShapes(new Shape(2, 7), 1, 0), "split: 0 sections");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.SplitShapes(new Shape(2, 7), 1, [3, 3]), "split: sizes (3, 3) sum to 6");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.SplitShapes(new Shape(2, 7), 1, [8, -1]), "split: section size -1");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Split<float>(new float[14], new Shape(2, 7), 1,
                [new float[6], new float[6]], [new Shape(2, 3), new Shape(2, 3)]),
            "split: the outputs cover 6 of the 7");
    }

    // ---------------------------------------------------------------- slice

    [Test]
    public void SliceMatchesNumPyOnRandomSpecs([Range(1, 4)] int rank)
    {
        var rng = new Random(300 + rank);
        for (int trial = 0; trial < 60; trial++)
        {
            var shape = new Shape(TestData.RandomDims(rng, rank, 6));
            int sliced = rng.Next(0, rank + 1);
            var begin = new int?[sliced];
            var end = new int?[sliced];
            var step = new int?[sliced];
            for (int a = 0; a < sliced; a++) RandomSliceAxis(rng, shape[a], out begin[a], out end[a], out step[a]);
            int?[] steps = rng.Next(3) == 0 && step.All(s => s is null or 1) ? [] : step;

            var x = TestData.Uniform(rng, shape.Size);
            float[] expected = LayoutReference.Slice(x, shape, begin, end, steps, out Shape expectedShape);
            string what = $"slice {shape} begin ({Join(begin)}) end ({Join(end)}) step ({Join(steps)})";
            CpuLayout.SliceShape(shape, begin, end, steps).ShouldBe(expectedShape, what);
            var y = new float[expectedShape.Size];
            CpuLayout.Slice<float>(x, shape, begin, end, steps, y);
            TensorAssert.Equal<float>(y, expected, what);
        }
    }

    [Test]
    public void SliceHandlesNegativeStepsEmptyResultsAndEmptyInputs()
    {
        var shape = new Shape(3, 4);
        long[] x = Enumerable.Range(0, 12).Select(i => (long)i).ToArray();
        SliceOf(x, shape, [null, null], [null, null], [-1, -1]).ShouldBe([11L, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        SliceOf(x, shape, [-1, 3], [-4, 0], [-2, -2]).ShouldBe([11L, 9, 3, 1]);
        SliceOf(x, shape, [1], [1], []).ShouldBe([]);
        CpuLayout.SliceShape(shape, [1], [1], []).ShouldBe(new Shape(0, 4));
        CpuLayout.SliceShape(new Shape(0, 2), [null], [null], [-1]).ShouldBe(new Shape(0, 2));
        CpuLayout.SliceShape(Shape.Scalar, [], [], []).ShouldBe(Shape.Scalar);
        SliceOf([5L], Shape.Scalar, [], [], []).ShouldBe([5L]);
    }

    [Test]
    public void SliceRejectsBadSpecs()
    {
        var shape = new Shape(3, 4);
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuLayout.SliceShape(shape, [5], [null], []),
            "slice: begin 5 is out of range for axis 0 of size 3");
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuLayout.SliceShape(shape, [-4], [null], []),
            "slice: begin -4 is out of range for axis 0 of size 3");
        ShouldThrowNaming<ArgumentOutOfRangeException>(() => CpuLayout.SliceShape(shape, [0, 0], [3, 5], []),
            "slice: end 5 is out of range for axis 1 of size 4 with step 1");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.SliceShape(shape, [0], [3], [0]),
            "slice: step on axis 0 is 0");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.SliceShape(shape, [2], [1], [1]),
            "slice: on axis 0 end 1 lies before begin 2 for step 1");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.SliceShape(shape, [0, 0, 0], [1, 1, 1], []),
            "slice: 3 axes sliced but the input (3, 4) has rank 2");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.SliceShape(shape, [0, 0], [1], []),
            "slice: begin has 2 entries but end has 1");
        ShouldThrowNaming<ArgumentException>(() => CpuLayout.SliceShape(shape, [0], [1], [1, 1]),
            "slice: step has 2 entries but begin has 1");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Slice<float>(new float[12], shape, [0], [2], [], new float[7]),
            "slice: output has 7 elements but shape (2, 4) needs 8");
    }

    // ---------------------------------------------------------------- take

    [Test]
    public void TakeAndItsBackwardMatchReference([Values] TakeMode mode, [Range(1, 4)] int rank)
    {
        var rng = new Random(400 + rank * 3 + (int)mode);
        for (int trial = 0; trial < 12; trial++)
        {
            var shape = new Shape(TestData.RandomDims(rng, rank, 5));
            int axis = rng.Next(rank);
            long n = shape[axis];
            long[] indices = Enumerable.Range(0, rng.Next(0, 8))
                .Select(_ => mode == TakeMode.Raise ? rng.NextInt64(-n, n) : rng.NextInt64(-2 * n - 3, 2 * n + 4))
                .ToArray();
            Shape outShape = CpuLayout.TakeShape(shape, new Shape(indices.Length), axis);
            string what = $"take {shape} axis {axis} mode {mode} indices ({string.Join(", ", indices)})";

            var x = TestData.Uniform(rng, shape.Size);
            var y = new float[outShape.Size];
            CpuLayout.Take<float>(x, shape, indices, axis, mode, y);
            TensorAssert.Equal<float>(y, LayoutReference.Take(x, shape, indices, axis, mode), what);

            long[] xi = x.Select(v => (long)(v * 1000)).ToArray();
            var yi = new long[outShape.Size];
            CpuLayout.Take<long>(xi, shape, indices, axis - rank, mode, yi);
            TensorAssert.Equal<long>(yi, LayoutReference.Take(xi, shape, indices, axis, mode), what);

            double[] dy = TestData.UniformDouble(rng, outShape.Size);
            double[] expected = LayoutReference.TakeBackward(dy, indices, shape, axis, mode);
            var dx = new double[shape.Size];
            CpuLayout.TakeBackward<double>(dy, indices, shape, axis, mode, dx);
            TensorAssert.AllClose(dx, expected, Tolerances.Float64, what + " backward");

            var dxf = new float[shape.Size];
            Array.Fill(dxf, 1f);
            CpuLayout.TakeBackward<float>(dy.Select(v => (float)v).ToArray(), indices, shape, axis, mode, dxf,
                accumulate: true);
            TensorAssert.AllClose(dxf, expected.Select(v => (float)(v + 1)).ToArray(),
                Tolerances.Float32Sum(indices.Length + 1), what + " backward accumulated");
        }
    }

    [Test]
    public void EmbeddingBackwardIsTheSameOnOneThreadAndMany()
    {
        var rng = new Random(11);
        var shape = new Shape(1000, 70);
        long[] indices = Enumerable.Range(0, 5000).Select(_ => rng.NextInt64(0, 1000)).ToArray();
        var dy = TestData.Uniform(rng, indices.Length * 70L);
        var one = new float[shape.Size];
        var many = new float[shape.Size];
        RunOnThreads(1, () => CpuLayout.TakeBackward<float>(dy, indices, shape, 0, TakeMode.Clip, one));
        RunOnThreads(4, () => CpuLayout.TakeBackward<float>(dy, indices, shape, 0, TakeMode.Clip, many));
        TensorAssert.Equal<float>(many, one, "embedding backward on 4 threads vs 1");
        var expected = LayoutReference.TakeBackward(dy.Select(v => (double)v).ToArray(), indices, shape, 0,
            TakeMode.Clip);
        TensorAssert.AllClose(one, expected.Select(v => (float)v).ToArray(), Tolerances.Float32Sum(20), "embedding");

        var y = new float[indices.Length * 70L];
        var w = TestData.Uniform(rng, shape.Size);
        CpuLayout.Take<float>(w, shape, indices, 0, TakeMode.Raise, y);
        TensorAssert.Equal<float>(y, LayoutReference.Take(w, shape, indices, 0, TakeMode.Raise), "embedding");
    }

    [Test]
    public void TakeRejectsBadInput()
    {
        var shape = new Shape(5, 2);
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.Take<float>(new float[10], shape, [1, 7], 0, TakeMode.Raise, new float[4]),
            "take: index 7 at position 1 is out of range for axis 0 of size 5 (mode raise)");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.Take<float>(new float[10], shape, [-6], 0, TakeMode.Raise, new float[2]),
            "take: index -6 at position 0");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Take<float>(new float[10], shape, [1, 2], 0, TakeMode.Clip, new float[3]),
            "take: output has 3 elements but 2 indices need 4");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Take<float>(new float[9], shape, [1], 0, TakeMode.Clip, new float[2]),
            "take: data has 9 elements");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.Take<float>(new float[10], shape, [1], 2, TakeMode.Clip, new float[2]),
            "take: axis 2 is out of range");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Take<float>([], new Shape(0, 2), [0], 0, TakeMode.Wrap, new float[2]),
            "take: cannot take 1 indices from axis 0 of size 0");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.TakeBackward<float>(new float[2], [9], shape, 0, TakeMode.Raise, new float[10]),
            "take backward: index 9");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.Take<float>(new float[10], shape, [1], 0, (TakeMode)7, new float[2]),
            "take: unknown mode 7");
    }

    // ---------------------------------------------------------------- one-hot

    [Test]
    public void OneHotMatchesReferenceWithOutOfRangeRowsOff()
    {
        var y = new int[5 * 4];
        CpuLayout.OneHot<int>([-1, 0, 3, 4, 2], 4, 1, 0, y);
        y.ShouldBe([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]);

        var rng = new Random(12);
        long[] indices = Enumerable.Range(0, 3000).Select(_ => rng.NextInt64(-2, 40)).ToArray();
        var yf = new float[indices.Length * 37];
        CpuLayout.OneHot(indices, 37, 0.9f, -0.1f, yf);
        TensorAssert.Equal<float>(yf, LayoutReference.OneHot(indices, 37, 0.9f, -0.1f), "one_hot depth 37");
        CpuLayout.OneHot<double>([], 3, 1, 0, []);
        CpuLayout.OneHot<double>([1, 2], 0, 1, 0, []);
    }

    [Test]
    public void OneHotRejectsBadInput()
    {
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.OneHot<float>([1], -2, 1, 0, []), "one_hot: depth -2 is negative");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.OneHot<float>([1, 2], 3, 1, 0, new float[5]),
            "one_hot: output has 5 elements but 2 indices with depth 3 need 6");
    }

    // ---------------------------------------------------------------- pad

    [Test]
    public void PadAndItsBackwardMatchReference([Values] PadMode mode, [Range(1, 4)] int rank)
    {
        var rng = new Random(500 + rank * 3 + (int)mode);
        for (int trial = 0; trial < 12; trial++)
        {
            var shape = new Shape(TestData.RandomDims(rng, rank, 6));
            var before = new int[rank];
            var after = new int[rank];
            for (int a = 0; a < rank; a++)
            {
                int limit = mode == PadMode.Reflect ? shape[a] - 1 : 3;
                before[a] = rng.Next(0, Math.Min(limit, 3) + 1);
                after[a] = rng.Next(0, Math.Min(limit, 3) + 1);
            }
            Shape outShape = CpuLayout.PadShape(shape, before, after, mode);
            outShape.ShouldBe(LayoutReference.PaddedShape(shape, before, after));
            string what = $"pad {shape} before ({Join(before)}) after ({Join(after)}) mode {mode}";

            var x = TestData.Uniform(rng, shape.Size);
            var y = new float[outShape.Size];
            CpuLayout.Pad<float>(x, shape, before, after, mode, 0.25f, y);
            TensorAssert.Equal<float>(y, LayoutReference.Pad(x, shape, before, after, mode, 0.25f), what);

            var xb = x.Select(v => (byte)(v * 100 + 100)).ToArray();
            var yb = new byte[outShape.Size];
            CpuLayout.Pad<byte>(xb, shape, before, after, mode, 7, yb);
            TensorAssert.Equal<byte>(yb, LayoutReference.Pad(xb, shape, before, after, mode, (byte)7), what);

            double[] dy = TestData.UniformDouble(rng, outShape.Size);
            double[] expected = LayoutReference.PadBackward(dy, shape, before, after, mode);
            var dx = new double[shape.Size];
            CpuLayout.PadBackward<double>(dy, shape, before, after, mode, dx);
            TensorAssert.AllClose(dx, expected, Tolerances.Float64, what + " backward");
            var dxf = new float[shape.Size];
            CpuLayout.PadBackward<float>(dy.Select(v => (float)v).ToArray(), shape, before, after, mode, dxf);
            TensorAssert.AllClose(dxf, expected.Select(v => (float)v).ToArray(), Tolerances.Float32Sum(16),
                what + " backward");
        }
    }

    [Test]
    public void PadHandlesScalarsEmptyInputsAndLargeArrays()
    {
        var y = new float[1];
        CpuLayout.Pad<float>([3f], Shape.Scalar, [], [], PadMode.Reflect, 0, y);
        y.ShouldBe([3f]);
        var filled = new float[2 * 5];
        CpuLayout.Pad<float>([], new Shape(0, 3), [1, 0], [1, 2], PadMode.Constant, 9, filled);
        filled.ShouldAllBe(v => v == 9f);
        CpuLayout.PadBackward<float>(new float[10], new Shape(0, 3), [1, 0], [1, 2], PadMode.Constant, []);

        var shape = new Shape(8, 3, 60, 70);
        int[] before = [0, 0, 5, 3], after = [0, 1, 2, 6];
        var x = TestData.Uniform(new Random(13), shape.Size);
        Shape outShape = CpuLayout.PadShape(shape, before, after, PadMode.Reflect);
        var yl = new float[outShape.Size];
        CpuLayout.Pad<float>(x, shape, before, after, PadMode.Reflect, 0, yl);
        TensorAssert.Equal<float>(yl, LayoutReference.Pad(x, shape, before, after, PadMode.Reflect, 0f), "large pad");
        var one = new float[shape.Size];
        var many = new float[shape.Size];
        RunOnThreads(1, () => CpuLayout.PadBackward<float>(yl, shape, before, after, PadMode.Reflect, one));
        RunOnThreads(4, () => CpuLayout.PadBackward<float>(yl, shape, before, after, PadMode.Reflect, many));
        TensorAssert.Equal<float>(many, one, "pad backward on 4 threads vs 1");
    }

    [Test]
    public void PadRejectsBadInput()
    {
        var shape = new Shape(2, 5, 3);
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.PadShape(shape, [0, 0, 4], [0, 0, 0], PadMode.Reflect),
            "pad: reflect padding 4 on axis 2 needs size > 4, got 3");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.PadShape(shape, [0, 0, 0], [0, 0, 3], PadMode.Reflect),
            "pad: reflect padding 3 on axis 2 needs size > 3, got 3");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.PadShape(shape, [0, -1, 0], [0, 0, 0], PadMode.Constant),
            "pad: padding -1 on axis 1 is negative");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.PadShape(new Shape(2, 0), [0, 1], [0, 0], PadMode.Edge),
            "pad: edge padding 1 on axis 1 needs a non-empty axis");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.PadShape(shape, [0, 0], [0, 0], PadMode.Constant),
            "pad: 2 pads before and 2 after given for shape (2, 5, 3) of rank 3");
        ShouldThrowNaming<ArgumentOutOfRangeException>(
            () => CpuLayout.PadShape(shape, [0, 0, 0], [0, 0, 0], (PadMode)9), "pad: unknown mode 9");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.Pad<float>(new float[30], shape, [0, 0, 1], [0, 0, 1], PadMode.Edge, 0, new float[30]),
            "pad: output has 30 elements but shape (2, 5, 5) needs 50");
        ShouldThrowNaming<ArgumentException>(
            () => CpuLayout.PadBackward<float>(new float[50], shape, [0, 0, 1], [0, 0, 1], PadMode.Edge,
                new float[31]),
            "pad backward: input gradient has 31 elements");
    }

    // ---------------------------------------------------------------- PyTorch goldens

    public static IEnumerable<string> GoldenCases() => Golden.CaseNames("layout");

    [Test]
    public void GoldenCasesExist() => GoldenCases().ShouldNotBeEmpty("run tools/golden/gen_layout.py");

    [TestCaseSource(nameof(GoldenCases))]
    public void MatchesPyTorchGolden(string name)
    {
        GoldenCase c = Golden.Load("layout", name);
        string op = c.Attrs.GetProperty("op").GetString()!;
        if (Device.Kind != DeviceKind.Cpu && op != "slice")
        {
            MatchesPyTorchGoldenThroughOperators(c, op, name);
            return;
        }
        switch (op)
        {
            case "permute":
            {
                var x = c["x"];
                int[] perm = Ints(c.Attrs.GetProperty("perm"));
                Shape yShape = c["y"].Shape;
                long[] xStrides = x.Shape.ContiguousStrides();
                var layout = new TensorLayout(yShape, perm.Select(p => xStrides[p]).ToArray());
                var y = new float[yShape.Size];
                CpuLayout.Copy<float>(x.ToFloat32(), layout, y, TensorLayout.Contiguous(yShape));
                GoldenClose(y, c["y"].ToFloat32(), name);
                break;
            }
            case "expand":
            {
                var x = c["x"];
                Shape yShape = c["y"].Shape;
                // Align x's axes to the right of y's; size-1 axes of x broadcast with stride 0.
                long[] xStrides = x.Shape.ContiguousStrides();
                var strides = new long[yShape.Rank];
                int shift = yShape.Rank - x.Shape.Rank;
                for (int a = shift; a < yShape.Rank; a++)
                    strides[a] = x.Shape[a - shift] == 1 ? 0 : xStrides[a - shift];
                var y = new float[yShape.Size];
                CpuLayout.Copy<float>(x.ToFloat32(), new TensorLayout(yShape, strides), y,
                    TensorLayout.Contiguous(yShape));
                GoldenClose(y, c["y"].ToFloat32(), name);
                break;
            }
            case "cat":
            {
                int axis = c.Attrs.GetProperty("axis").GetInt32();
                var parts = new[] { c["x0"], c["x1"], c["x2"] };
                var y = new float[c["y"].Shape.Size];
                CpuLayout.Concat(parts.Select(p => (ReadOnlyMemory<float>)p.ToFloat32()).ToList(),
                    parts.Select(p => p.Shape).ToList(), axis, y);
                CpuLayout.ConcatShape(parts.Select(p => p.Shape).ToList(), axis).ShouldBe(c["y"].Shape);
                GoldenClose(y, c["y"].ToFloat32(), name);
                break;
            }
            case "split":
            {
                int axis = c.Attrs.GetProperty("axis").GetInt32();
                int[] sizes = Ints(c.Attrs.GetProperty("sizes"));
                var x = c["x"];
                Shape[] shapes = CpuLayout.SplitShapes(x.Shape, axis, sizes);
                var outputs = shapes.Select(s => new float[s.Size]).ToList();
                CpuLayout.Split(x.ToFloat32(), x.Shape, axis, outputs.Select(o => (Memory<float>)o).ToList(), shapes);
                for (int k = 0; k < sizes.Length; k++) GoldenClose(outputs[k], c[$"y{k}"].ToFloat32(), $"{name} y{k}");
                break;
            }
            case "slice":
            {
                var x = c["x"];
                int?[] begin = OptionalInts(c.Attrs.GetProperty("begin"));
                int?[] end = OptionalInts(c.Attrs.GetProperty("end"));
                int?[] step = OptionalInts(c.Attrs.GetProperty("step"));
                Shape yShape = CpuLayout.SliceShape(x.Shape, begin, end, step);
                yShape.ShouldBe(c["y"].Shape);
                var y = new float[yShape.Size];
                CpuLayout.Slice<float>(x.ToFloat32(), x.Shape, begin, end, step, y);
                GoldenClose(y, c["y"].ToFloat32(), name);
                break;
            }
            case "take":
            {
                int axis = c.Attrs.GetProperty("axis").GetInt32();
                var x = c["x"];
                long[] indices = c["indices"].ToInt64();
                CpuLayout.TakeShape(x.Shape, c["indices"].Shape, axis).ShouldBe(c["y"].Shape);
                var y = new float[c["y"].Shape.Size];
                CpuLayout.Take<float>(x.ToFloat32(), x.Shape, indices, axis, TakeMode.Raise, y);
                GoldenClose(y, c["y"].ToFloat32(), name);
                var dx = new float[x.Shape.Size];
                CpuLayout.TakeBackward<float>(c["dy"].ToFloat32(), indices, x.Shape, axis, TakeMode.Raise, dx);
                GoldenClose(dx, c["dx"].ToFloat32(), name + " dx");
                break;
            }
            case "one_hot":
            {
                int depth = c.Attrs.GetProperty("depth").GetInt32();
                var y = new long[c["y"].Shape.Size];
                CpuLayout.OneHot<long>(c["indices"].ToInt64(), depth, 1, 0, y);
                TensorAssert.Equal<long>(y, c["y"].ToInt64(), name);
                break;
            }
            case "pad":
            {
                var x = c["x"];
                var mode = Enum.Parse<PadMode>(c.Attrs.GetProperty("mode").GetString()!);
                int[] before = Ints(c.Attrs.GetProperty("before")), after = Ints(c.Attrs.GetProperty("after"));
                float value = c.Attrs.GetProperty("value").GetSingle();
                CpuLayout.PadShape(x.Shape, before, after, mode).ShouldBe(c["y"].Shape);
                var y = new float[c["y"].Shape.Size];
                CpuLayout.Pad<float>(x.ToFloat32(), x.Shape, before, after, mode, value, y);
                GoldenClose(y, c["y"].ToFloat32(), name);
                var dx = new float[x.Shape.Size];
                CpuLayout.PadBackward<float>(c["dy"].ToFloat32(), x.Shape, before, after, mode, dx);
                GoldenClose(dx, c["dx"].ToFloat32(), name + " dx");
                break;
            }
            default:
                Assert.Fail($"golden case {name} has unknown op '{op}'");
                break;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void CheckCopy<T>(Random rng, int[] dims, Func<Random, T> next)
        where T : unmanaged, IEquatable<T>
    {
        TensorLayout srcLayout = RandomLayout(rng, dims, broadcast: true, out long srcLength);
        TensorLayout dstLayout = RandomLayout(rng, dims, broadcast: false, out long dstLength);
        T[] src = Enumerable.Range(0, (int)srcLength).Select(_ => next(rng)).ToArray();
        T[] dst = Enumerable.Range(0, (int)dstLength).Select(_ => next(rng)).ToArray();
        T[] expected = LayoutReference.Copy(src, srcLayout, dst, dstLayout);
        CpuLayout.Copy<T>(src, srcLayout, dst, dstLayout);
        TensorAssert.Equal<T>(dst, expected, $"{typeof(T).Name} copy {srcLayout} -> {dstLayout}");
    }

    private static void CheckCopy(Random rng, Shape shape, TensorLayout srcLayout)
    {
        var src = TestData.Uniform(rng, srcLayout.Extent);
        var dst = new float[shape.Size];
        var dstLayout = TensorLayout.Contiguous(shape);
        CpuLayout.Copy<float>(src, srcLayout, dst, dstLayout);
        TensorAssert.Equal<float>(dst, LayoutReference.Copy(src, srcLayout, new float[shape.Size], dstLayout),
            $"copy {srcLayout}");
    }

    /// <summary>
    /// A random view with the given dims: axes laid out in a random memory order, some over-allocated and
    /// entered at an offset (a slice of a larger array), some broadcast (stride 0), at a random base offset.
    /// </summary>
    private static TensorLayout RandomLayout(Random rng, int[] dims, bool broadcast, out long bufferLength)
    {
        int rank = dims.Length;
        var allocated = new int[rank];
        var start = new int[rank];
        var broadcasts = new bool[rank];
        for (int a = 0; a < rank; a++)
        {
            broadcasts[a] = broadcast && rng.Next(4) == 0;
            int extra = rng.Next(3) == 0 ? rng.Next(1, 3) : 0;
            allocated[a] = broadcasts[a] ? 1 : dims[a] + extra;
            start[a] = broadcasts[a] ? 0 : rng.Next(extra + 1);
        }
        int[] order = Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray();
        var strides = new long[rank];
        long running = 1;
        for (int k = rank - 1; k >= 0; k--)
        {
            int a = order[k];
            strides[a] = broadcasts[a] ? 0 : running;
            running *= allocated[a];
        }
        long baseOffset = rng.Next(4);
        long offset = baseOffset;
        for (int a = 0; a < rank; a++) offset += start[a] * strides[a];
        bufferLength = baseOffset + running + rng.Next(3);
        return new TensorLayout(new Shape(dims), strides, offset);
    }

    /// <summary>The layout that reads a contiguous <paramref name="stored"/> array as stored.permute(perm).</summary>
    private static TensorLayout Permuted(Shape stored, int[] perm)
    {
        long[] strides = stored.ContiguousStrides();
        return new TensorLayout(new Shape(perm.Select(p => stored[p]).ToArray()),
            perm.Select(p => strides[p]).ToArray());
    }

    private static void RandomSliceAxis(Random rng, int n, out int? begin, out int? end, out int? step)
    {
        int[] steps = [1, 1, 2, 3, -1, -2, -3];
        int s = steps[rng.Next(steps.Length)];
        step = rng.Next(3) == 0 ? (s == 1 ? null : s) : s;
        int b = rng.Next(n);
        int e = s > 0 ? rng.Next(b, n + 1) : rng.Next(-1, b + 1);
        begin = rng.Next(4) == 0 && (s > 0 ? b == 0 : b == n - 1) ? null : rng.Next(2) == 0 ? b - n : b;
        if (s > 0) end = e == n && rng.Next(2) == 0 ? null : rng.Next(2) == 0 && e < n ? e - n : e;
        else end = e == -1 ? (rng.Next(2) == 0 ? null : -n - 1) : rng.Next(2) == 0 ? e - n : e;
    }

    private static long[] SliceOf(long[] x, Shape shape, int?[] begin, int?[] end, int?[] step)
    {
        var y = new long[CpuLayout.SliceShape(shape, begin, end, step).Size];
        CpuLayout.Slice<long>(x, shape, begin, end, step, y);
        return y;
    }

    private static TTo[] Cast<TFrom, TTo>(TFrom[] src)
        where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
    {
        var dst = new TTo[src.Length];
        CpuLayout.Cast<TFrom, TTo>(src, dst);
        return dst;
    }

    /// <summary>Values in [0, 200) (in range for every type); integer targets expect truncation.</summary>
    private static void CheckCast<TFrom, TTo>(int length)
        where TFrom : unmanaged, INumberBase<TFrom>, IEquatable<TFrom>
        where TTo : unmanaged, INumberBase<TTo>, IEquatable<TTo>
    {
        var rng = new Random(length);
        TFrom[] src = Enumerable.Range(0, length).Select(_ => TFrom.CreateTruncating(rng.NextDouble() * 200)).ToArray();
        bool integer = typeof(TTo) != typeof(float) && typeof(TTo) != typeof(double);
        TTo[] expected = src.Select(v =>
        {
            double d = double.CreateTruncating(v);
            return TTo.CreateTruncating(integer ? Math.Truncate(d) : d);
        }).ToArray();
        TensorAssert.Equal<TTo>(Cast<TFrom, TTo>(src), expected, $"cast {typeof(TFrom).Name} -> {typeof(TTo).Name}");
    }

    private static void RunOnThreads(int threads, Action action)
    {
        int saved = CpuParallel.MaxThreads;
        CpuParallel.MaxThreads = threads;
        try
        {
            action();
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    private static void ShouldThrowNaming<TException>(Action action, string messagePart) where TException : Exception
    {
        var e = Should.Throw<TException>(action);
        e.Message.ShouldContain(messagePart);
    }

    private static void GoldenClose(float[] actual, float[] expected, string what) =>
        TensorAssert.AllClose(actual, expected, Tolerances.Golden, what);

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static int?[] OptionalInts(JsonElement e) =>
        e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (int?)null : v.GetInt32()).ToArray();

    private static string Join<T>(IEnumerable<T> values) =>
        string.Join(", ", values.Select(v => v?.ToString() ?? "None"));
}
