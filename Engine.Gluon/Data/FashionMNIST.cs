namespace Engine.Gluon.Data;

/// <summary>
/// The Fashion-MNIST dataset (70,000 28x28 grey images of clothes in 10 classes): MXNet's
/// <c>gluon.data.vision.FashionMNIST</c>, with MXNet's <c>ToTensor</c> already applied. Samples are
/// (image, label): the image float32 (1, 28, 28) scaled to [0, 1] (byte / 255), the label a float32 scalar 0 to 9
/// by default (MXNet keeps int32; the losses and metrics take either, and <c>labelDType: DType.Int32</c> gives
/// int32).
/// </summary>
/// <remarks>
/// The files are read from <see cref="DefaultRoot"/>, where Debian's <c>dataset-fashion-mnist</c> package puts
/// them, or from <c>root</c>: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz (60,000 samples) and
/// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (10,000), each also accepted uncompressed (without .gz).
/// It is an <see cref="ArrayDataset"/>, so <see cref="DataLoader"/> batches it by copying rows.
/// </remarks>
public sealed class FashionMNIST : ArrayDataset
{
    /// <summary>Where <c>apt-get install dataset-fashion-mnist</c> puts the files.</summary>
    public const string DefaultRoot = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <param name="train">The 60,000 training samples, or else the 10,000 test samples.</param>
    /// <param name="root">The folder that holds the files; <see cref="DefaultRoot"/> when null.</param>
    /// <param name="limit">Read only the first <paramref name="limit"/> samples (for quick runs and tests).</param>
    /// <param name="labelDType">Float32 (default), Int32 or UInt8.</param>
    public FashionMNIST(bool train = true, string? root = null, int? limit = null,
        DType labelDType = DType.Float32)
        : base(Load(train, root ?? DefaultRoot, limit, labelDType), adopt: true)
    {
        Train = train;
        Root = root ?? DefaultRoot;
    }

    public bool Train { get; }

    public string Root { get; }

    private static NDArray[] Load(bool train, string root, int? limit, DType labelDType)
    {
        string prefix = train ? "train" : "t10k";
        string imagesPath = Find(root, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(root, $"{prefix}-labels-idx1-ubyte");
        var (images, imageCount) = MnistIdx.ReadImages(imagesPath, limit, nameof(FashionMNIST));
        try
        {
            if (images.Shape[2] != 28 || images.Shape[3] != 28)
                throw new InvalidDataException(
                    $"FashionMNIST: {imagesPath}: wrong dims: the images are {images.Shape[2]}x{images.Shape[3]}, " +
                    "not 28x28; for other MNIST-format data use MnistIdx.Load.");
            var (labels, labelCount) = MnistIdx.ReadLabels(labelsPath, limit, labelDType, nameof(FashionMNIST));
            try
            {
                MnistIdx.CheckCounts(imagesPath, imageCount, labelsPath, labelCount, nameof(FashionMNIST));
                CheckLabels(labels, labelsPath);
                return [images, labels];
            }
            catch
            {
                labels.Dispose();
                throw;
            }
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    private static void CheckLabels(NDArray labels, string path)
    {
        var values = labels.ToArray<int>();
        for (int i = 0; i < values.Length; i++)
            if (values[i] is < 0 or > 9)
                throw new InvalidDataException(
                    $"FashionMNIST: {path}: label {values[i]} of sample {i} is out of range; Fashion-MNIST labels " +
                    "are 0 to 9.");
    }

    private static string Find(string root, string name)
    {
        string help =
            "Install the dataset with `apt-get install dataset-fashion-mnist` (it puts the files in " +
            $"{DefaultRoot}), or put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " +
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in a folder and pass that folder as root " +
            "(the Fashion-MNIST sample's --data flag).";
        if (!Directory.Exists(root))
            throw new FileNotFoundException($"FashionMNIST: the folder {root} does not exist. {help}", root);
        string gz = Path.Combine(root, name + ".gz");
        if (File.Exists(gz)) return gz;
        string plain = Path.Combine(root, name);
        if (File.Exists(plain)) return plain;
        throw new FileNotFoundException($"FashionMNIST: {gz} was not found (nor {name} uncompressed). {help}", gz);
    }
}
