using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Engine.Samples.FashionMnist;
using NUnit.Framework;

namespace Engine.Tests.Gpu;

/// <summary>
/// samples/FashionMnist trains LeNet through the GPU backend (Gluon layers, autograd, the trainer) for a few batches
/// of a small seeded dataset, in process, once on the CPU and once with --device on the GPU device: the epoch's mean
/// training loss and the accuracies must agree.
/// </summary>
public sealed partial class FashionMnistSampleTests : GpuFixture
{
    private string folder = "";

    [SetUp]
    public void CreateData()
    {
        folder = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), $"engine-gpu-sample-{Guid.NewGuid():N}")).FullName;
        var rng = new Random(5);
        foreach (var (prefix, n) in new[] { ("train", 8), ("t10k", 4) })
        {
            var pixels = new byte[n * 28 * 28];
            rng.NextBytes(pixels);
            var labels = new byte[n];
            for (int i = 0; i < n; i++) labels[i] = (byte)rng.Next(10);
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), Idx([n, 28, 28], pixels));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), Idx([n], labels));
        }
    }

    [TearDown]
    public void DeleteData() => Directory.Delete(folder, recursive: true);

    [Test]
    public void LeNetTrainsToTheSameLossAsOnTheCpu()
    {
        string[] common = ["--data", folder, "--model", "lenet", "--epochs", "1", "--batch-size", "4", "--seed", "1"];
        var cpu = Run([.. common, "--device", "cpu"]);
        var gpu = Run([.. common, "--device", TestDevice.ToString()]);
        gpu.Out.ShouldContain($"model lenet on {TestDevice}");
        var (cpuLoss, cpuTrain, cpuTest) = Figures(cpu.Out);
        var (gpuLoss, gpuTrain, gpuTest) = Figures(gpu.Out);
        // Two batches of LeNet in float32: the losses printed to 4 decimals agree to within a unit or two there.
        Math.Abs(gpuLoss - cpuLoss).ShouldBeLessThanOrEqualTo(2e-4, $"CPU:\n{cpu.Out}\nGPU:\n{gpu.Out}");
        gpuTrain.ShouldBe(cpuTrain);
        gpuTest.ShouldBe(cpuTest);
    }

    private static (double Loss, double Train, double Test) Figures(string output)
    {
        var m = EpochLine().Match(output);
        m.Success.ShouldBeTrue($"no epoch line in:\n{output}");
        double Read(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return (Read(1), Read(2), Read(3));
    }

    [GeneratedRegex(@"epoch 1: loss ([0-9.]+), train accuracy ([0-9.]+), test accuracy ([0-9.]+)")]
    private static partial Regex EpochLine();

    private static (int Code, string Out) Run(string[] args)
    {
        var entry = typeof(Options).Assembly.EntryPoint!;
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        int code;
        try
        {
            code = (int)entry.Invoke(null, [args])!;
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
        code.ShouldBe(0, stderr.ToString());
        return (code, stdout.ToString());
    }

    /// <summary>An IDX file of unsigned bytes (the MNIST format): magic, big-endian dimensions, data.</summary>
    private static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }
}
