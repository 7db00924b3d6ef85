using Engine.Kernels;
using Engine.Kernels.Cpu;
using Engine.Tests.Conformance.Reference;
using Engine.Tests.Support;

namespace Engine.Tests.Conformance;

/// <summary>
/// Every convolution case of <see cref="ConvolutionConformanceTests"/> through each implementation in turn (tiles,
/// packed GEMM, direct, and the Vector256 forms of the padded-plane im2col and of the direct kernels, which an
/// AVX-512 machine runs too), and the packed path with column budgets small enough to split batches and images into
/// several blocks, against the naive reference; and each implementation's results across thread counts.
/// </summary>
[TestFixture]
[Category("Conformance")]
[NonParallelizable]
public class ConvolutionPathConformanceTests
{
    /// <summary>Column budgets: one image-row's worth, a few images' worth, and the default.</summary>
    private static readonly long[] Budgets = [64, 4096, 0];

    public static IEnumerable<TestCaseData> PathCases()
    {
        foreach (var path in new[] { "Tiles", "Packed", "Packed256", "Direct", "Direct256" })
        {
            foreach (var data in ConvolutionConformanceTests.Cases())
            {
                var d = (ConvolutionDescriptor)data.Arguments[0]!;
                bool bias = (bool)data.Arguments[1]!;
                yield return new TestCaseData(path, d, bias).SetArgDisplayNames(path, data.TestName ?? d.ToString());
            }
        }
        foreach (var (name, d, bias) in BlockCases())
            yield return new TestCaseData("Packed", d, bias).SetArgDisplayNames("Packed", name);
        foreach (var (name, d, bias) in BlockCases())
            yield return new TestCaseData("Direct", d, bias).SetArgDisplayNames("Direct", name);
        foreach (var (name, d, bias) in BlockCases())
            yield return new TestCaseData("Direct256", d, bias).SetArgDisplayNames("Direct256", name);
    }

    /// <summary>Shapes that put block edges where they matter: odd batches, wide images, groups, 1x1.</summary>
    private static IEnumerable<(string, ConvolutionDescriptor, bool)> BlockCases()
    {
        yield return ("batch7_small_images", new(7, 3, 6, 5, 8, 3, 3, padH: 1, padW: 1), true);
        yield return ("batch5_large_image", new(5, 2, 20, 19, 7, 3, 3, padH: 1, padW: 1), true);
        yield return ("batch5_groups3", new(5, 6, 9, 8, 9, 3, 3, padH: 1, padW: 1, groups: 3), true);
        yield return ("batch5_stride2", new(5, 4, 11, 13, 6, 3, 3, 2, 2, 1, 1), false);
        yield return ("batch5_dilation2", new(5, 3, 10, 9, 5, 3, 3, padH: 2, padW: 2, dilationH: 2, dilationW: 2),
            true);
        yield return ("batch6_pointwise", new(6, 5, 7, 9, 6, 1, 1), true);
        yield return ("batch6_pointwise_large", new(6, 3, 17, 19, 5, 1, 1), false);
        yield return ("batch3_pointwise_stride2", new(3, 4, 9, 8, 6, 1, 1, 2, 2), true);
        yield return ("batch9_lenet2", new(9, 6, 12, 12, 16, 5, 5), true);
        yield return ("batch3_resnet_4x4", new(3, 24, 4, 4, 20, 3, 3, padH: 1, padW: 1), false);
        yield return ("batch3_wide_rows", new(3, 2, 5, 40, 9, 3, 3, padH: 1, padW: 1), true);
        yield return ("batch4_stride2_wide", new(4, 3, 8, 36, 10, 3, 3, 2, 2, 1, 1), true);
        yield return ("conv1d_batch5", ConvolutionDescriptor.Conv1D(5, 4, 37, 9, 3, pad: 1), true);
    }

    [TestCaseSource(nameof(PathCases))]
    public void Float32MatchesReference(string path, ConvolutionDescriptor d, bool withBias)
    {
        var rng = new Random(17);
        float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
        float[] b = withBias ? TestData.Uniform(rng, d.OutChannels) : [];
        float[] dy = TestData.Uniform(rng, d.OutputSize);
        double[] y0 = ConvolutionReference.Forward(d, ToDouble(x), ToDouble(w), withBias ? ToDouble(b) : null);
        double[] dx0 = ConvolutionReference.BackwardData(d, ToDouble(dy), ToDouble(w));
        double[] dw0 = ConvolutionReference.BackwardWeight(d, ToDouble(x), ToDouble(dy));
        int taps = d.KernelH * d.KernelW;
        long pixels = (long)d.Batch * d.OutHeight * d.OutWidth;
        foreach (long budget in Budgets)
        {
            var (y, dx, dw) = Run(path, budget, d, x, w, b, dy, float.NaN);
            string what = $"{d} {path} budget {budget}";
            TensorAssert.AllClose(y, ToSingle(y0), Tolerances.Float32Sum(d.InChannelsPerGroup * taps),
                $"{what} forward");
            TensorAssert.AllClose(dx, ToSingle(dx0), Tolerances.Float32Sum(d.OutChannelsPerGroup * taps),
                $"{what} backward data");
            TensorAssert.AllClose(dw, ToSingle(dw0), Tolerances.Float32Sum(pixels), $"{what} backward weight");
        }
    }

    [TestCaseSource(nameof(PathCases))]
    public void Float64MatchesReference(string path, ConvolutionDescriptor d, bool withBias)
    {
        var rng = new Random(18);
        double[] x = TestData.UniformDouble(rng, d.InputSize), w = TestData.UniformDouble(rng, d.WeightSize);
        double[] b = withBias ? TestData.UniformDouble(rng, d.OutChannels) : [];
        double[] dy = TestData.UniformDouble(rng, d.OutputSize);
        double[] y0 = ConvolutionReference.Forward(d, x, w, withBias ? b : null);
        double[] dx0 = ConvolutionReference.BackwardData(d, dy, w);
        double[] dw0 = ConvolutionReference.BackwardWeight(d, x, dy);
        foreach (long budget in Budgets)
        {
            var (y, dx, dw) = Run(path, budget, d, x, w, b, dy, double.NaN);
            string what = $"{d} {path} budget {budget}";
            TensorAssert.AllClose(y, y0, Tolerances.Float64, $"{what} forward");
            TensorAssert.AllClose(dx, dx0, Tolerances.Float64, $"{what} backward data");
            TensorAssert.AllClose(dw, dw0, Tolerances.Float64, $"{what} backward weight");
        }
    }

    [TestCase(2, TestName = "ImageByImageWeightGradientAcrossBlocks(2 images a block)")]
    [TestCase(6, TestName = "ImageByImageWeightGradientAcrossBlocks(6 images a block: two chunks)")]
    public void ImageByImageWeightGradientAcrossBlocks(int imagesPerBlock)
    {
        // Images of 288 and 272 output pixels, seven of them, in blocks of imagesPerBlock whole images: the packed
        // weight gradient runs image by image, later blocks adding onto the first, the last block a single image.
        var cases = new[]
        {
            new ConvolutionDescriptor(7, 3, 18, 16, 10, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(7, 2, 16, 17, 24, 1, 1),
        };
        foreach (var d in cases)
        {
            var rng = new Random(23);
            float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
            float[] dy = TestData.Uniform(rng, d.OutputSize);
            long columnBytes = (long)imagesPerBlock * d.InChannels * d.KernelH * d.KernelW * d.OutHeight * d.OutWidth *
                sizeof(float);
            var (_, _, dw) = Run("Packed", columnBytes, d, x, w, [], dy, float.NaN);
            double[] dw0 = ConvolutionReference.BackwardWeight(d, ToDouble(x), ToDouble(dy));
            TensorAssert.AllClose(dw, ToSingle(dw0), Tolerances.Float32Sum((long)d.Batch * d.OutHeight * d.OutWidth),
                $"{d} backward weight, {imagesPerBlock} images a block");
        }
    }

    [TestCase("Tiles")]
    [TestCase("Packed")]
    [TestCase("Packed256")]
    [TestCase("Direct")]
    [TestCase("Direct256")]
    public void ResultsDoNotDependOnTheThreadCount(string path)
    {
        var cases = new[]
        {
            new ConvolutionDescriptor(5, 16, 12, 12, 24, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(3, 8, 15, 13, 8, 3, 3, 2, 2, 1, 1, groups: 2),
            new ConvolutionDescriptor(9, 6, 12, 12, 16, 5, 5),
            new ConvolutionDescriptor(3, 32, 4, 4, 40, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(4, 12, 9, 9, 20, 1, 1),
            // With the default column budget, whole images per block and 256 pixels or more: the packed weight
            // gradient runs image by image in chunks of four, on whichever thread (transposed, then not).
            new ConvolutionDescriptor(9, 3, 18, 16, 10, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(6, 2, 16, 17, 24, 1, 1),
        };
        int saved = CpuParallel.MaxThreads;
        try
        {
            foreach (var d in cases)
            {
                var rng = new Random(19);
                float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
                float[] b = TestData.Uniform(rng, d.OutChannels), dy = TestData.Uniform(rng, d.OutputSize);
                long budget = (long)d.OutHeight * d.OutWidth >= 256 ? 0 : 4096;
                CpuParallel.MaxThreads = 1;
                var one = Run(path, budget, d, x, w, b, dy, float.NaN);
                foreach (int threads in new[] { 2, 3, 4 })
                {
                    CpuParallel.MaxThreads = threads;
                    var many = Run(path, budget, d, x, w, b, dy, float.NaN);
                    TensorAssert.Equal<float>(many.Y, one.Y, $"{d} {path} forward, {threads} threads");
                    TensorAssert.Equal<float>(many.Dx, one.Dx, $"{d} {path} backward data, {threads} threads");
                    TensorAssert.Equal<float>(many.Dw, one.Dw, $"{d} {path} backward weight, {threads} threads");
                }
            }
        }
        finally
        {
            CpuParallel.MaxThreads = saved;
        }
    }

    /// <summary>
    /// The padded-plane im2col only copies, so its Vector256 form (AVX2) must give the packed path's very bits.
    /// Where the machine has no AVX2 both runs take the same code and the test says so.
    /// </summary>
    [Test]
    public void PaddedPlaneColumnsAreTheSameWithVector256()
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) Assert.Ignore("no AVX2: the Vector256 form never runs");
        var cases = new[]
        {
            new ConvolutionDescriptor(9, 6, 12, 12, 16, 5, 5),
            new ConvolutionDescriptor(3, 24, 4, 4, 20, 3, 3, padH: 1, padW: 1),
            new ConvolutionDescriptor(4, 3, 8, 36, 10, 3, 3, 2, 2, 1, 1),
            new ConvolutionDescriptor(2, 1, 28, 28, 6, 5, 5),
            new ConvolutionDescriptor(3, 4, 11, 13, 6, 3, 3, 2, 2, 1, 1),
        };
        foreach (var d in cases)
        {
            var rng = new Random(23);
            float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
            float[] b = TestData.Uniform(rng, d.OutChannels), dy = TestData.Uniform(rng, d.OutputSize);
            var wide = Run("Packed", 0, d, x, w, b, dy, float.NaN);
            var narrow = Run("Packed256", 0, d, x, w, b, dy, float.NaN);
            TensorAssert.Equal<float>(narrow.Y, wide.Y, $"{d} forward");
            TensorAssert.Equal<float>(narrow.Dx, wide.Dx, $"{d} backward data");
            TensorAssert.Equal<float>(narrow.Dw, wide.Dw, $"{d} backward weight");
        }
    }

    /// <summary>
    /// The automatic choice runs the direct kernels wherever they exist (float with AVX-512 or AVX2 + FMA) for the
    /// passes it keeps them for: on LeNet's and ResNet-18's layers, the forward pass, backward data of stride-1
    /// layers with 8 or more input channels, and backward weight of small weights; with AVX2, not on 4x4 planes nor
    /// for the weight gradient of more than 16 output channels. Elsewhere (Vector128, scalar) the packed GEMM runs.
    /// </summary>
    [Test]
    public void AutomaticChoiceRunsTheDirectKernelsOnAvx512AndAvx2()
    {
        bool avx2 = CpuInstructionSet.Active == CpuVectorPath.Vector256 &&
            System.Runtime.Intrinsics.X86.Fma.IsSupported;
        bool avx512 = CpuInstructionSet.Active == CpuVectorPath.Vector512;
        var layers = new (ConvolutionDescriptor, bool[], bool[])[]
        {
            // LeNet conv2, ResNet-18's 3x3 layers at 32x32 and 4x4, its stem, a strided layer, a 1x1 shortcut;
            // which passes run direct with AVX-512 and with AVX2.
            (new(2, 6, 12, 12, 16, 5, 5), [true, false, true], [true, false, true]),
            (new(2, 64, 32, 32, 64, 3, 3, padH: 1, padW: 1), [true, true, false], [true, true, false]),
            (new(2, 512, 4, 4, 512, 3, 3, padH: 1, padW: 1), [true, true, false], [false, false, false]),
            (new(2, 3, 32, 32, 64, 3, 3, padH: 1, padW: 1), [true, false, true], [true, false, false]),
            (new(2, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1), [true, false, false], [true, false, false]),
            (new(2, 64, 32, 32, 128, 1, 1, 2, 2), [true, false, true], [true, false, false]),
        };
        foreach (var (d, wide, narrow) in layers)
        {
            bool[] direct = avx512 ? wide : avx2 ? narrow : [false, false, false];
            var rng = new Random(29);
            float[] x = TestData.Uniform(rng, d.InputSize), w = TestData.Uniform(rng, d.WeightSize);
            float[] dy = TestData.Uniform(rng, d.OutputSize);
            float[] y = new float[d.OutputSize], dx = new float[d.InputSize], dw = new float[d.WeightSize];
            CpuConvolution.Forward<float>(d, x, w, [], y);
            CpuConvolution.LastPath.ShouldBe(Expected(direct[0]), $"{d} forward");
            CpuConvolution.BackwardData<float>(d, dy, w, dx);
            CpuConvolution.LastPath.ShouldBe(Expected(direct[1]), $"{d} backward data");
            CpuConvolution.BackwardWeight<float>(d, x, dy, dw);
            CpuConvolution.LastPath.ShouldBe(Expected(direct[2]), $"{d} backward weight");
        }

        static CpuConvolutionPath Expected(bool direct) =>
            direct ? CpuConvolutionPath.Direct : CpuConvolutionPath.Packed;
    }

    /// <summary>
    /// Forward, backward data and backward weight with the path forced and the column budget set (0: default),
    /// into buffers filled with <paramref name="fill"/> so that an element left unwritten shows.
    /// </summary>
    private static (T[] Y, T[] Dx, T[] Dw) Run<T>(string path, long budget, ConvolutionDescriptor d, T[] x, T[] w,
        T[] b, T[] dy, T fill)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] y = Filled(d.OutputSize, fill), dx = Filled(d.InputSize, fill), dw = Filled(d.WeightSize, fill);
        var savedPath = CpuConvolution.Path;
        long savedBudget = CpuConvolution.ColumnBytes;
        try
        {
            // Packed256 and Direct256: the packed path with the padded-plane im2col, and the direct kernels, in
            // their Vector256 (AVX2) form.
            CpuConvolution.PlanesWithVector256 = path == "Packed256";
            CpuConvolution.DirectWithVector256 = path == "Direct256";
            CpuConvolution.Path = Enum.Parse<CpuConvolutionPath>(path.Replace("256", ""));
            if (budget > 0) CpuConvolution.ColumnBytes = budget;
            CpuConvolution.Forward<T>(d, x, w, b, y);
            CpuConvolution.BackwardData<T>(d, dy, w, dx);
            CpuConvolution.BackwardWeight<T>(d, x, dy, dw);
        }
        finally
        {
            CpuConvolution.PlanesWithVector256 = false;
            CpuConvolution.DirectWithVector256 = false;
            CpuConvolution.Path = savedPath;
            CpuConvolution.ColumnBytes = savedBudget;
        }
        return (y, dx, dw);
    }

    private static T[] Filled<T>(long count, T value)
    {
        var a = new T[count];
        Array.Fill(a, value);
        return a;
    }

    private static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    private static float[] ToSingle(double[] a) => Array.ConvertAll(a, v => (float)v);
}
