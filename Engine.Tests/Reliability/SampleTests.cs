using Engine.Samples.FashionMnist;

namespace Engine.Tests.Reliability;

/// <summary>The Fashion-MNIST sample's main, run in-process on a tiny fake dataset.</summary>
[NonParallelizable]
public class SampleTests
{
    private string folder = "";

    [SetUp]
    public void CreateData()
    {
        folder = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), $"engine-sample-{Guid.NewGuid():N}")).FullName;
        var rng = new Random(3);
        foreach (var (prefix, n) in new[] { ("train", 64), ("t10k", 16) })
        {
            var pixels = new byte[n * 28 * 28];
            rng.NextBytes(pixels);
            var labels = new byte[n];
            for (int i = 0; i < n; i++) labels[i] = (byte)rng.Next(10);
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"),
                FileValidationTests.Idx([n, 28, 28], pixels));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"),
                FileValidationTests.Idx([n], labels));
        }
    }

    [TearDown]
    public void DeleteData() => Directory.Delete(folder, recursive: true);

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        var entry = typeof(Options).Assembly.EntryPoint!;
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = (int)entry.Invoke(null, [args])!;
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    private static void ShouldBeAOneLineUserError((int Code, string Out, string Error) result, int code)
    {
        result.Code.ShouldBe(code, result.Error);
        result.Error.Trim().ShouldStartWith("error: ");
        result.Error.Trim().ShouldNotContain("\n");
        result.Error.ShouldNotContain("   at ");
        result.Out.ShouldNotContain("epoch");
    }

    [TestCase("inf")]
    [TestCase("Infinity")]
    [TestCase("1e400")]
    [TestCase("NaN")]
    public void InfiniteLearningRatesAreAOneLineError(string lr)
    {
        var result = Run("--data", folder, "--lr", lr);
        ShouldBeAOneLineUserError(result, 2);
        result.Error.ShouldContain("--lr");
    }

    [Test]
    public void SaveIsCheckedBeforeTraining()
    {
        var missing = Run("--data", folder, "--save", Path.Combine(folder, "no", "such", "model.params"));
        ShouldBeAOneLineUserError(missing, 2);
        missing.Error.ShouldContain("does not exist");
        var isFolder = Run("--data", folder, "--save", folder);
        ShouldBeAOneLineUserError(isFolder, 2);
        isFolder.Error.ShouldContain("is a folder");
    }

    [Test]
    public void ADivergingRunStopsWithAClearMessageAndANonZeroExit()
    {
        var result = Run("--data", folder, "--epochs", "3", "--batch-size", "16", "--optimizer", "sgd",
            "--lr", "1e30", "--save", Path.Combine(folder, "model.params"));
        result.Code.ShouldBe(3, result.Error);
        result.Error.ShouldContain("training diverged");
        result.Error.ShouldContain("--lr");
        result.Error.ShouldNotContain("   at ");
        File.Exists(Path.Combine(folder, "model.params")).ShouldBeFalse("a diverged model is not saved");
    }

    [Test]
    public void AHealthyRunTrainsAndSaves()
    {
        string save = Path.Combine(folder, "model.params");
        var result = Run("--data", folder, "--epochs", "1", "--batch-size", "16", "--save", save);
        result.Code.ShouldBe(0, result.Error);
        result.Out.ShouldContain("test accuracy: ");
        File.Exists(save).ShouldBeTrue();
    }
}
